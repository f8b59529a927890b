"""Interruptions need words, and the words must be the caller's, not the bot's own echo.

On a phone line the caller's audio carries more than the caller: the bot's own voice comes
back (a speakerphone, a cheap handset, a line without echo cancelling; or Exotel's
`tracks: both`, handled in exotel_bot/wire/serializer.py), and coughs, clicks and "hmm"s
reach the VAD as sound. Starting a turn on any sound (pipecat's default,
`VADUserTurnStartStrategy`) lets each of them cut the bot off, and then leaves the caller in
silence until pipecat's empty-turn watchdog gives up about 5 s later.

`PhoneTurnStartStrategy` is pipecat's `MinWordsUserTurnStartStrategy` (a turn starts on the
transcript's words: `MIN_WORDS_OVER_BOT` while the bot speaks, one when it is silent) with an
echo check in front: a transcript that arrives while the bot speaks, or within
`ECHO_TAIL_SECS` of its last audio, and that repeats the bot's own recent words in their
order, is the bot's echo as Deepgram heard it. It starts no turn, interrupts nothing, and is
dropped from the caller's text so it is never answered. `BotWords` is the memory of what the
bot said: an observer of the pipeline's LLM and TTS text, added to the call's worker by the
strategy itself.
"""

from __future__ import annotations

import time
import unicodedata
from collections import deque
from difflib import SequenceMatcher

from loguru import logger
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    Frame,
    InterimTranscriptionFrame,
    InterruptionFrame,
    LLMTextFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    TTSTextFrame,
)
from pipecat.observers.base_observer import BaseObserver, FramePushed
from pipecat.processors.frame_processor import FrameProcessorSetup
from pipecat.turns.types import ProcessFrameResult
from pipecat.turns.user_start import MinWordsUserTurnStartStrategy

from exotel_bot.wire.playout import PLAYOUT_START

# Words the caller must say to interrupt the bot (a cough or "hmm" is at most one).
MIN_WORDS_OVER_BOT = 2
# How long the bot's words are remembered for the echo check, seconds.
ECHO_MEMORY_SECS = 30.0
# After the bot's audio stops, its echo (up to ~0.4 s late) and Deepgram's final of it
# (~0.3 s more) can still arrive: transcripts this soon after are checked too, seconds.
ECHO_TAIL_SECS = 1.5
# Share of a transcript's words found among the bot's recent words that makes it echo:
# while the bot speaks (Deepgram may garble a word of a faint echo), and after it stopped
# (the caller may repeat a few of the bot's words in an answer: "yes, one two three four").
ECHO_SHARE_WHILE_SPEAKING = 0.75
ECHO_SHARE_AFTER = 1.0


def words_of(text: str) -> list[str]:
    """Lower-case words without punctuation (Indic combining marks kept)."""
    words = []
    for raw in text.lower().split():
        word = "".join(c for c in raw if not unicodedata.category(c).startswith("P"))
        if word:
            words.append(word)
    return words


class BotWords(BaseObserver):
    """What the bot said lately, and until when the caller hears it.

    An observer, so it sees the LLM's and the TTS's text and the bot's audio wherever they
    flow (the TTS is downstream of the user aggregator, which never sees them). Each frame
    counts once (`first_push`). `plays_until` (time.monotonic()) is when the bot's audio sent
    so far has played to the caller: the output transport marks each payload it sent with
    when the caller starts hearing it (`PLAYOUT_START`, wire/playout.py); the TTS's own audio
    frames, made ahead of real time and re-cut by the transport, are not counted.
    """

    def __init__(self, memory_secs: float = ECHO_MEMORY_SECS):
        super().__init__()
        self._memory_secs = memory_secs
        self._words: deque[tuple[float, str]] = deque()
        self.plays_until = 0.0

    async def on_push_frame(self, data: FramePushed):
        frame = data.frame
        if not data.first_push:
            return
        if isinstance(frame, TTSAudioRawFrame):
            played_at = frame.metadata.get(PLAYOUT_START)
            if played_at is None:
                return  # not sent yet: the transport's payloads say when the caller hears it
            seconds = len(frame.audio) / (2 * frame.sample_rate * max(1, frame.num_channels))
            self.plays_until = max(self.plays_until, played_at + seconds)
        elif isinstance(frame, InterruptionFrame):
            self.plays_until = time.monotonic()  # the caller's buffer is cleared
        elif isinstance(frame, LLMTextFrame | TTSTextFrame | TTSSpeakFrame):
            self.add(frame.text)

    def playing(self, now: float | None = None) -> bool:
        """The caller still hears bot audio."""
        return (time.monotonic() if now is None else now) < self.plays_until

    def add(self, text: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._words.extend((now, word) for word in words_of(text))
        while self._words and self._words[0][0] < now - self._memory_secs:
            self._words.popleft()

    def share_spoken(self, text: str) -> float:
        """The share (0-1) of `text`'s words that repeat, in the same order, what the bot said
        in the last `memory_secs`.

        Order matters: an echo is the bot's sentence coming back (Deepgram may drop or garble
        a word of it), while a caller who uses the bot's words in a sentence of their own
        ("Where is order 1234?" after "I can tell you where an order is") reorders them.
        """
        words = words_of(text)
        if not words:
            return 0.0
        recent = [word for _, word in self._words]
        matcher = SequenceMatcher(None, recent, words, autojunk=False)
        return sum(block.size for block in matcher.get_matching_blocks()) / len(words)


class PhoneTurnStartStrategy(MinWordsUserTurnStartStrategy):
    """A caller turn starts on words, never on the bot's own echo (see the module docstring).

    `bot_words` is the call's `BotWords`; if it is not given, the strategy makes one and adds
    it to the pipeline's observers at setup. `echo_transcripts` counts the transcripts dropped.
    """

    def __init__(
        self, *, bot_words: BotWords | None = None, min_words: int = MIN_WORDS_OVER_BOT, **kwargs
    ):
        super().__init__(min_words=min_words, use_interim=True, **kwargs)
        self._own_observer = bot_words is None
        self.bot_words = bot_words or BotWords()
        self._bot_audio = False  # the bot is speaking (pipecat's Bot*SpeakingFrame)
        self._held_stop: BotStoppedSpeakingFrame | None = None  # the caller still hears it
        self._caller_turn = False  # a caller turn is on: its words are the caller's
        self.echo_transcripts = 0

    async def handle_user_turn_started(self):
        await super().handle_user_turn_started()
        self._caller_turn = True

    async def handle_user_turn_stopped(self):
        await super().handle_user_turn_stopped()
        self._caller_turn = False

    async def setup(self, setup: FrameProcessorSetup):
        await super().setup(setup)
        observer = setup.observer
        if self._own_observer and observer is not None and hasattr(observer, "add_observer"):
            observer.add_observer(self.bot_words)

    async def process_frame(self, frame: Frame) -> ProcessFrameResult:
        if isinstance(frame, BotStartedSpeakingFrame):
            self._bot_audio, self._held_stop = True, None
        elif isinstance(frame, BotStoppedSpeakingFrame):
            self._bot_audio = False
            if self.bot_words.playing():
                # Sent, not yet heard: words are still needed to interrupt what plays.
                self._held_stop = frame
                return ProcessFrameResult.CONTINUE
        elif isinstance(frame, TranscriptionFrame | InterimTranscriptionFrame):
            if self._held_stop is not None and not self.bot_words.playing():
                held, self._held_stop = self._held_stop, None
                await super().process_frame(held)  # now the caller has heard the end
            if not self._caller_turn and self.is_echo(frame.text):
                self.echo_transcripts += 1
                logger.debug(f"Not the caller: the bot's own words came back: {frame.text!r}")
                await self.trigger_reset_aggregation()  # never answered
                return ProcessFrameResult.STOP
        return await super().process_frame(frame)

    def is_echo(self, text: str) -> bool:
        """`text` came while the caller heard the bot (or just after) and repeats its words."""
        now = time.monotonic()
        plays_until = self.bot_words.plays_until
        if self._bot_audio or now < plays_until:
            needed = ECHO_SHARE_WHILE_SPEAKING
        elif now - plays_until <= ECHO_TAIL_SECS:
            needed = ECHO_SHARE_AFTER
        else:
            return False
        share = self.bot_words.share_spoken(text)
        return share > 0 and share >= needed
