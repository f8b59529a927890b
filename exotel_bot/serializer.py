"""Exotel's wire format: pipecat's serializer, plus `stop`, `mark` echoes and bad-input handling.

Pipecat's `ExotelFrameSerializer` ignores `stop` and `mark`; a phone bot needs both (the caller
hung up; the caller has now heard this audio). They go into the pipeline as
`InputTransportMessageFrame`s, which `exotel_bot.control.CallControl` acts on. Broken messages
are logged (once per kind, so a flood cannot flood the log) and dropped; they never end a call.
"""

from __future__ import annotations

import base64
import binascii
import json

from loguru import logger
from pipecat.frames.frames import Frame, InputAudioRawFrame, InputTransportMessageFrame
from pipecat.serializers.exotel import ExotelFrameSerializer

# Exotel events that carry no audio but matter to the call.
CONTROL_EVENTS = ("stop", "mark")
# Exotel events that need nothing from us.
QUIET_EVENTS = ("connected", "start")


class ExotelSerializer(ExotelFrameSerializer):
    """Exotel media in and out, with `stop`/`mark` passed on and malformed input dropped safely."""

    def __init__(self, stream_sid: str, call_sid: str, *, sample_rate: int = 8000):
        super().__init__(
            stream_sid,
            call_sid,
            params=ExotelFrameSerializer.InputParams(exotel_sample_rate=sample_rate),
        )
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
        audio = await self._input_resampler.resample(
            pcm, self._exotel_sample_rate, self._sample_rate
        )
        if not audio:
            return None
        return InputAudioRawFrame(audio=audio, num_channels=1, sample_rate=self._sample_rate)
