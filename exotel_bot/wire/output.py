"""Bot audio out to Exotel: at real time, its first syllable at once, its events when heard.

Pacing. Exotel plays what it receives in real time from a buffer of its own. The bot sends a
payload only while less than `PLAYOUT_LEAD_SECS` (0.3 s) of what it sent is still unplayed
(wire/playout.py), so Exotel always holds a little audio to play, a `clear` has little to
drop, and a client that reads slowly never falls behind.

First audio. Exotel asks for media payloads in multiples of 320 bytes and recommends at least
3.2 KB (200 ms at 8 kHz) per payload: a short payload makes it wait 20 ms for more (Exotel
support, "Working with the Stream applet"). Pipecat cuts the bot's audio into payloads of one
size, so with 200 ms payloads the first sound of every turn would wait until the TTS had
produced 200 ms. `RampUpSender` starts each bot turn with payloads of `first_chunk_bytes`
(40 ms by default, `EXOTEL_FIRST_AUDIO_CHUNK_MS`) until one full payload's worth has gone,
then cuts full payloads: the caller hears the first syllable as soon as the TTS has made it.

Speaking events. Pipecat says "bot started/stopped speaking" when the audio is sent. Here the
`BotStartedSpeakingFrame` and `BotStoppedSpeakingFrame` leave the transport when the caller
starts or stops hearing that audio (its playout time), so everything that listens to them
(the silence timer, the turn strategies, the call record) works on what the caller heard.
In between, pipecat's "bot still speaking" heartbeat (`BotSpeakingFrame`, sent both ways
through every processor) goes once a second instead of every 0.2 s: in pipecat 1.14 only a
worker's idle timeout reads it, and at 0.2 s it was one frame push in six.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    Frame,
    InterruptionFrame,
    OutputAudioRawFrame,
    OutputTransportReadyFrame,
    StartFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.transports.base_output import BaseOutputTransport
from pipecat.transports.websocket.fastapi import FastAPIWebsocketOutputTransport

from exotel_bot.wire.playout import PLAYOUT_LEAD_SECS, PLAYOUT_START, PlayoutClock

# How often a speaking bot says so with a `BotSpeakingFrame` (pipecat's default: 0.2 s).
BOT_SPEAKING_EVERY_SECS = 1.0


class RampUpSender(BaseOutputTransport.MediaSender):
    """Pipecat's media sender, cutting a bot turn's first payloads short (see the module doc).

    Pipecat's sender cuts every payload at `_audio_chunk_size`; here that size is the short
    one until a full payload's worth of the turn has been cut.
    """

    def __init__(self, *args, first_chunk_bytes: int, **kwargs):
        self._first_chunk_bytes = first_chunk_bytes
        self._turn_bytes = 0  # bytes of the current bot turn cut into payloads so far
        self._full_chunk_bytes = 0
        super().__init__(*args, **kwargs)
        self._bot_speaking_frame_period = BOT_SPEAKING_EVERY_SECS

    @property
    def _audio_chunk_size(self) -> int:
        full = self._full_chunk_bytes
        return full if self._turn_bytes >= full else min(self._first_chunk_bytes, full)

    @_audio_chunk_size.setter
    def _audio_chunk_size(self, size: int) -> None:
        self._full_chunk_bytes = size

    def _take_audio_chunk(self) -> tuple[bytes, bool]:
        chunk, uninterruptible = super()._take_audio_chunk()
        self._turn_bytes += len(chunk)
        return chunk, uninterruptible

    async def handle_tts_stopped(self, frame):
        await super().handle_tts_stopped(frame)  # the turn's tail, padded, is cut by now
        self._turn_bytes = 0  # the next audio starts a new turn

    async def handle_interruptions(self, frame: InterruptionFrame):
        await super().handle_interruptions(frame)
        self._turn_bytes = 0


class ExotelOutputTransport(FastAPIWebsocketOutputTransport):
    """Pipecat's websocket output, paced by the caller's playout (see the module doc)."""

    def __init__(
        self, *args, first_chunk_bytes: int, lead_secs: float = PLAYOUT_LEAD_SECS, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self._first_chunk_bytes = first_chunk_bytes
        self.playout = PlayoutClock(lead_secs)
        # Speaking events waiting for the caller to hear their moment: (due, frame, direction).
        self._heard_events: deque[tuple[float, Frame, FrameDirection]] = deque()
        self._heard_wake = asyncio.Event()
        self._heard_task: asyncio.Task | None = None

    async def setup(self, setup):
        await super().setup(setup)
        self._send_interval = 0  # pipecat's own pacing off: the playout clock paces instead

    async def set_transport_ready(self, frame: StartFrame):
        """Pipecat's, with `RampUpSender` as the media sender (an Exotel stream has one audio
        destination)."""
        params = self._params
        destinations = set(params.audio_out_destinations + params.video_out_destinations)
        for destination in [None, *destinations]:
            self._media_senders[destination] = RampUpSender(
                self,
                destination=destination,
                sample_rate=self.sample_rate,
                audio_chunk_size=self.audio_chunk_size,
                params=self._params,
                first_chunk_bytes=self._first_chunk_bytes,
            )
            await self._media_senders[destination].start(frame)
        self._heard_task = self.create_task(self._release_heard_events(), "heard-events")
        await self.push_frame(OutputTransportReadyFrame(), FrameDirection.UPSTREAM)

    async def write_audio_frame(self, frame: OutputAudioRawFrame) -> bool:
        if not await super().write_audio_frame(frame):
            return False
        bytes_per_sec = self.sample_rate * 2 * self._params.audio_out_channels
        frame.metadata[PLAYOUT_START] = self.playout.next_start()
        self.playout.sent(len(frame.audio) / bytes_per_sec)
        # Like pipecat's own pacing, wait after the write (a `clear` then finds nothing half
        # sent): until the caller has heard all but PLAYOUT_LEAD_SECS of what was sent.
        wait = self.playout.wait_before_sending()
        if wait > 0:
            await asyncio.sleep(wait)
        return True

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, InterruptionFrame):
            self.playout.cleared()  # the `clear` went out: Exotel dropped what was unplayed
            self._heard_wake.set()

    async def push_frame(self, frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM):
        if isinstance(frame, BotStartedSpeakingFrame | BotStoppedSpeakingFrame):
            # Started: when this audio starts playing, after what is queued. Stopped: when
            # everything sent has played.
            started = isinstance(frame, BotStartedSpeakingFrame)
            due = self.playout.next_start() if started else self.playout.end
            if self._heard_task is not None and (self._heard_events or due > self.playout.now()):
                self._heard_events.append((due, frame, direction))
                self._heard_wake.set()
                return
        await super().push_frame(frame, direction)

    async def _release_heard_events(self):
        """Push each held speaking event once the caller has heard its moment, in order; all
        at once after a `clear` (the audio they wait for will never play)."""
        while True:
            self._heard_wake.clear()
            now = self.playout.now()
            while self._heard_events and (
                self._heard_events[0][0] <= now or self.playout.end <= now
            ):
                _, frame, direction = self._heard_events.popleft()
                await super().push_frame(frame, direction)
            if self._heard_events:
                timeout = self._heard_events[0][0] - now
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._heard_wake.wait(), timeout)
            else:
                await self._heard_wake.wait()

    async def _flush_heard_events(self):
        while self._heard_events:
            _, frame, direction = self._heard_events.popleft()
            await super().push_frame(frame, direction)

    async def stop(self, frame):
        await super().stop(frame)
        await self._stop_heard_events()
        await self._flush_heard_events()

    async def cancel(self, frame):
        await self._stop_heard_events()
        await super().cancel(frame)

    async def cleanup(self):
        await self._stop_heard_events()
        await super().cleanup()

    async def _stop_heard_events(self):
        if self._heard_task is not None:
            await self.cancel_task(self._heard_task)
            self._heard_task = None
