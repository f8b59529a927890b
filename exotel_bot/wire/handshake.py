"""Who is calling: read Exotel's `connected`/`start` handshake and refuse anything else cleanly.

Our own reader, in place of pipecat's `parse_telephony_websocket` (which knows one shape and
reads two messages blindly). It reads frames until `start` and not one frame further, so the
first `media` after a `start` that came without `connected` reaches the call untouched. It
accepts every shape Exotel documents or its own clients send (see docs/exotel-wire.md):

- `connected` present or absent; `event` or `Event`;
- snake_case or camelCase keys (`stream_sid`/`streamSid`, `media_format`/`mediaFormat`, ...);
- the ids at the top level of `start`, inside `start.start`, or both;
- strings or numbers (`"sample_rate": "8000"` or `8000`);
- L16 at 8/16/24 kHz or mu-law at 8 kHz (exotel_bot/wire/media_format.py).

It refuses (close 1008, with the reason) Twilio's `start` (it carries `start.tracks`), a
`start` without stream, call and account ids, an encoding it cannot speak, garbage, binary
frames, anything else before `start`, and a socket with no `start` within the timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from loguru import logger
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from exotel_bot.security import account_allowed
from exotel_bot.wire.fields import as_text, event_name, read, read_dict
from exotel_bot.wire.media_format import (
    L16,
    MediaFormat,
    UnsupportedMediaFormat,
    parse_media_format,
)

SUPPORTED_SAMPLE_RATES = (8000, 16000, 24000)

# Silero VAD and the turn model hear 8 or 16 kHz only: a 24 kHz stream is heard at 16 kHz
# (the serializer resamples the caller's audio) while the bot still speaks at 24 kHz.
MAX_LISTEN_SAMPLE_RATE = 16000
# Frames Exotel may send before `start` (`connected`); more than this is not Exotel.
MAX_FRAMES_BEFORE_START = 3

SNAKE = "snake"
CAMEL = "camel"


class HandshakeError(Exception):
    """The websocket did not open like an Exotel Voicebot call."""


@dataclass(frozen=True)
class ExotelCall:
    """One phone call, as Exotel's `start` message describes it.

    `encoding` (L16 or mu-law) and `sample_rate` are the stream's audio; `key_style` is how
    the call spelled its stream id (`snake`: stream_sid, `camel`: streamSid), so the bot
    answers in the same dialect.
    """

    call_sid: str
    stream_sid: str
    account_sid: str
    from_number: str
    to_number: str
    sample_rate: int = 8000
    custom_parameters: dict[str, str] = field(default_factory=dict)
    # Outbound calls (placed through /dialout): filled in by exotel_bot.outbound.match_dial().
    direction: str = "inbound"
    dial_context: dict[str, Any] = field(default_factory=dict)
    wait_for_hello: bool = False
    encoding: str = L16
    key_style: str = SNAKE

    @property
    def listen_sample_rate(self) -> int:
        """The rate the pipeline hears the caller at (the stream's, capped for the VAD)."""
        return min(self.sample_rate, MAX_LISTEN_SAMPLE_RATE)

    @property
    def media_format(self) -> MediaFormat:
        return MediaFormat(self.encoding, self.sample_rate)


def _custom_parameters(value: Any) -> dict[str, str]:
    """Custom parameters as a dict of strings (Exotel sends a dict; some clients send JSON text)."""
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except (json.JSONDecodeError, RecursionError):
            return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def _id(message: dict, start: dict, name: str) -> str:
    """An id from inside `start` or from the top level (Exotel's test client), as text."""
    for where in (start, message):
        value = as_text(read(where, name))
        if value and value.strip():
            return value.strip()
    return ""


def _key_style(message: dict, start: dict) -> str:
    snake = "stream_sid" in message or "stream_sid" in start
    camel = "streamSid" in message or "streamSid" in start
    return CAMEL if camel and not snake else SNAKE


def parse_start(message: dict, url_sample_rate: str | None = None) -> ExotelCall:
    """The call a `start` message describes; HandshakeError (naming the problem) if none."""
    start = read_dict(message, "start")
    if "tracks" in start:
        raise HandshakeError("not an Exotel call: a Twilio start (it carries start.tracks)")
    call_sid, stream_sid = _id(message, start, "call_sid"), _id(message, start, "stream_sid")
    account_sid = _id(message, start, "account_sid")
    missing = [
        name
        for name, value in (
            ("stream_sid", stream_sid),
            ("call_sid", call_sid),
            ("account_sid", account_sid),
        )
        if not value
    ]
    if missing:
        raise HandshakeError(f"not an Exotel call: its start has no {', '.join(missing)}")
    media_format = read_dict(start, "media_format") or read_dict(message, "media_format")
    try:
        fmt = parse_media_format(media_format, url_sample_rate)
    except UnsupportedMediaFormat as e:
        raise HandshakeError(str(e)) from None
    return ExotelCall(
        call_sid=call_sid[:128],
        stream_sid=stream_sid[:128],
        account_sid=account_sid[:128],
        from_number=_id(message, start, "from")[:64],
        to_number=_id(message, start, "to")[:64],
        sample_rate=fmt.sample_rate,
        custom_parameters=_custom_parameters(read(start, "custom_parameters")),
        encoding=fmt.encoding,
        key_style=_key_style(message, start),
    )


async def _read_start(websocket: WebSocket, timeout: float) -> dict:
    """Frames up to and including `start` (never one more); the `start` message."""
    deadline = time.monotonic() + timeout
    for _ in range(MAX_FRAMES_BEFORE_START + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            frame = await asyncio.wait_for(websocket.receive(), remaining)
        except TimeoutError:
            break
        if frame["type"] == "websocket.disconnect":
            raise HandshakeError("the websocket closed before Exotel's start message")
        text = frame.get("text")
        if text is None:
            raise HandshakeError("a binary frame arrived before Exotel's start message")
        try:
            message = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            raise HandshakeError("not an Exotel call: a message that is not JSON") from None
        if not isinstance(message, dict):
            raise HandshakeError("not an Exotel call: a JSON message that is not an object")
        event = event_name(message)
        if event == "start":
            return message
        if event != "connected":
            shown = (event or "no event")[:40]
            raise HandshakeError(f"not an Exotel call: {shown!r} before the start message")
    raise HandshakeError(f"no Exotel start message within {timeout:.0f} s")


async def close_quietly(websocket: WebSocket, code: int = 1000, reason: str = "") -> None:
    """Close the websocket if it is still open; a peer that already left is not an error."""
    if websocket.client_state != WebSocketState.CONNECTED:
        return
    with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
        # A close reason may hold at most 123 bytes.
        await websocket.close(code=code, reason=reason.encode()[:120].decode(errors="ignore"))


async def accept_exotel_call(
    websocket: WebSocket, timeout: float = 10.0, allowed_accounts: Iterable[str] = ()
) -> ExotelCall | None:
    """Read the call's first frames: the call, or None once the refusal is logged and closed.

    With `allowed_accounts` (EXOTEL_ALLOWED_ACCOUNTS), a `start` from any other Exotel
    account is refused too: this check runs wherever bot() runs, Pipecat Cloud included.
    """
    try:
        start = await _read_start(websocket, timeout)
        call = parse_start(start, websocket.query_params.get("sample-rate"))
    except HandshakeError as e:
        reason = str(e)
    except WebSocketDisconnect:
        reason = "the websocket closed before Exotel's start message"
    except Exception as e:  # never crash on a handshake: refuse it
        reason = f"unreadable handshake ({e.__class__.__name__}: {e})"
    else:
        if account_allowed(call.account_sid, allowed_accounts):
            return call
        reason = f"account {call.account_sid[:40]!r} is not in EXOTEL_ALLOWED_ACCOUNTS"

    logger.warning(f"Refusing websocket: {reason}")
    await close_quietly(websocket, code=1008, reason=reason)
    return None
