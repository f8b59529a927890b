"""Call control: what a phone call needs that pipecat's Exotel support lacks.

- The caller hangs up: Exotel's `stop` (an `ExotelStopFrame`) cancels the pipeline at once
  (LLM/TTS work included).
- The bot hangs up: it says goodbye, waits until Exotel echoes a `mark` sent after the goodbye
  (the caller has heard it: the bot sends a little ahead of playback, wire/playout.py), then
  closes the stream and the App Bazaar flow moves on to its next applet.
- Transfer to a human: the decision is stored for the flow's Passthru applet (the transfer
  decisions store, read by `/exotel/passthru`), then the bot hangs up so the flow can connect
  an agent.
- Keypad: digits become one user message ("#" or a pause ends it); TRANSFER_DIGIT asks for a human.
- Silence check-ins (pipecat's user-idle timer, which starts when the caller has heard the
  bot's last word: the output transport announces "bot stopped speaking" at playout time), and
  a maximum call length.
- A `mark` after every bot turn (`turn_mark()`), so logs show when the caller heard each one.
- The LLM's `end_call` and `transfer_to_agent` tools (their schemas: call/llm_tools.py).

How the call ended is the call's `Ending` (exotel_bot/causes.py), shared with the call record.
`CallControl.processor()` goes right after the user aggregator: the caller's audio stops there
(nothing after it needs it), and `user_mute_strategy()` keeps the caller from starting a turn
while the bot says goodbye.
"""

from __future__ import annotations

import asyncio
import time

from loguru import logger
from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    CancelWorkerFrame,
    EndWorkerFrame,
    Frame,
    InputAudioRawFrame,
    InputDTMFFrame,
    LLMMessagesAppendFrame,
    StartFrame,
    TTSSpeakFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.turns.user_mute.base_user_mute_strategy import BaseUserMuteStrategy

from exotel_bot.call.llm_tools import end_call_tool, transfer_tool
from exotel_bot.call.phrases import Phrases
from exotel_bot.causes import TURN_CAUSE, CallEnd, Ending, Evidence
from exotel_bot.settings import Settings
from exotel_bot.stores import StoreUnavailable, TransferDecisions
from exotel_bot.wire.frames import ExotelMarkFrame, ExotelMarkOutFrame, ExotelStopFrame
from exotel_bot.wire.handshake import ExotelCall


class CallControlProcessor(FrameProcessor):
    """Right after the user aggregator: Exotel's `stop` and `mark` echoes, keypad digits, the
    bot starting to speak; the caller's audio goes no further (it costs CPU at every stage)."""

    def __init__(self, control: CallControl):
        # Direct mode: no queue and no task of its own, so the frames it passes on (every one
        # after the user aggregator) cost no extra hop.
        super().__init__(name="CallControl", enable_direct_mode=True)
        self._control = control

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        control = self._control
        if isinstance(frame, InputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
            return  # the caller's audio: heard by the STT and the VAD, needed by nothing after
        if isinstance(frame, StartFrame):
            await self.push_frame(frame, direction)
            control.started(self)
            return
        if isinstance(frame, ExotelStopFrame):
            await control.stopped(frame.reason)
            return
        if isinstance(frame, ExotelMarkFrame):
            control.mark_heard(frame.mark)
            return
        if isinstance(frame, InputDTMFFrame):
            await control.keypad(frame.button.value)
        elif isinstance(frame, BotStartedSpeakingFrame):
            control.bot_started_speaking()
        await self.push_frame(frame, direction)

    async def cleanup(self):
        await super().cleanup()
        await self._control.stop_timers()


class MuteWhileEnding(BaseUserMuteStrategy):
    """pipecat's user mute: nothing the caller says starts a turn once the call is ending."""

    def __init__(self, ending: Ending, **kwargs):
        super().__init__(**kwargs)
        self._ending = ending

    async def process_frame(self, frame: Frame) -> bool:
        return self._ending.final


class CallControl:
    """Hang-up, transfer, keypad, silence and time limits for one Exotel call."""

    def __init__(
        self,
        call: ExotelCall,
        settings: Settings,
        phrases: Phrases,
        decisions: TransferDecisions,
        *,
        ending: Ending | None = None,
    ):
        self.call = call
        self.ending = ending if ending is not None else Ending()
        self._settings = settings
        self._phrases = phrases
        self._decisions = decisions  # where a transfer is kept for the Passthru applet
        self._processor = CallControlProcessor(self)
        self._turns = 0
        self._marks_sent: dict[str, float] = {}
        self._mark_waiters: dict[str, asyncio.Event] = {}
        self._digits = ""
        self._digit_task: asyncio.Task | None = None
        self._check_ins = 0
        self._keys_unanswered = False  # keys pressed since the bot last started speaking
        self._time_limit_task: asyncio.Task | None = None

    def processor(self) -> FrameProcessor:
        """The call-control stage: right after the user aggregator."""
        return self._processor

    def user_mute_strategy(self) -> BaseUserMuteStrategy:
        """For the user aggregator's `user_mute_strategies`: mute the caller while ending."""
        return MuteWhileEnding(self.ending)

    @property
    def end_call_tool(self) -> FunctionSchema:
        """The `end_call` tool: the LLM hangs up (saying its goodbye first). List it in the
        `LLMContext`'s tools; pipecat registers its handler."""
        return end_call_tool(self, self._phrases)

    @property
    def transfer_tool(self) -> FunctionSchema:
        """The `transfer_to_agent` tool: the LLM hands the caller to a person (see
        docs/call-control.md for the Passthru applet that makes the transfer)."""
        return transfer_tool(self)

    # --- Ending the call --------------------------------------------------------------------

    async def hang_up(
        self,
        reason: str,
        goodbye: str | None = None,
        *,
        outcome: CallEnd = CallEnd.BOT_HUNG_UP,
        cause: str = "goodbye",
        via: FrameProcessor | None = None,
    ) -> None:
        """Say `goodbye`, wait until the caller has heard it, then close the stream.

        `outcome` is the call's end (`CallEnd`); `cause` names the goodbye's bot turn in the
        call record ("time_limit", ...). `via` is the processor the goodbye leaves from, when
        one before the TTS holds frames back (the voicemail detector does, once it has heard a
        machine).
        """
        if self.ending.final:
            return
        self.ending.note(Evidence.DECIDED, outcome, reason)
        logger.info(f"Hanging up ({reason})")
        heard = self._expect_mark("goodbye")
        if goodbye:
            speech = TTSSpeakFrame(goodbye)
            speech.interruptible = False
            speech.metadata[TURN_CAUSE] = cause
            await (via or self._processor).push_frame(speech)
        # Audio contexts keep frames in order, so this mark leaves after the goodbye's audio.
        await (via or self._processor).push_frame(self._mark_frame("goodbye"))
        try:
            await asyncio.wait_for(heard.wait(), self._settings.goodbye_timeout_secs)
            logger.info("The caller has heard the goodbye; closing the stream")
        except TimeoutError:
            logger.warning("Exotel did not echo the goodbye mark in time; closing the stream")
        await self._processor.push_frame(EndWorkerFrame(reason=reason), FrameDirection.UPSTREAM)

    async def transfer_to_agent(
        self, reason: str, decision: str = "transfer", notice: str | None = None
    ) -> None:
        """Record the transfer for the Passthru (and Connect) applet, tell the caller, and
        hang up. `decision` is what the store keeps (call/departments.py adds a department to
        it); `notice` what the caller hears instead of the `transfer` phrase."""
        if self.ending.final:
            return
        try:
            await self._decisions.set(self.call.call_sid, decision)
        except StoreUnavailable as e:  # the caller still hears the hand-over; Passthru hangs up
            logger.error(f"Could not save the transfer decision ({e})")
        logger.info(f"Transferring to an agent ({reason})")
        await self.hang_up(
            reason, notice or self._phrases.transfer, outcome=CallEnd.TRANSFERRED, cause="transfer"
        )

    # --- Silence ------------------------------------------------------------------------------

    async def caller_is_silent(self) -> None:
        """The caller said nothing for SILENCE_TIMEOUT_SECS: check in, or give up and hang up."""
        if self.ending.final or self._keys_unanswered:
            return  # the bot's answer to the keys is coming; the timer restarts after it
        self._check_ins += 1
        if self._check_ins > self._settings.silence_check_ins:
            await self.hang_up(
                "caller silent", self._phrases.silence_goodbye, cause="silence_goodbye"
            )
        else:
            logger.info(f"Caller silent: check-in {self._check_ins}")
            check_in = TTSSpeakFrame(self._phrases.check_in)
            check_in.metadata[TURN_CAUSE] = "silence_check_in"
            await self._processor.push_frame(check_in)

    def caller_spoke(self) -> None:
        self._check_ins = 0

    def bot_started_speaking(self) -> None:
        self._keys_unanswered = False

    # --- Events from the pipeline -------------------------------------------------------------

    def started(self, processor: FrameProcessor) -> None:
        if self._settings.max_call_secs > 0:
            self._time_limit_task = processor.create_task(self._time_limit(), "call-time-limit")

    async def stop_timers(self) -> None:
        for task in (self._time_limit_task, self._digit_task):
            if task and not task.done():
                await self._processor.cancel_task(task)
        self._time_limit_task = self._digit_task = None

    async def _time_limit(self) -> None:
        await asyncio.sleep(self._settings.max_call_secs)
        await self.hang_up("time limit reached", self._phrases.time_up, cause="time_limit")

    async def stopped(self, reason: str) -> None:
        """Exotel's `stop`: the caller hung up (or the flow moved on); end the call at once."""
        self.ending.note(Evidence.STOP, CallEnd.CALLER_HUNG_UP, reason)
        logger.info(f"Exotel stopped the stream ({reason}); ending the call")
        await self._processor.push_frame(
            CancelWorkerFrame(reason=f"exotel stop: {reason}"), FrameDirection.UPSTREAM
        )

    async def keypad(self, digit: str) -> None:
        """Collect digits into one input; the transfer digit alone asks for a person."""
        if self.ending.final:
            return
        self._keys_unanswered = True  # a caller typing, or waiting for the answer, is not silent
        if digit == self._settings.transfer_digit and not self._digits:
            self._processor.create_task(self.transfer_to_agent("caller pressed the transfer key"))
            return
        if not self._digits:
            await self._processor.broadcast_interruption()  # stop talking: the caller is typing
        if self._digit_task:
            await self._processor.cancel_task(self._digit_task)
            self._digit_task = None
        if digit == "#":
            await self._send_digits()
            return
        self._digits += digit
        self._digit_task = self._processor.create_task(self._digits_after_pause(), name="dtmf")

    async def _digits_after_pause(self) -> None:
        await asyncio.sleep(self._settings.dtmf_timeout_secs)
        self._digit_task = None
        await self._send_digits()

    async def _send_digits(self) -> None:
        digits, self._digits = self._digits, ""
        if not digits:
            return
        logger.info(f"Keypad input: {len(digits)} digit(s)")
        self.caller_spoke()
        message = {"role": "user", "content": self._phrases.keypad.format(digits=digits)}
        keypad = LLMMessagesAppendFrame(messages=[message], run_llm=True)
        keypad.metadata[TURN_CAUSE] = "keypad"
        # Upstream, to the user aggregator: the digits join the conversation as the caller's.
        await self._processor.push_frame(keypad, FrameDirection.UPSTREAM)

    # --- Exotel marks -------------------------------------------------------------------------

    def turn_mark(self) -> ExotelMarkOutFrame:
        """A mark to send after a bot turn's audio (`turn-1`, `turn-2`, ...)."""
        self._turns += 1
        return self._mark_frame(f"turn-{self._turns}")

    def _mark_frame(self, name: str) -> ExotelMarkOutFrame:
        self._marks_sent[name] = time.monotonic()
        return ExotelMarkOutFrame(mark=name)

    def _expect_mark(self, name: str) -> asyncio.Event:
        return self._mark_waiters.setdefault(name, asyncio.Event())

    def mark_heard(self, name: str) -> None:
        """Exotel echoed the mark `name`: the audio before it has played."""
        sent = self._marks_sent.pop(name, None)
        if sent is not None:
            logger.debug(f"Caller heard {name} ({time.monotonic() - sent:.2f} s after it was sent)")
        waiter = self._mark_waiters.pop(name, None)
        if waiter:
            waiter.set()
