"""Placing one call: save its dial record, ask Exotel to dial, remember Exotel's call sid.

Shared by POST /dialout (routes.py) and `python -m exotel_bot.outbound --direct`. In `stream`
mode (EXOTEL_OUTBOUND_MODE, Connect Voice AI) the `StreamUrl` is the bot's websocket with the
dial's public ref added as `dial=<ref>`:

- this server or several workers: `wss://PUBLIC_URL-host/ws?dial=<ref>` (VOICEBOT_WS_URL wins);
- Pipecat Cloud: `wss://api.pipecat.daily.co/ws/exotel?serviceHost=AGENT.ORG&dial=<ref>`.

The bot finds the dial by that ref (from `start.custom_parameters`, or the websocket's own
query string), else by Exotel's call sid, else by number (dials.py). The context itself never
travels in the URL: it waits in the shared store (memory, or Redis across processes).
"""

from __future__ import annotations

from urllib.parse import urlencode

from loguru import logger

from exotel_bot.logs import call_logging
from exotel_bot.outbound.connect_forms import FLOW_EVENTS, MAX_STREAM_URL_CHARS, STREAM_EVENTS
from exotel_bot.outbound.dials import DIAL_PARAMETER, DialRecord, dial_store
from exotel_bot.outbound.exotel_api import ExotelApiSettings, ExotelClient, ExotelError
from exotel_bot.settings import ConfigError, Settings, load_settings
from exotel_bot.stores import StoreUnavailable
from exotel_bot.wire.urls import exotel_url, pipecat_cloud_url, with_parameter


def bot_stream_url(settings: Settings) -> str:
    """The websocket Exotel streams a placed call to: VOICEBOT_WS_URL, else Pipecat Cloud's
    URL (PIPECAT_CLOUD_SERVICE_HOST), else PUBLIC_URL's `/ws`. ConfigError when none is set."""
    if settings.voicebot_ws_url:
        return settings.voicebot_ws_url
    if settings.pipecat_cloud_service_host:
        return pipecat_cloud_url(settings.pipecat_cloud_service_host, settings.pipecat_cloud_region)
    if settings.public_url:
        return exotel_url(settings.public_url)
    raise ConfigError(
        "EXOTEL_OUTBOUND_MODE=stream needs the bot's websocket address: set PUBLIC_URL "
        "(your https host), VOICEBOT_WS_URL or PIPECAT_CLOUD_SERVICE_HOST"
    )


def dial_stream_url(base: str, ref: str) -> str:
    """`base` with `dial=<ref>` added; without it if that would break Exotel's custom parameter
    limits (3 pairs, 256 characters) or StreamUrl's 600 characters (the call sid then matches)."""
    tagged = with_parameter(base, DIAL_PARAMETER, ref)
    if tagged is None or len(tagged) > MAX_STREAM_URL_CHARS:
        logger.warning("The stream URL has no room for the dial reference; matching by call sid")
        return base
    return tagged


def status_callback_url(dial_id: str) -> str | None:
    """Where Exotel posts the outcome: PUBLIC_URL/exotel/status, signed with the dial's id."""
    public = load_settings(require_keys=False).public_url.rstrip("/")
    if not public.startswith(("https://", "http://")):
        logger.info("No PUBLIC_URL: Exotel will not report this call's outcome to /exotel/status")
        return None
    return f"{public}/exotel/status?{urlencode({'dial': dial_id})}"


async def save_quietly(record: DialRecord) -> None:
    """Save the record; a store that is down is logged (the dial's ref and number still match)."""
    try:
        await dial_store().save(record)
    except StoreUnavailable as e:
        logger.error(f"Could not update the dial to {record.to} ({e})")


async def place(
    record: DialRecord,
    api: ExotelApiSettings,
    *,
    time_limit: int | None = None,
    custom_field: str | None = None,
) -> str:
    """Save `record`, have Exotel dial `record.to`, save Exotel's call sid; return the sid.

    Raises StoreUnavailable before dialling when the record cannot be saved (no record, no
    context: nobody is called), ExotelError (the record is kept as `failed`), ConfigError
    when stream mode has no websocket address, ValueError for a field out of Exotel's limits.
    """
    settings = load_settings(require_keys=False)
    stream = api.mode == "stream"
    stream_url = dial_stream_url(bot_stream_url(settings), record.ref) if stream else ""
    await dial_store().save(record)  # before dialling: the callee may answer very fast
    callback = status_callback_url(record.dial_id)
    try:
        async with ExotelClient(api) as exotel:
            if api.mode == "stream":
                placed = await exotel.connect_to_stream(
                    record.to,
                    stream_url,
                    time_limit=time_limit,
                    status_callback=callback,
                    status_callback_events=STREAM_EVENTS,
                    custom_field=custom_field,
                )
            else:
                placed = await exotel.connect_to_flow(
                    record.to,
                    time_limit=time_limit,
                    status_callback=callback,
                    status_callback_events=FLOW_EVENTS,
                    custom_field=custom_field,
                )
    except (ExotelError, ValueError) as e:
        record.status = "failed"
        record.outcome = "failed"
        await save_quietly(record)
        logger.warning(f"Could not dial {record.to}: {e}")
        raise
    record.call_sid = placed.call_sid
    with call_logging(placed.call_sid):
        await save_quietly(record)  # the call is placed: never fail now
        logger.info(
            f"Dialling {record.to}: Exotel call {placed.call_sid} via {api.mode} "
            f"({placed.status or 'queued'}; context: {sorted(record.context)})"
        )
    return placed.call_sid
