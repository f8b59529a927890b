"""The "still speaking" heartbeats: pipecat sends one every 0.2 s, through every processor
both ways; a phone call sends them once a second. Each test also fails if pipecat renames the
private member the period lives in (docs/pipecat-internals.md)."""

from __future__ import annotations

import asyncio

from pipecat.frames.frames import (
    BotSpeakingFrame,
    BotStartedSpeakingFrame,
    InputAudioRawFrame,
    UserSpeakingFrame,
)
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMUserAggregator,
    LLMUserAggregatorParams,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.tests.utils import SleepFrame, run_test
from pipecat.transports.base_output import BaseOutputTransport
from pipecat.transports.base_transport import TransportParams

from exotel_bot.call.turns import USER_SPEAKING_EVERY_SECS, fewer_user_speaking_frames
from exotel_bot.call.vad import PhoneVAD
from exotel_bot.wire.output import BOT_SPEAKING_EVERY_SECS, RampUpSender
from simulator.audio import fixture, load_wav


async def test_a_speaking_bot_sends_its_heartbeat_once_a_second():
    """`BotSpeakingFrame` crosses every processor both ways; pipecat sends one every 0.2 s of
    bot audio (its MediaSender's `_bot_speaking_frame_period`), the Exotel sender every 1 s."""

    class Transport:  # what a media sender asks of its transport when the bot speaks
        def __init__(self):
            self.frames = []

        async def push_frame(self, frame, direction=FrameDirection.DOWNSTREAM):
            self.frames.append(frame)

        async def broadcast_frame(self, frame_class, **kwargs):
            self.frames.append(frame_class(**kwargs))

    def sender(cls, transport, **extra):
        args = dict(destination=None, sample_rate=8000, audio_chunk_size=3200)
        return cls(transport, params=TransportParams(), **args, **extra)

    ours, pipecats = Transport(), Transport()
    senders = [
        sender(RampUpSender, ours, first_chunk_bytes=640),
        sender(BaseOutputTransport.MediaSender, pipecats),
    ]
    for _ in range(3):  # 0.5 s of the bot speaking, one audio payload every 0.25 s
        for media in senders:
            await media._bot_currently_speaking()
        await asyncio.sleep(0.25)
    beats = [[f for f in t.frames if isinstance(f, BotSpeakingFrame)] for t in (ours, pipecats)]
    assert any(isinstance(f, BotStartedSpeakingFrame) for f in ours.frames)
    assert len(beats[0]) == 1 and len(beats[1]) == 3
    assert BOT_SPEAKING_EVERY_SECS > 0.5


async def test_a_speaking_caller_sends_its_heartbeat_once_a_second():
    """4 s of the caller's speech at real time: pipecat's user aggregator sends a
    `UserSpeakingFrame` about every 0.2 s; after `fewer_user_speaking_frames`, once a second."""
    speech = load_wav(fixture("long_talk", 8000), 8000)[: 8000 * 4]
    chunks = [speech[i : i + 800].tobytes() for i in range(0, len(speech), 800)]

    async def heartbeats(fewer: bool) -> int:
        aggregator = LLMUserAggregator(
            LLMContext(), params=LLMUserAggregatorParams(vad_analyzer=PhoneVAD())
        )
        if fewer:
            fewer_user_speaking_frames(aggregator)
        frames = []
        for chunk in chunks:  # 100 ms chunks, as Exotel's arrive, at real time
            frames += [InputAudioRawFrame(chunk, 8000, 1), SleepFrame(0.1)]
        down, _ = await run_test(aggregator, frames_to_send=frames)
        return sum(isinstance(f, UserSpeakingFrame) for f in down)

    ours, pipecats = await asyncio.gather(heartbeats(True), heartbeats(False))
    assert pipecats >= 5, pipecats  # the speech was heard: ~0.2 s apart while it lasted
    assert ours >= 1 and 2 * ours <= pipecats, (ours, pipecats)
    assert USER_SPEAKING_EVERY_SECS >= 1.0
