"""Exotel's wire format, both ways, in the dialect the call opened with.

In: `media` -> `InputAudioRawFrame` (L16 or mu-law decoded to 16-bit PCM, resampled to the
pipeline's rate); `dtmf` -> `InputDTMFFrame`; `stop` -> `ExotelStopFrame`, `mark` ->
`ExotelMarkFrame` (wire/frames.py; call control acts on them); `connected`, `start`, `clear` and
unknown events are dropped. Out: bot audio -> `media` in the stream's own encoding and rate,
with `sequence_number`, `media.chunk` and `media.timestamp` as Exotel's sample bots send them;
`InterruptionFrame` -> `clear`; `ExotelMarkOutFrame` -> `mark` (any other
`OutputTransportMessageFrame` -> its JSON), with the stream id and sequence number written in
the call's key style.

`ExotelSerializer` is pipecat's `ExotelFrameSerializer` (pipecat/serializers/exotel.py) with
what a real Exotel line needs on top: both key styles (snake_case and camelCase), mu-law as
well as L16, `mark` and `stop`, sequence numbers and chunk timestamps, and hostile-input limits.

No malformed field ever ends a call: every field may be missing, null, a number, a string, a
list or an object. What cannot be used is logged once per kind and dropped; a `stop` always
ends the call whatever its fields hold.

Two limits keep one hostile caller from costing the other calls: messages over
`max_message_bytes` are dropped unread (server.py's uvicorn refuses them even earlier), and
caller audio arriving faster than real time, beyond a few seconds of catch-up, is dropped
instead of being fed to the VAD, the turn model and Deepgram.

Tracks: a stream set to `tracks: both` (Exotel's "Updated Extension Guide (Beta)") sends the
bot's own audio back as `media` with `"track": "outbound"` beside the caller's `"inbound"`.
Only the caller's track (`inbound`, or no `track` at all, as on a default stream) is heard;
any other track is dropped before the real-time budget and counted in `other_track_chunks`,
so the bot never hears itself as the caller and the second track cannot crowd out the first.
"""

from __future__ import annotations

import base64
import binascii
import json
import time

from loguru import logger
from pipecat.audio.dtmf.types import KeypadEntry
from pipecat.audio.utils import create_stream_resampler, pcm_to_ulaw, ulaw_to_pcm
from pipecat.frames.frames import (
    AudioRawFrame,
    Frame,
    InputAudioRawFrame,
    InputDTMFFrame,
    InterruptionFrame,
    OutputTransportMessageFrame,
    OutputTransportMessageUrgentFrame,
)
from pipecat.processors.frame_processor import FrameProcessorSetup
from pipecat.serializers.exotel import ExotelFrameSerializer

from exotel_bot.wire.fields import as_text, event_name, read
from exotel_bot.wire.frames import ExotelMarkFrame, ExotelMarkOutFrame, ExotelStopFrame
from exotel_bot.wire.handshake import CAMEL, ExotelCall
from exotel_bot.wire.media_format import MULAW

# Exotel events that need nothing from us (`clear` is ours to send, not to receive).
QUIET_EVENTS = ("connected", "start", "clear")
# `media.track` values that carry the caller (Exotel's extension guide; absent = inbound).
CALLER_TRACKS = ("inbound", "inbound_track")
KEYPAD = {entry.value: entry for entry in KeypadEntry}

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


def keypad_entry(value: object) -> KeypadEntry | None:
    """A DTMF digit from `"5"`, `5`, `"*"`, `"#"`; None for anything else ("A", null, lists)."""
    text = as_text(value)
    return KEYPAD.get(text.strip()) if text is not None else None


class ExotelSerializer(ExotelFrameSerializer):
    """Exotel media in and out for one call, answering in the call's own dialect."""

    def __init__(self, call: ExotelCall, *, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES):
        super().__init__(
            call.stream_sid,
            call.call_sid,
            ExotelFrameSerializer.InputParams(exotel_sample_rate=call.sample_rate),
        )
        self._call = call
        self._format = call.media_format
        self._stream_rate = call.sample_rate
        self._sample_rate = 0  # the pipeline's input rate, known at setup
        self._input_resampler = create_stream_resampler()
        self._output_resampler = create_stream_resampler()
        camel = call.key_style == CAMEL
        self._sid_key = "streamSid" if camel else "stream_sid"
        self._sequence_key = "sequenceNumber" if camel else "sequence_number"
        self._max_message_bytes = max_message_bytes
        self._audio_budget = RealTimeBudget()
        self._warned: set[str] = set()
        self.dropped = 0
        self.other_track_chunks = 0  # `media` of another track (the bot's own audio): dropped
        self._sequence = 0  # outbound messages sent
        self._chunk = 0  # outbound media payloads sent
        self._sent_samples = 0  # outbound audio sent, in samples at the stream's rate

    async def setup(self, setup: FrameProcessorSetup):
        self._sample_rate = setup.audio_in_sample_rate

    def _drop(self, kind: str, detail: str = "") -> None:
        self.dropped += 1
        if kind not in self._warned:
            self._warned.add(kind)
            logger.warning(f"Dropping {kind} from Exotel{': ' + detail if detail else ''}")

    # --- Out ---------------------------------------------------------------------------------

    def _stamp(self, message: dict) -> str:
        """The message with the stream id and the next sequence number, in the call's style."""
        self._sequence += 1
        for key in ("stream_sid", "streamSid", "sequence_number", "sequenceNumber"):
            message.pop(key, None)
        stamped = {
            "event": message.pop("event", None),
            self._sid_key: self._call.stream_sid,
            self._sequence_key: str(self._sequence),
            **message,
        }
        return json.dumps(stamped)

    async def serialize(self, frame: Frame) -> str | bytes | None:
        if isinstance(frame, InterruptionFrame):
            return self._stamp({"event": "clear"})
        if isinstance(frame, AudioRawFrame):
            return await self._media(frame)
        if isinstance(frame, ExotelMarkOutFrame):
            return self._stamp({"event": "mark", "mark": {"name": frame.mark}})
        if isinstance(frame, OutputTransportMessageFrame | OutputTransportMessageUrgentFrame):
            if self.should_ignore_frame(frame) or not isinstance(frame.message, dict):
                return None
            return self._stamp(dict(frame.message))
        return None

    async def _media(self, frame: AudioRawFrame) -> str | None:
        rate = self._stream_rate
        if self._format.encoding == MULAW:
            data = await pcm_to_ulaw(frame.audio, frame.sample_rate, rate, self._output_resampler)
            samples = len(data)
        else:
            data = await self._output_resampler.resample(frame.audio, frame.sample_rate, rate)
            samples = len(data) // 2
        if not data:
            return None
        self._chunk += 1
        timestamp = self._sent_samples * 1000 // rate  # ms of audio sent before this chunk
        self._sent_samples += samples
        media = {
            "chunk": str(self._chunk),
            "timestamp": str(timestamp),
            "payload": base64.b64encode(data).decode("ascii"),
        }
        return self._stamp({"event": "media", "media": media})

    # --- In ----------------------------------------------------------------------------------

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

        event = event_name(message)
        if event == "media":
            return await self._caller_audio(message)
        if event == "dtmf":
            return self._dtmf(message)
        if event == "stop":
            return self._stop(message)
        if event == "mark":
            return self._mark(message)
        if event not in QUIET_EVENTS:
            self._drop(f"an unknown event {str(event)[:40]!r}")
        return None

    def _stop(self, message: dict) -> Frame:
        """A `stop` always ends the call, whatever its fields hold."""
        stop = read(message, "stop")
        reason = read(stop, "reason") if isinstance(stop, dict) else None
        return ExotelStopFrame(reason=str(reason or "stopped")[:80])

    def _mark(self, message: dict) -> Frame | None:
        mark = read(message, "mark")
        name = as_text(read(mark, "name")) if isinstance(mark, dict) else None
        if not name:
            self._drop("a mark without a name", repr(mark)[:40])
            return None
        return ExotelMarkFrame(mark=name[:80])

    def _dtmf(self, message: dict) -> Frame | None:
        dtmf = read(message, "dtmf")
        digit = read(dtmf, "digit") if isinstance(dtmf, dict) else dtmf
        if isinstance(digit, list) and len(digit) == 1:
            digit = digit[0]  # ["5"]
        entry = keypad_entry(digit)
        if entry is None:
            self._drop("a dtmf event without a keypad digit (0-9, *, #)", repr(dtmf)[:40])
            return None
        return InputDTMFFrame(button=entry)

    async def _caller_audio(self, message: dict) -> Frame | None:
        media = read(message, "media")
        track = as_text(read(media, "track"))
        if track is not None and track.strip().lower() not in CALLER_TRACKS:
            self.other_track_chunks += 1  # not the caller: never heard, never budgeted
            if "track" not in self._warned:
                self._warned.add("track")
                logger.info(
                    f"Ignoring Exotel media of track {track[:20]!r} (only inbound is heard)"
                )
            return None
        payload = read(media, "payload")
        if not payload or not isinstance(payload, str):
            self._drop("a media message without a payload")
            return None
        try:
            audio = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            self._drop("a media payload that is not base64")
            return None
        if not audio:
            return None
        if self._format.encoding == MULAW:
            seconds = len(audio) / self._stream_rate
        else:
            if len(audio) % 2:
                self._drop("a media payload with an odd number of bytes (not 16-bit PCM)")
                audio = audio[:-1]
            seconds = len(audio) / (2 * self._stream_rate)
        if not audio:
            return None
        if not self._audio_budget.take(seconds):
            self._drop("caller audio arriving faster than real time")
            return None
        if self._format.encoding == MULAW:
            pcm = await ulaw_to_pcm(
                audio, self._stream_rate, self._sample_rate, self._input_resampler
            )
        else:
            pcm = await self._input_resampler.resample(audio, self._stream_rate, self._sample_rate)
        if not pcm:
            return None
        return InputAudioRawFrame(audio=pcm, num_channels=1, sample_rate=self._sample_rate)
