"""Bot audio out to Exotel: the first audio of a turn goes as soon as it exists.

Exotel asks for media payloads in multiples of 320 bytes and recommends at least 3.2 KB
(200 ms at 8 kHz) per payload: a short payload makes it wait 20 ms for more (Exotel support,
"Working with the Stream applet"). Pipecat cuts the bot's audio into payloads of one size, so
with 200 ms payloads the first sound of every turn waits until the TTS has produced 200 ms.

`ExotelOutputTransport` ramps up instead: each bot turn starts with payloads of
`first_chunk_bytes` (40 ms by default, `EXOTEL_FIRST_AUDIO_CHUNK_MS`; still a multiple of
320 bytes) until one full payload's worth has gone out, then sends full payloads. The caller
hears the first syllable as soon as the TTS has made it; Exotel always holds audio to play
(pipecat sends audio about twice as fast as it plays), and from the second 200 ms on every
payload is the recommended size. Pacing follows each payload's own length.
"""

from __future__ import annotations

from pipecat.frames.frames import OutputAudioRawFrame
from pipecat.transports.base_output import BaseOutputTransport
from pipecat.transports.websocket.fastapi import FastAPIWebsocketOutputTransport


class _RampUpSender(BaseOutputTransport.MediaSender):
    """Pipecat's media sender, cutting a turn's first payloads short (see the module doc)."""

    _first_chunk_bytes: int
    _turn_bytes: int

    async def handle_audio_frame(self, frame: OutputAudioRawFrame):
        if not self._params.audio_out_enabled:
            return
        audio = await self._resampler.resample(frame.audio, frame.sample_rate, self._sample_rate)
        self._audio_buffer_cls = type(frame)
        self._buffer_audio(audio, uninterruptible=not frame.interruptible)
        full = self._audio_chunk_size
        while True:
            size = full if self._turn_bytes >= full else min(self._first_chunk_bytes, full)
            if self._buffered_audio_bytes < size:
                return
            self._audio_chunk_size = size  # what _take_audio_chunk cuts
            try:
                chunk, uninterruptible = self._take_audio_chunk()
            finally:
                self._audio_chunk_size = full
            self._turn_bytes += len(chunk)
            out = type(frame)(chunk, sample_rate=self._sample_rate, num_channels=frame.num_channels)
            out.transport_destination = self._destination
            out.interruptible = not uninterruptible
            await self._audio_queue.put(out)

    async def _bot_stopped_speaking(self):
        self._turn_bytes = 0  # the next audio starts a new turn (also after an interruption)
        await super()._bot_stopped_speaking()


class ExotelOutputTransport(FastAPIWebsocketOutputTransport):
    """Pipecat's websocket output, with a turn's first audio sent in short payloads."""

    def __init__(self, *args, first_chunk_bytes: int, **kwargs):
        super().__init__(*args, **kwargs)
        self._first_chunk_bytes = first_chunk_bytes

    async def start(self, frame):
        await super().start(frame)
        for sender in self._media_senders.values():
            sender.__class__ = _RampUpSender  # same object and state, one method changed
            sender._first_chunk_bytes = self._first_chunk_bytes
            sender._turn_bytes = 0

    async def write_audio_frame(self, frame: OutputAudioRawFrame) -> bool:
        # Pace by this payload's own length: a short first payload is followed sooner.
        bytes_per_sec = self.sample_rate * 2 * self._params.audio_out_channels
        self._send_interval = len(frame.audio) / bytes_per_sec / 2
        return await super().write_audio_frame(frame)
