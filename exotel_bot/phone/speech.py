"""The stage between the LLM and the TTS: how the bot's words reach the TTS, and a mark
behind each bot turn.

One processor for two jobs that need the same place (every frame passed costs CPU per stage):

- the first phrase of each reply goes to the TTS at once, then whole sentences
  (`FirstPhraseAggregator`, services/tts_text.py);
- behind each bot turn (an LLM reply, or words the bot says itself: greeting, check-in,
  apology, goodbye) a `mark` follows the audio to Exotel, whose echo says when the caller
  heard the turn (call control logs it). Pipecat's audio contexts keep the mark behind the
  turn's audio.
"""

from __future__ import annotations

from collections.abc import Callable

from pipecat.frames.frames import Frame, LLMFullResponseEndFrame, TTSSpeakFrame
from pipecat.processors.aggregators.llm_text_processor import LLMTextProcessor
from pipecat.processors.frame_processor import FrameDirection

from exotel_bot.services.tts_text import FirstPhraseAggregator


class SpeechOut(LLMTextProcessor):
    """pipecat's `LLMTextProcessor` with the first-phrase aggregator, and `turn_mark()`'s
    frame pushed behind each bot turn."""

    def __init__(self, turn_mark: Callable[[], Frame], **kwargs):
        # Direct mode: no queue and no task of its own (the LLM's and the TTS's keep the
        # order), so each frame between the LLM and the TTS costs no extra hop.
        kwargs.setdefault("enable_direct_mode", True)
        super().__init__(text_aggregator=FirstPhraseAggregator(), **kwargs)
        self._turn_mark = turn_mark

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if direction == FrameDirection.DOWNSTREAM and isinstance(
            frame, LLMFullResponseEndFrame | TTSSpeakFrame
        ):
            await self.push_frame(self._turn_mark())
