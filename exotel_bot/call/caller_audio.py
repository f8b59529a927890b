"""Where the caller's audio stops travelling down the pipeline.

Pipecat passes every frame to every processor after the one that made it. The caller's audio
(10 frames a second on an Exotel line) is needed by the STT service and by the user aggregator's
VAD, and by nothing after them: letting it ride through the LLM, TTS and output stages cost
about a fifth of the server's CPU per call (docs/benchmarks.md). Put `CallerAudioSink()` right
after the user aggregator. Observers (the call recorder) still see every frame where it starts.
"""

from __future__ import annotations

from pipecat.frames.frames import Frame, InputAudioRawFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor


class CallerAudioSink(FrameProcessor):
    """Drops the caller's audio; passes every other frame on, in both directions, at once."""

    def __init__(self, **kwargs):
        # Direct mode: no queue and no task of its own, so the frames it passes on cost nothing.
        super().__init__(enable_direct_mode=True, **kwargs)

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
            return
        await self.push_frame(frame, direction)
