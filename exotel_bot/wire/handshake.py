"""Who is calling: read Exotel's `connected`/`start` handshake and refuse anything else cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from loguru import logger
from pipecat.runner.utils import parse_telephony_websocket
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from exotel_bot.security import account_allowed

SUPPORTED_SAMPLE_RATES = (8000, 16000, 24000)

# Silero VAD and the turn model hear 8 or 16 kHz only: a 24 kHz stream is heard at 16 kHz
# (the serializer resamples the caller's audio) while the bot still speaks at 24 kHz.
MAX_LISTEN_SAMPLE_RATE = 16000


class HandshakeError(Exception):
    """The websocket did not open like an Exotel Voicebot call."""


@dataclass(frozen=True)
class ExotelCall:
    """One phone call, as Exotel's `start` message describes it."""

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

    @property
    def listen_sample_rate(self) -> int:
        """The rate the pipeline hears the caller at (the stream's, capped for the VAD)."""
        return min(self.sample_rate, MAX_LISTEN_SAMPLE_RATE)


class _HandshakeRecorder:
    """Hands the websocket's text frames to pipecat's parser and keeps a copy of each.

    `parse_telephony_websocket` keeps only some fields of `start`; we also want
    `media_format`, so we watch the same frames go by instead of reading them twice.
    """

    def __init__(self, websocket: WebSocket):
        self._websocket = websocket
        self.frames: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._websocket, name)

    async def iter_text(self):
        while True:
            message = await self._websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                raise HandshakeError("a binary frame arrived before Exotel's start message")
            self.frames.append(text)
            yield text


def _start_message(frames: list[str]) -> dict:
    for text in frames:
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(message, dict) and message.get("event") == "start":
            return message
    return {}


def _sample_rate(start: dict, websocket: WebSocket) -> int:
    """The stream's rate: the start's `media_format`, else the URL's `sample-rate`, else 8 kHz."""
    media_format = (start.get("start") or {}).get("media_format") or {}
    candidates = [media_format.get("sample_rate"), websocket.query_params.get("sample-rate")]
    for raw in candidates:
        if raw in (None, ""):
            continue
        try:
            rate = int(float(raw))
        except (TypeError, ValueError):
            logger.warning(f"Ignoring a sample rate that is not a number: {raw!r}")
            continue
        if rate in SUPPORTED_SAMPLE_RATES:
            return rate
        logger.warning(f"Ignoring unsupported sample rate {rate} Hz; Exotel streams 8/16/24 kHz")
    return 8000


def _custom_parameters(value: Any) -> dict[str, str]:
    """Custom parameters as a dict of strings (Exotel sends a dict; some clients send JSON text)."""
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


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
    recorder = _HandshakeRecorder(websocket)
    try:
        transport_type, call_data = await asyncio.wait_for(
            parse_telephony_websocket(recorder), timeout
        )
    except TimeoutError:
        reason = f"no Exotel start message within {timeout:.0f} s"
    except (HandshakeError, ValueError, WebSocketDisconnect) as e:
        reason = str(e) or e.__class__.__name__
    except Exception as e:  # pipecat's parser can raise on odd shapes; refuse, never crash
        reason = f"unreadable handshake ({e.__class__.__name__}: {e})"
    else:
        if transport_type == "exotel" and call_data.call_id and call_data.stream_id:
            start = _start_message(recorder.frames)
            call = ExotelCall(
                call_sid=str(call_data.call_id),
                stream_sid=str(call_data.stream_id),
                account_sid=str(call_data.account_sid or ""),
                from_number=str(call_data.from_number or ""),
                to_number=str(call_data.to_number or ""),
                sample_rate=_sample_rate(start, websocket),
                custom_parameters=_custom_parameters(call_data.custom_parameters),
            )
            if account_allowed(call.account_sid, allowed_accounts):
                return call
            reason = f"account {call.account_sid[:40]!r} is not in EXOTEL_ALLOWED_ACCOUNTS"
        else:
            reason = (
                f"not an Exotel call (detected {transport_type!r}); expected a start event with "
                "stream_sid, call_sid and account_sid"
            )

    logger.warning(f"Refusing websocket: {reason}")
    await close_quietly(websocket, code=1008, reason=reason)
    return None
