"""Exotel's wire format: pipecat's serializer, plus `stop`, `mark` echoes and bad-input handling.

Pipecat's `ExotelFrameSerializer` ignores `stop` and `mark`; a phone bot needs both (the caller
hung up; the caller has now heard this audio). They go into the pipeline as
`InputTransportMessageFrame`s, which `exotel_bot.call.control.CallControl` acts on. Broken messages
are logged (once per kind, so a flood cannot flood the log) and dropped; they never end a call.

Two limits keep one hostile caller from costing the other calls: messages over
`max_message_bytes` are dropped unread (server.py's uvicorn refuses them even earlier), and
caller audio arriving faster than real time, beyond a few seconds of catch-up, is dropped
instead of being fed to the VAD, the turn model and Deepgram.
"""

from __future__ import annotations

import base64
import binascii
import json
import time

from loguru import logger
from pipecat.frames.frames import Frame, InputAudioRawFrame, InputTransportMessageFrame
from pipecat.serializers.exotel import ExotelFrameSerializer

# Exotel events that carry no audio but matter to the call.
CONTROL_EVENTS = ("stop", "mark")
# Exotel events that need nothing from us.
QUIET_EVENTS = ("connected", "start")

DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024
# Caller audio may run this many seconds ahead of the wall clock (network hiccups deliver
# audio in bursts), and arrive this much faster than real time on average (clock drift).
AUDIO_BURST_SECS = 5.0
AUDIO_RATE_SLACK = 1.1


class RealTimeBudget:
    """A token bucket in seconds of audio: refills in real time, holds at most `burst`."""

    def __init__(self, burst: float = AUDIO_BURST_SECS, rate: float = AUDIO_RATE_SLACK):
        self.burst = burst
        self.rate = rate
        self._tokens = burst
        self._last: float | None = None

    def take(self, seconds: float, now: float | None = None) -> bool:
        """Spend `seconds` of audio if the budget allows it (else spend nothing)."""
        now = time.monotonic() if now is None else now
        if self._last is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if seconds > self._tokens:
            return False
        self._tokens -= seconds
        return True


class ExotelSerializer(ExotelFrameSerializer):
    """Exotel media in and out, with `stop`/`mark` passed on and malformed input dropped safely."""

    def __init__(
        self,
        stream_sid: str,
        call_sid: str,
        *,
        sample_rate: int = 8000,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ):
        super().__init__(
            stream_sid,
            call_sid,
            params=ExotelFrameSerializer.InputParams(exotel_sample_rate=sample_rate),
        )
        self._max_message_bytes = max_message_bytes
        self._audio_budget = RealTimeBudget()
        self._warned: set[str] = set()
        self.dropped = 0

    def _drop(self, kind: str, detail: str = "") -> None:
        self.dropped += 1
        if kind not in self._warned:
            self._warned.add(kind)
            logger.warning(f"Dropping {kind} from Exotel{': ' + detail if detail else ''}")

    async def deserialize(self, data: str | bytes) -> Frame | None:
        if isinstance(data, bytes):
            self._drop("a binary frame")
            return None
        if len(data) > self._max_message_bytes:  # characters: at least as many bytes
            self._drop(f"a message over {self._max_message_bytes} bytes (MAX_MESSAGE_BYTES)")
            return None
        try:
            message = json.loads(data)
        except (json.JSONDecodeError, RecursionError):
            self._drop("a message that is not JSON", repr(data[:80]))
            return None
        if not isinstance(message, dict):
            self._drop("a JSON message that is not an object")
            return None

        event = message.get("event")
        if event == "media":
            return await self._media(message)
        if event in CONTROL_EVENTS:
            return InputTransportMessageFrame(message=message)
        if event == "dtmf":
            return await super().deserialize(data)
        if event not in QUIET_EVENTS:
            self._drop(f"an unknown event {str(event)[:40]!r}")
        return None

    async def _media(self, message: dict) -> Frame | None:
        media = message.get("media")
        payload = media.get("payload") if isinstance(media, dict) else None
        if not payload or not isinstance(payload, str):
            self._drop("a media message without a payload")
            return None
        try:
            pcm = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            self._drop("a media payload that is not base64")
            return None
        if len(pcm) % 2:
            self._drop("a media payload with an odd number of bytes (not 16-bit PCM)")
            pcm = pcm[:-1]
        if not pcm:
            return None
        if not self._audio_budget.take(len(pcm) / (2 * self._exotel_sample_rate)):
            self._drop("caller audio arriving faster than real time")
            return None
        audio = await self._input_resampler.resample(
            pcm, self._exotel_sample_rate, self._sample_rate
        )
        if not audio:
            return None
        return InputAudioRawFrame(audio=audio, num_channels=1, sample_rate=self._sample_rate)
