"""The caller's turn starts on the caller's words: not on a sound, not on the bot's own echo."""

from __future__ import annotations

from pipecat.clocks.system_clock import SystemClock
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    InterimTranscriptionFrame,
    TranscriptionFrame,
    TTSSpeakFrame,
)
from pipecat.observers.base_observer import FramePushed
from pipecat.processors.frame_processor import FrameDirection, FrameProcessorSetup
from pipecat.utils.asyncio.task_manager import TaskManager

from exotel_bot.call.echo import BotWords, PhoneTurnStartStrategy, words_of

GREETING = "Hello, thank you for calling Acme Store. How can I help you today?"


class Starts:
    """A PhoneTurnStartStrategy fed frames, and the turns it started / aggregations it reset."""

    def __init__(self):
        self.words = BotWords()
        self.strategy = PhoneTurnStartStrategy(bot_words=self.words)
        self.events: list[str] = []

    async def start(self) -> Starts:
        setup = FrameProcessorSetup(
            clock=SystemClock(), task_manager=TaskManager(), pipeline_worker=None
        )
        await self.strategy.setup(setup)

        @self.strategy.event_handler("on_user_turn_started")
        async def started(strategy, params):
            self.events.append("started")
            await strategy.handle_user_turn_started()

        @self.strategy.event_handler("on_reset_aggregation")
        async def reset(strategy):
            self.events.append("reset")

        return self

    async def bot_says(self, text: str) -> None:
        frame = TTSSpeakFrame(text)
        await self.words.on_push_frame(FramePushed(None, None, frame, FrameDirection.DOWNSTREAM, 0))
        await self.strategy.process_frame(BotStartedSpeakingFrame())

    async def hears(self, text: str, final: bool = False) -> None:
        kind = TranscriptionFrame if final else InterimTranscriptionFrame
        await self.strategy.process_frame(kind(text, "caller", "2026-01-01T00:00:00Z"))


def test_words_of_drops_punctuation_and_case():
    assert words_of("Hello, thank you!") == ["hello", "thank", "you"]
    assert words_of("मेरा ऑर्डर कहाँ है?") == ["मेरा", "ऑर्डर", "कहाँ", "है"]


async def test_the_bots_own_words_start_no_turn_and_are_dropped():
    s = await Starts().start()
    await s.bot_says(GREETING)
    await s.hears("thank you for calling")
    await s.hears("Thank you for calling Acme Store.", final=True)
    assert s.events == ["reset", "reset"]
    assert s.strategy.echo_transcripts == 2


async def test_a_sound_or_one_word_does_not_interrupt_the_bot():
    s = await Starts().start()
    await s.bot_says(GREETING)
    await s.hears("Hmm.")
    await s.hears("", final=True)
    assert "started" not in s.events


async def test_two_words_of_the_caller_interrupt_the_bot():
    s = await Starts().start()
    await s.bot_says(GREETING)
    await s.hears("Stop please")
    assert s.events == ["started"]


async def test_a_garbled_echo_still_counts_as_the_bots_words():
    s = await Starts().start()
    await s.bot_says(GREETING)
    await s.hears("thank you for falling Acme Store")  # one word of five misheard
    assert "started" not in s.events


async def test_after_the_bot_one_word_starts_a_turn_and_an_answer_may_repeat_its_words():
    s = await Starts().start()
    await s.bot_says("Is your order one two three four?")
    s.words.plays_until = 0.0  # the caller has heard it all, long ago
    await s.strategy.process_frame(BotStoppedSpeakingFrame())
    await s.hears("Yes, one two three four.", final=True)
    assert s.events == ["started"]
