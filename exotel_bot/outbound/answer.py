"""Answer supervision: on a call the bot placed, what picked up, and what the bot does about it.

    answer = AnswerSupervisor.for_call(call, settings, control, phrases, greeting_text)
    Pipeline([..., stt, answer.listener, user_aggregator, ..., answer.gate, llm, ...])

| class     | heard                                         | the bot                              |
|-----------|-----------------------------------------------|--------------------------------------|
| person    | "hello?", "he is not available at the moment" | converses                            |
| voicemail | "... leave a message after the tone", a beep  | after the beep: its message, hang-up |
| ivr       | "for account balance, press 1"                | hangs up                             |
| screening | "say your name and why you are calling"       | says who calls and why; listens on   |
| silence   | nothing for ANSWER_SILENCE_TIMEOUT_SECS       | hangs up                             |

`listener` (right after the STT) classifies each final transcript with `answer_classes.classify`
(rules, immediate) and listens for a beep in the audio (`beep.py`). Nobody is kept waiting: a
person is the default, so the first "hello?" is answered as soon as its turn ends, and if
speech is heard but no words arrive within ANSWER_DECISION_TIMEOUT_SECS the call is a person's
anyway. Until then (from the first sound), a machine's cue or a beep still turns a person into
voicemail or an IVR (a machine's first sentence can be a plain "hello").

`gate` (right before the LLM) keeps the LLM from answering anything but a person, and holds
the greeting until the callee's first words when the dial asked to wait for "hello"
(OUTBOUND_WAIT_FOR_HELLO): the greeting then answers them, or is spoken after
OUTBOUND_HELLO_TIMEOUT_SECS of silence. Each verdict goes to the call record's events
(`on_verdict`), the hang-ups to its end reason (voicemail, ivr, silence) and the dial's
`outcome` in the shared store.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from loguru import logger
from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    StartFrame,
    TranscriptionFrame,
    TTSSpeakFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from exotel_bot.call.control import CallControl
from exotel_bot.call.phrases import Phrases
from exotel_bot.causes import CallEnd
from exotel_bot.outbound.answer_classes import (
    IVR,
    PERSON,
    SCREENING,
    SILENCE,
    VOICEMAIL,
    classify,
)
from exotel_bot.outbound.beep import BeepDetector
from exotel_bot.outbound.hello_gate import HelloGate
from exotel_bot.settings import Settings
from exotel_bot.wire.handshake import ExotelCall

MACHINES = (VOICEMAIL, IVR)
_POLL_SECS = 0.05
SCREENING_PAUSE_SECS = 0.6  # the screening prompt is over after this much quiet
# After the bot has said who is calling, the screening service relays it and the callee
# decides: this long without a word is silence.
SCREENING_WAIT_SECS = 20.0


class AnswerSupervisor:
    """The verdict on what picked up, shared by its two processors (`listener`, `gate`)."""

    def __init__(
        self,
        call: ExotelCall,
        control: CallControl,
        *,
        greeting: str,
        voicemail_message: str,
        screening_message: str,
        enabled: bool = True,
        decision_secs: float = 8.0,
        silence_secs: float = 8.0,
        hello_timeout_secs: float = 3.0,
        message_delay_secs: float = 2.0,
        max_message_wait_secs: float = 30.0,
        on_verdict: Callable[[str, str], None] | None = None,
    ):
        self.call = call
        self.control = control
        self.active = enabled and call.direction == "outbound"
        self.voicemail_message = voicemail_message
        self.screening_message = screening_message
        self.decision_secs = decision_secs
        self.silence_secs = silence_secs
        self.message_delay_secs = message_delay_secs
        self.max_message_wait_secs = max_message_wait_secs
        self._on_verdict = on_verdict
        self.state: str | None = None  # None until a verdict; then one of answer_classes
        self.verdicts: list[str] = []
        self._window_ends = 0.0  # until then a person can still turn out to be a machine
        self.listener = AnswerListener(self, sample_rate=call.listen_sample_rate)
        self.gate = HelloGate(self, greeting, wait=call.wait_for_hello, timeout=hello_timeout_secs)

    @classmethod
    def for_call(
        cls,
        call: ExotelCall,
        settings: Settings,
        control: CallControl,
        phrases: Phrases,
        greeting: str,
        on_verdict: Callable[[str, str], None] | None = None,
    ) -> AnswerSupervisor:
        """The supervisor with the settings' timings and the phrases' messages for this call."""
        name, purpose = call.dial_context.get("name"), call.dial_context.get("purpose")
        return cls(
            call,
            control,
            greeting=greeting,
            voicemail_message=phrases.voicemail_message(name, purpose),
            screening_message=phrases.screening_message(name, purpose),
            enabled=settings.voicemail_detection,
            decision_secs=settings.answer_decision_timeout_secs,
            silence_secs=settings.answer_silence_timeout_secs,
            hello_timeout_secs=settings.outbound_hello_timeout_secs,
            message_delay_secs=settings.voicemail_message_delay_secs,
            max_message_wait_secs=settings.voicemail_max_wait_secs,
            on_verdict=on_verdict,
        )

    def heard_first_words(self) -> None:
        """The decision window runs `decision_secs` from the callee's first sound."""
        if not self._window_ends:
            self._window_ends = time.monotonic() + self.decision_secs

    @property
    def may_change(self) -> bool:
        """A person's verdict within the decision window: a machine's cue can still turn it."""
        return self.active and self.state == PERSON and time.monotonic() <= self._window_ends

    @property
    def lets_the_llm_answer(self) -> bool:
        return not self.active or self.state in (PERSON, None)

    def verdict(self, answer: str, why: str, via: FrameProcessor) -> bool:
        """Take `answer` as what picked up, if it may still change; True if it was taken.
        `via` is the processor whose task saves the dial's outcome."""
        if self.state == answer or self.state in MACHINES or self.state == SILENCE:
            return False
        if self.state == PERSON and (answer == PERSON or time.monotonic() > self._window_ends):
            return False
        self.state = answer
        self.verdicts.append(answer)
        if answer == PERSON:
            self.heard_first_words()
        logger.info(f"Outbound call answered by: {answer} ({why})")
        if self._on_verdict:
            self._on_verdict(answer, why)
        via.create_task(self._save_outcome(answer), "answer-outcome")
        return True

    async def _save_outcome(self, answer: str) -> None:
        """The dial's `outcome` in the shared store (campaigns and status webhooks read it)."""
        from exotel_bot.outbound.dials import dial_store

        try:
            record = await dial_store().by_call_sid(self.call.call_sid)
            if record is not None:
                record.outcome = answer
                await dial_store().save(record)
        except Exception as e:  # the call goes on; the outcome stays in the call record
            logger.warning(f"Could not save the answer's outcome ({e.__class__.__name__}: {e})")


class AnswerListener(FrameProcessor):
    """After the STT: classifies what the callee says and listens for a beep; acts on both."""

    def __init__(self, supervisor: AnswerSupervisor, sample_rate: int, **kwargs):
        super().__init__(**kwargs)
        self._sup = supervisor
        self._beeps = BeepDetector(sample_rate)
        self._heard_speech = False
        self._last_sound = 0.0  # when the callee last started speaking or was transcribed
        self._speaking = False
        self._quiet_since = time.monotonic()
        self._tasks: list[asyncio.Task] = []
        self._acting = False

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        sup = self._sup
        if sup.active:
            if isinstance(frame, StartFrame):
                self._later(self._silence_bound(), "answer-silence")
            elif isinstance(frame, InputAudioRawFrame) and self._listening_for_beeps():
                if self._beeps.feed(frame.audio):
                    await self._beep()
            elif isinstance(frame, VADUserStartedSpeakingFrame):
                self._speaking = True
                self._last_sound = time.monotonic()
                if not self._heard_speech:
                    self._heard_speech = True
                    sup.heard_first_words()
                    self._later(self._decision_bound(), "answer-decision")
            elif isinstance(frame, VADUserStoppedSpeakingFrame):
                self._speaking = False
                self._quiet_since = time.monotonic()
            elif isinstance(frame, TranscriptionFrame) and frame.text.strip():
                self._heard_speech = True
                self._last_sound = time.monotonic()
                await self._words(frame.text)
        elif isinstance(frame, TranscriptionFrame) and frame.text.strip():
            await sup.gate.greet_now("the callee spoke first")  # unsupervised: any words
        await self.push_frame(frame, direction)

    def _later(self, coroutine, name: str) -> None:
        self._tasks.append(self.create_task(coroutine, name))

    def _listening_for_beeps(self) -> bool:
        sup = self._sup
        if sup.state == PERSON:
            return time.monotonic() <= sup._window_ends
        return sup.state in (None, SCREENING, VOICEMAIL) and not self._acting

    async def _words(self, text: str) -> None:
        answer = classify(text)
        if not self._sup.verdict(answer, f"heard {text[:80]!r}", self):
            return
        if answer == PERSON:
            await self._sup.gate.greet_now("the callee spoke first")
        if answer in MACHINES and PERSON in self._sup.verdicts:
            self._later(self.broadcast_interruption(), "answer-stop-talking")  # not to a machine
        if answer == IVR:
            self._hang_up("an IVR menu answered", None, IVR)
        elif answer == VOICEMAIL:
            self._later(self._leave_message_when_quiet(), "answer-voicemail")
        elif answer == SCREENING:  # who is calling and why; the next words are classified anew
            self._later(self._answer_screening(), "answer-screening")

    async def _beep(self) -> None:
        sup = self._sup
        if sup.state != VOICEMAIL and not sup.verdict(VOICEMAIL, "heard a beep", self):
            return
        self._leave_message("the beep has ended")

    async def _answer_screening(self) -> None:
        """Once the screening prompt is over, say who is calling and why; then listen again."""
        while self._speaking or time.monotonic() - self._quiet_since < SCREENING_PAUSE_SECS:
            await asyncio.sleep(_POLL_SECS)
        await self.push_frame(TTSSpeakFrame(self._sup.screening_message))
        await self._silence_bound(SCREENING_WAIT_SECS)

    async def _leave_message_when_quiet(self) -> None:
        """No beep (yet): leave the message once the greeting has been quiet long enough."""
        started = time.monotonic()
        while not self._acting:
            now = time.monotonic()
            quiet = not self._speaking and now - self._quiet_since >= self._sup.message_delay_secs
            if quiet and not self._beeps.in_tone:
                self._leave_message(f"{self._sup.message_delay_secs:g} s of quiet")
                return
            if now - started >= self._sup.max_message_wait_secs:
                self._leave_message("the greeting went on too long")
                return
            await asyncio.sleep(_POLL_SECS)

    def _leave_message(self, why: str) -> None:
        self._hang_up(f"answering machine, {why}", self._sup.voicemail_message, VOICEMAIL)

    def _hang_up(self, reason: str, words: str | None, outcome: str) -> None:
        """In a task of its own: the interruption restarts this processor's frame queue."""
        if not self._acting:
            self._acting = True
            self.create_task(self._end(reason, words, outcome), "answer-hang-up")

    async def _end(self, reason: str, words: str | None, outcome: str) -> None:
        await self.broadcast_interruption()  # whatever the bot was saying stops here
        await self._sup.control.hang_up(reason, words, outcome=CallEnd(outcome), via=self)

    async def _decision_bound(self) -> None:
        """Speech but no words in time: a person, the default class (never stuck)."""
        await asyncio.sleep(self._sup.decision_secs)
        if self._sup.state is None:
            why = f"no words in {self._sup.decision_secs:g} s: the default"
            self._sup.verdict(PERSON, why, self)

    async def _silence_bound(self, secs: float | None = None) -> None:
        """Nothing said for `secs` (from the answer, or the screening message): hang up."""
        started = time.monotonic()
        secs = self._sup.silence_secs if secs is None else secs
        await asyncio.sleep(secs)
        said = self._last_sound > started or self._speaking
        why = f"nothing said in {secs:g} s"
        if (
            self._sup.state in (None, SCREENING)
            and not said
            and self._sup.verdict(SILENCE, why, self)
        ):
            self._hang_up("nobody answered (silence)", None, SILENCE)

    async def cleanup(self):
        await super().cleanup()
        for task in self._tasks:
            await self.cancel_task(task)
