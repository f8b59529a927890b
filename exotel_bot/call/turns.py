"""When has the caller finished speaking? Turn detection tuned for phone calls.

On a phone line the words are the best evidence. As soon as the caller goes quiet (the VAD's
first silent window after speech) the STT is asked to finalize (`UserWentQuietFrame`, sent
upstream); Deepgram returns the punctuated transcript of what was said so far, usually before
the VAD has heard its 0.2 s of silence; and the transcript says whether the sentence is over:

- "Where is my order?" / "Yes, that's right."  -> complete: answer now (and if this final
  came while the VAD was still inside its 0.2 s stop window, 0.1 s of silence is enough);
- "My order number is" / "I want to, um,"      -> incomplete: give the caller time (2 s);
- no punctuation either way                    -> unsure: answer after 0.8 s of silence.

The LLM starts before that when the words allow it (pipecat's speculative inference): as soon
as the caller goes quiet (the VAD's first silent window, inside its 0.2 s stop window), a
complete-looking interim transcript starts the LLM; so does a complete final transcript that
arrives before the VAD has stopped. The reply is held back until the turn is decided and the
final transcript confirms the same words, and discarded if the words differ or the caller goes
on (speaks again, even inside the stop window). So a reply never starts sooner than the turn is
decided, only the LLM does.

Pipecat's default, Smart Turn v3, listens to the audio instead. On 8 kHz phone audio it judged
complete sentences unfinished and a mid-sentence pause finished, and costs ~75-125 ms of CPU
per turn plus a model per call; see docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import time
import unicodedata

from loguru import logger
from pipecat.audio.vad.vad_analyzer import VADParams, VADState
from pipecat.frames.frames import (
    EagerEndOfTurnCancelFrame,
    Frame,
    InputAudioRawFrame,
    InterimTranscriptionFrame,
    LLMRunFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.aggregators.llm_response_universal import LLMUserAggregator
from pipecat.processors.frame_processor import FrameDirection
from pipecat.turns.types import ProcessFrameResult, UserTurnSpeculation
from pipecat.turns.user_stop import BaseUserTurnStopStrategy, NormalizedMatch
from pipecat.turns.user_turn_strategies import UserTurnStrategies

from exotel_bot.call.echo import PhoneTurnStartStrategy
from exotel_bot.call.vad import PhoneVAD
from exotel_bot.frames import UserWentQuietFrame

# Silence (after speech) before the VAD says the caller stopped and Deepgram is asked to
# finalize. Pipecat's default; shorter splits sentences at every breath.
VAD_STOP_SECS = 0.2
# How often a speaking caller's `UserSpeakingFrame` goes out (pipecat's default: every 0.2 s).
USER_SPEAKING_EVERY_SECS = 1.0
# Silence enough when the final transcript is already in and complete: the VAD's stop window
# shrinks to this for that pause (a question asked, a sentence ended: 0.1 s is not a breath
# in the middle of it).
COMPLETE_STOP_SECS = 0.1
# How long to wait for more words, counted from that moment, when the transcript...
INCOMPLETE_WAIT_SECS = 1.8  # ...ends mid-sentence ("My order number is")
UNSURE_WAIT_SECS = 0.6  # ...has no punctuation to go by
# How long to wait for Deepgram's final transcript before deciding on what is in hand.
STT_WAIT_SECS = 1.0
# A caller turn this long (seconds since it started) ends at the caller's next pause, whatever
# its words say. With PhoneVAD's MAX_SPEECH_SECS (12 s of sound without a gap is background),
# no turn runs longer than MAX_TURN_SECS + MAX_SPEECH_SECS + STT_WAIT_SECS (33 s).
MAX_TURN_SECS = 20.0

COMPLETE, INCOMPLETE, UNSURE = "complete", "incomplete", "unsure"

# Sentence ends in the scripts the bot hears: Latin, Devanagari/Bengali/Gurmukhi/Odia danda
# (।, ॥), Urdu (۔, ؟), CJK. Tamil, Telugu, Kannada, Malayalam, Gujarati and Marathi write ".".
_QUESTION_OR_EXCLAMATION = ("?", "!", "？", "！", "؟")
_FULL_STOPS = (".", "。", "।", "॥", "۔")
_TRAILING_OFF = (",", ";", ":", "-", "–", "—", "…", "...", "،")
# Words a finished sentence hardly ever ends with: articles, possessives, conjunctions,
# "to", the verb "to be", and fillers, in each language the bot speaks (exotel_bot/languages.py).
# A trailing full stop does not change that: STT services punctuate fragments too.
# fmt: off
DANGLING_WORDS = frozenset({
    # English
    "a", "an", "the", "my", "your", "our", "their",
    "and", "or", "but", "nor", "because", "although", "if", "unless", "whether", "than",
    "to", "is", "are", "was", "were", "am",
    "um", "uh", "er", "erm", "hmm",
    # Hindi / Hinglish: and, or, but, that, because, if, meaning, like; fillers
    "और", "या", "लेकिन", "पर", "कि", "क्योंकि", "अगर", "मतलब", "यानी", "जैसे", "उम्म", "अं",
    # Marathi: and, or, but, because, meaning
    "आणि", "किंवा", "पण", "कारण", "म्हणजे",
    # Bengali: and, and, but, or, because, meaning
    "এবং", "আর", "কিন্তু", "বা", "কারণ", "মানে",
    # Tamil: and, but, or, because
    "மற்றும்", "ஆனால்", "அல்லது", "ஏனென்றால்",
    # Telugu: and, but, or, because
    "మరియు", "కానీ", "లేదా", "ఎందుకంటే",
    # Kannada: and, but, or, because
    "ಮತ್ತು", "ಆದರೆ", "ಅಥವಾ", "ಏಕೆಂದರೆ",
    # Malayalam: but, or, because ("and" is a suffix, -ഉം)
    "പക്ഷേ", "അല്ലെങ്കിൽ", "കാരണം",
    # Gujarati: and, but, or, because
    "અને", "પણ", "અથવા", "કારણ",
    # Punjabi: and, but, or, that, because
    "ਅਤੇ", "ਪਰ", "ਜਾਂ", "ਕਿ", "ਕਿਉਂਕਿ",
    # Odia: and, but, or, because
    "ଏବଂ", "କିନ୍ତୁ", "କିମ୍ବା", "କାରଣ",
})
# fmt: on


def _last_word(text: str) -> str:
    """The last word, lower-cased, without the punctuation around it.

    Split on spaces, not with `\\w`: Indic vowel signs (e.g. the ि in कि) are combining marks,
    which a regex word class does not count as letters.
    """
    words = text.lower().split()
    while words:
        word = "".join(c for c in words[-1] if not unicodedata.category(c).startswith("P"))
        if word:
            return word
        words.pop()
    return ""


def text_verdict(text: str) -> str:
    """COMPLETE, INCOMPLETE or UNSURE: does this transcript end a turn?"""
    text = text.strip()
    if not text:
        return UNSURE
    if text.endswith(_QUESTION_OR_EXCLAMATION):
        return COMPLETE
    if text.endswith(_TRAILING_OFF):
        return INCOMPLETE
    if _last_word(text) in DANGLING_WORDS:
        return INCOMPLETE
    if text.endswith(_FULL_STOPS):
        return COMPLETE
    return UNSURE


def _join(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


class PhoneTurnStopStrategy(BaseUserTurnStopStrategy):
    """Ends the caller's turn on the final transcript's verdict (see the module docstring).

    `vad` is the call's VAD analyzer (the one the user aggregator runs): with it, the LLM may
    start as soon as the caller goes quiet; without it, only once the VAD has stopped.
    """

    def __init__(self, *, vad: PhoneVAD | None = None, **kwargs):
        super().__init__(**kwargs)
        self._vad = vad
        self._quiet = False  # the VAD hears silence after speech, inside its stop window
        self._confirmed = False  # this turn ended on a speculation's answer
        self._text = ""  # final transcripts of this turn
        self._interim = ""  # the latest interim transcript since the last final
        self._final_is_latest = False  # no interim came after the last final
        self._vad_speaking = False
        self._stopped_at: float | None = None  # when the VAD last said the caller stopped
        self._turn_started_at: float | None = None
        self._timer: asyncio.Task | None = None
        self._speculation: UserTurnSpeculation | None = None
        self._match = NormalizedMatch()

    async def process_frame(self, frame: Frame) -> ProcessFrameResult:
        if isinstance(frame, InputAudioRawFrame):
            if self._vad is not None and self._vad_speaking:
                await self._follow_vad(self._vad.state)  # the VAD has judged this audio already
        elif isinstance(frame, VADUserStartedSpeakingFrame):
            self._vad_speaking = True
            self._stopped_at = None
            self._quiet = False
            await self._cancel_timer()
            await self._withdraw_speculation()
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            self._vad_speaking = False
            self._quiet = False
            self._stopped_at = time.monotonic()
            await self._caller_paused()
        elif isinstance(frame, TranscriptionFrame):
            self._text = _join(self._text, frame.text)
            self._interim, self._final_is_latest = "", True
            if self._stopped_at is not None:
                await self._decide()
            elif self._quiet:
                await self._speculate(self._text)
                self._stop_sooner_if_complete()
        elif isinstance(frame, InterimTranscriptionFrame):
            self._interim, self._final_is_latest = frame.text, False
            if self._quiet or self._stopped_at is not None:  # silent, the final on its way
                await self._speculate(_join(self._text, self._interim))
        elif isinstance(frame, EagerEndOfTurnCancelFrame):
            # The LLM withdrew its speculative answer (it wanted a tool call, which it only
            # runs for a decided turn). If the turn was already decided on that answer, the
            # withdrawal crossed the decision on its way: answer the decided turn now.
            self._speculation = None
            if self._confirmed:
                self._confirmed = False
                await self.push_frame(LLMRunFrame())
        return ProcessFrameResult.CONTINUE

    async def _follow_vad(self, state: VADState) -> None:
        """Inside the VAD's stop window: the caller went quiet, or speaks again."""
        if state == VADState.STOPPING and not self._quiet:
            self._quiet = True
            await self.push_frame(UserWentQuietFrame(), FrameDirection.UPSTREAM)
            heard = self._text if self._final_is_latest else _join(self._text, self._interim)
            await self._speculate(heard)
            self._stop_sooner_if_complete()
        elif state == VADState.SPEAKING and self._quiet:
            self._quiet = False  # only a breath: whatever the LLM started on is not the turn
            await self._withdraw_speculation()

    def _stop_sooner_if_complete(self) -> None:
        """Quiet, and the final transcript says the sentence is over: a short silence will do."""
        if self._vad is not None and self._final_is_latest and text_verdict(self._text) == COMPLETE:
            self._vad.stop_sooner(COMPLETE_STOP_SECS)

    async def _speculate(self, heard: str) -> None:
        """Start the LLM on `heard` if it reads as a whole turn (and it is not running on it)."""
        if self._speculation is not None:
            if self._match.matches(self._speculation.text, heard):
                return
            await self._withdraw_speculation()  # newer words: start again on them
        if text_verdict(heard) == COMPLETE:
            self._speculation = UserTurnSpeculation(text=heard)
            await self.trigger_user_turn_inference_triggered(speculation=self._speculation)

    async def _caller_paused(self) -> None:
        """The VAD heard 0.2 s of silence: decide now, or wait for the final transcript."""
        if self._final_is_latest and self._text:
            await self._decide()
            return
        await self._speculate(_join(self._text, self._interim))
        await self._wait_then(STT_WAIT_SECS, self._decide)

    async def _decide(self) -> None:
        """Judge the final transcript: end the turn now, or wait for more words."""
        await self._cancel_timer()
        if not self._text:
            return  # nothing to answer yet (pipecat's turn watchdog still runs)
        verdict = text_verdict(self._text)
        started = self._turn_started_at
        if verdict == COMPLETE or (started and time.monotonic() - started > MAX_TURN_SECS):
            await self._end_turn()
            return
        logger.debug(f"Caller's turn {verdict}: {self._text!r}; waiting for more")
        if self._speculation and not self._match.matches(self._speculation.text, self._text):
            await self._withdraw_speculation()
        wait = INCOMPLETE_WAIT_SECS if verdict == INCOMPLETE else UNSURE_WAIT_SECS
        await self._wait_then(wait, self._end_turn)

    async def _end_turn(self) -> None:
        await self._cancel_timer()
        speculation, self._speculation = self._speculation, None
        if speculation and self._match.matches(speculation.text, self._text):
            # The LLM already answered these words: release that answer, run nothing new.
            self._confirmed = True
            await self.trigger_user_turn_finalized(confirms_speculation=True)
            return
        if speculation:
            await self.trigger_user_turn_speculation_cancelled()
        await self.trigger_user_turn_stopped()

    async def _withdraw_speculation(self) -> None:
        speculation, self._speculation = self._speculation, None
        if speculation:
            await self.trigger_user_turn_speculation_cancelled()

    async def _wait_then(self, seconds: float, action) -> None:
        """Run `action` once `seconds` have passed since the caller stopped speaking."""
        await self._cancel_timer()
        delay = max(0.0, (self._stopped_at or time.monotonic()) + seconds - time.monotonic())

        async def wait_and_act():
            await asyncio.sleep(delay)
            self._timer = None
            await action()

        self._timer = self.task_manager.create_task(wait_and_act(), f"{self}::wait")

    async def _cancel_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None and timer is not asyncio.current_task():
            await self.task_manager.cancel_task(timer)

    async def _reset(self) -> None:
        self._text, self._interim, self._final_is_latest = "", "", False
        self._quiet = False
        await self._cancel_timer()
        await self._withdraw_speculation()

    async def handle_user_turn_started(self):
        self._confirmed = False
        self._turn_started_at = time.monotonic()
        await self._reset()

    async def handle_user_turn_stopped(self):
        self._turn_started_at = None
        await self._reset()

    async def cleanup(self):
        await super().cleanup()
        await self._cancel_timer()


def phone_vad() -> PhoneVAD:
    """Silero VAD on the process's shared model; 0.2 s of silence marks a possible end of turn."""
    return PhoneVAD(params=VADParams(stop_secs=VAD_STOP_SECS))


def phone_turn_strategies(vad: PhoneVAD | None = None) -> UserTurnStrategies:
    """Start a turn on the caller's words (not a sound, not the bot's echo: call/echo.py);
    end it on what the final transcript says.

    Pass the call's VAD (`phone_vad()`, the same object given to the user aggregator) so the
    LLM can start as soon as the caller goes quiet, inside the VAD's stop window.
    """
    return UserTurnStrategies(
        start=[PhoneTurnStartStrategy()], stop=[PhoneTurnStopStrategy(vad=vad)]
    )


def fewer_user_speaking_frames(user_aggregator: LLMUserAggregator) -> None:
    """Send the caller's "still speaking" heartbeat (`UserSpeakingFrame`, broadcast both ways
    through every processor) once a second instead of every 0.2 s. In pipecat 1.14 only a
    worker's idle timeout reads it. pipecat takes the period as `VADController`'s
    `speech_activity_period`, but the aggregator builds its controller without one, so it is
    set on the controller afterwards (docs/pipecat-internals.md)."""
    controller = user_aggregator._vad_controller
    if controller is not None:
        controller._speech_activity_period = USER_SPEAKING_EVERY_SECS
