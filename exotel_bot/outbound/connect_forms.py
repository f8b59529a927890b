"""The two ways Exotel's `POST /v1/Accounts/{sid}/Calls/connect` places a call for the bot.

- **Connect Voice AI** (`stream`, the default): Exotel dials `From` and, once answered, opens
  the websocket to `StreamUrl` itself. No App Bazaar flow. Fields and limits from Exotel's
  "Connect Voice AI API" page (developer.exotel.com/docs/agentstream/connect-voice-ai) and the
  AgentStream developer guide: `From`, `CallerId`, `StreamType=bidirectional`, `StreamUrl`
  (ws:// or wss://, at most 600 characters, may carry `?sample-rate=8000|16000|24000`),
  optional `StreamName` (<= 32), `Record` (true/false), `RecordingChannels` (single|dual),
  `TimeLimit` (<= 14400 s), `CustomField` (<= 128), `StatusCallback`,
  `StatusCallbackEvents[]` (ringing, answered, terminal). Exotel's `voicebot-quick-starter`
  README places its calls the same way (StreamType, StreamUrl, From, CallerId, Record).
- **Flow** (`flow`): `Url=http://my.exotel.com/{sid}/exoml/start_voice/{app_id}`; the flow's
  Voicebot applet opens the websocket (Exotel's "Connect Voice AI with Flow" page).

Both are form fields; a value out of Exotel's limits raises ValueError naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MAX_TIME_LIMIT_SECS = 14400
MAX_STREAM_URL_CHARS = 600
MAX_STREAM_NAME_CHARS = 32
MAX_CUSTOM_FIELD_CHARS = 128
STREAM_EVENTS = ("ringing", "answered", "terminal")  # Connect Voice AI
FLOW_EVENTS = ("answered", "terminal")  # Calls/connect into a flow
RECORDING_CHANNELS = ("single", "dual")

Form = list[tuple[str, str]]


def _common(
    form: Form,
    *,
    time_limit: int | None,
    status_callback: str | None,
    status_callback_events: Iterable[str],
    custom_field: str | None,
    allowed_events: tuple[str, ...],
) -> Form:
    if time_limit is not None and not 1 <= time_limit <= MAX_TIME_LIMIT_SECS:
        raise ValueError(f"TimeLimit must be 1..{MAX_TIME_LIMIT_SECS} seconds, not {time_limit}")
    if custom_field is not None and len(custom_field) > MAX_CUSTOM_FIELD_CHARS:
        raise ValueError(f"CustomField must be at most {MAX_CUSTOM_FIELD_CHARS} characters")
    if time_limit is not None:
        form.append(("TimeLimit", str(time_limit)))
    if status_callback:
        form.append(("StatusCallback", status_callback))
    if custom_field:
        form.append(("CustomField", custom_field))
    if status_callback:
        events = list(dict.fromkeys(status_callback_events))
        unknown = [e for e in events if e not in allowed_events]
        if unknown:
            raise ValueError(
                f"StatusCallbackEvents[] may be {', '.join(allowed_events)}; not {unknown}"
            )
        form += [("StatusCallbackEvents[]", event) for event in events]
    return form


def stream_form(
    customer: str,
    caller_id: str,
    stream_url: str,
    *,
    stream_name: str = "",
    record: bool = False,
    recording_channels: str = "single",
    time_limit: int | None = None,
    status_callback: str | None = None,
    status_callback_events: Iterable[str] = STREAM_EVENTS,
    custom_field: str | None = None,
) -> Form:
    """Connect Voice AI's form: dial `customer`, stream the answered call to `stream_url`."""
    if not stream_url.startswith(("wss://", "ws://")):
        raise ValueError(f"StreamUrl must start with wss:// (or ws://), not {stream_url[:20]!r}")
    if len(stream_url) > MAX_STREAM_URL_CHARS:
        raise ValueError(
            f"StreamUrl is {len(stream_url)} characters; Exotel takes at most "
            f"{MAX_STREAM_URL_CHARS}"
        )
    if len(stream_name) > MAX_STREAM_NAME_CHARS:
        raise ValueError(f"StreamName must be at most {MAX_STREAM_NAME_CHARS} characters")
    if recording_channels not in RECORDING_CHANNELS:
        raise ValueError(f"RecordingChannels must be single or dual, not {recording_channels!r}")
    form: Form = [
        ("From", customer),
        ("CallerId", caller_id),
        ("StreamType", "bidirectional"),
        ("StreamUrl", stream_url),
    ]
    if stream_name:
        form.append(("StreamName", stream_name))
    if record:
        form += [("Record", "true"), ("RecordingChannels", recording_channels)]
    return _common(
        form,
        time_limit=time_limit,
        status_callback=status_callback,
        status_callback_events=status_callback_events,
        custom_field=custom_field,
        allowed_events=STREAM_EVENTS,
    )


def flow_form(
    customer: str,
    caller_id: str,
    flow_url: str,
    *,
    time_limit: int | None = None,
    time_out: int | None = None,
    status_callback: str | None = None,
    status_callback_events: Iterable[str] = ("terminal",),
    custom_field: str | None = None,
    call_type: str | None = None,
) -> Form:
    """The flow path's form: dial `customer`, then run the App Bazaar flow at `flow_url`."""
    form: Form = [("From", customer), ("CallerId", caller_id), ("Url", flow_url)]
    if call_type:
        form.append(("CallType", call_type))
    if time_limit is not None and not 1 <= time_limit <= MAX_TIME_LIMIT_SECS:
        raise ValueError(f"time_limit must be 1..{MAX_TIME_LIMIT_SECS} seconds")
    if time_limit is not None:
        form.append(("TimeLimit", str(time_limit)))
    if time_out is not None:
        form.append(("TimeOut", str(time_out)))
    return _common(
        form,
        time_limit=None,
        status_callback=status_callback,
        status_callback_events=status_callback_events,
        custom_field=custom_field,
        allowed_events=FLOW_EVENTS,
    )


def as_dict(form: Form) -> dict[str, Any]:
    """The form as httpx sends it: a repeated field becomes a list."""
    data: dict[str, Any] = {}
    for key, value in form:
        if key in data:
            data[key] = [*data[key], value] if isinstance(data[key], list) else [data[key], value]
        elif key.endswith("[]"):
            data[key] = [value]
        else:
            data[key] = value
    return data
