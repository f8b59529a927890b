"""Call control: what a phone call needs that pipecat's Exotel support lacks.

- The caller hangs up: Exotel's `stop` cancels the pipeline at once (LLM/TTS work included).
- The bot hangs up: it says goodbye, waits until Exotel echoes a `mark` sent after the goodbye
  (the caller has heard it; pipecat's pacing runs ahead of playback), then closes the stream and
  the App Bazaar flow moves on to its next applet.
- Transfer to a human: the decision is stored for the flow's Passthru applet (the process's
  `exotel_bot.stores`, read by `/exotel/passthru`), then the bot hangs up so the flow can
  connect an agent.
- Keypad: digits become one user message ("#" or a pause ends it); TRANSFER_DIGIT asks for a human.
- Silence check-ins, and a maximum call length.
- A `mark` after every bot turn, so logs show when the caller actually heard each one.
- The LLM's `end_call` and `transfer_to_agent` tools (their schemas: call/llm_tools.py).

`CallControl.input()` goes right after `transport.input()`, `CallControl.output()` right before
`transport.output()`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from loguru import logger
from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    CancelWorkerFrame,
    EndWorkerFrame,
    Frame,
    InputAudioRawFrame,
    InputDTMFFrame,
    InputTransportMessageFrame,
    LLMMessagesAppendFrame,
    OutputTransportMessageFrame,
    StartFrame,
    TTSSpeakFrame,
    TTSStoppedFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from exotel_bot.call.llm_tools import end_call_tool, transfer_tool
from exotel_bot.call.phrases import Phrases
from exotel_bot.records.turns import TURN_CAUSE
from exotel_bot.settings import Settings
from exotel_bot.stores import StoreUnavailable, TransferDecisions, stores
from exotel_bot.wire.handshake import ExotelCall


class _ControlInput(FrameProcessor):
    """Right after the transport: Exotel's `stop` and `mark` echoes, and keypad digits."""

    def __init__(self, control: CallControl):
        super().__init__(name="CallControlInput")
        self._control = control

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, StartFrame):
            await self.push_frame(frame, direction)
            self._control.started(self)
            return
        if isinstance(frame, InputAudioRawFrame) and self._control.ending:
            return  # the bot is saying goodbye: nothing the caller says now starts a turn
        if isinstance(frame, InputTransportMessageFrame) and isinstance(frame.message, dict):
            await self._control.exotel_event(frame.message)
        elif isinstance(frame, InputDTMFFrame):
            await self._control.keypad(frame.button.value)
        await self.push_frame(frame, direction)

    async def cleanup(self):
        await super().cleanup()
        await self._control.stop_timers()


class _ControlOutput(FrameProcessor):
    """Right before the transport: a `mark` after every bot turn's audio."""

    def __init__(self, control: CallControl):
        super().__init__(name="CallControlOutput")
        self._control = control

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)
        if isinstance(frame, BotStartedSpeakingFrame):
            self._control.bot_started_speaking()
        if isinstance(frame, TTSStoppedFrame) and direction == FrameDirection.DOWNSTREAM:
            await self.push_frame(self._control.turn_mark())


class CallControl:
    """Hang-up, transfer, keypad, silence and time limits for one Exotel call."""

    def __init__(
        self,
        call: ExotelCall,
        settings: Settings,
        phrases: Phrases,
        decisions: TransferDecisions | None = None,
        on_end: Callable[[str, str], None] | None = None,
    ):
        self.call = call
        self.end_reason: str | None = None
        self._settings = settings
        self._phrases = phrases
        self._decisions = decisions  # None: the process's store, looked up when needed
        self._on_end = on_end  # e.g. the call record's set_end_reason(outcome, detail)
        self._input = _ControlInput(self)
        self._output = _ControlOutput(self)
        self._ending = False
        self._turns = 0
        self._marks_sent: dict[str, float] = {}
        self._mark_waiters: dict[str, asyncio.Event] = {}
        self._digits = ""
        self._digit_task: asyncio.Task | None = None
        self._check_ins = 0
        self._keys_unanswered = False  # keys pressed since the bot last started speaking
        self._time_limit_task: asyncio.Task | None = None

    @property
    def ending(self) -> bool:
        """The call is ending: the bot hung up or the caller did."""
        return self._ending

    def input(self) -> FrameProcessor:
        return self._input

    def output(self) -> FrameProcessor:
        return self._output

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
        outcome: str = "bot_hung_up",
        cause: str = "goodbye",
        via: FrameProcessor | None = None,
    ) -> None:
        """Say `goodbye`, wait until the caller has heard it, then close the stream.

        `cause` names the goodbye's bot turn in the call record ("time_limit", ...). `via` is
        the processor the goodbye leaves from, when one between `input()` and the TTS holds
        frames back (the voicemail detector does, once it has heard a machine).
        """
        if self._ending:
            return
        self._ending = True
        self.end_reason = f"{outcome.replace('_', ' ')}: {reason}"
        if self._on_end:
            self._on_end(outcome, reason)
        logger.info(f"Hanging up ({reason})")
        heard = self._expect_mark("goodbye")
        if goodbye:
            speech = TTSSpeakFrame(goodbye)
            speech.interruptible = False
            speech.metadata[TURN_CAUSE] = cause
            await (via or self._input).push_frame(speech)
        # Audio contexts keep frames in order, so this mark leaves after the goodbye's audio.
        await (via or self._input).push_frame(self._mark_frame("goodbye"))
        try:
            await asyncio.wait_for(heard.wait(), self._settings.goodbye_timeout_secs)
            logger.info("The caller has heard the goodbye; closing the stream")
        except TimeoutError:
            logger.warning("Exotel did not echo the goodbye mark in time; closing the stream")
        await self._input.push_frame(EndWorkerFrame(reason=reason), FrameDirection.UPSTREAM)

    async def transfer_to_agent(
        self, reason: str, decision: str = "transfer", notice: str | None = None
    ) -> None:
        """Record the transfer for the Passthru (and Connect) applet, tell the caller, and
        hang up. `decision` is what the store keeps (call/departments.py adds a department to
        it); `notice` what the caller hears instead of the `transfer` phrase."""
        if self._ending:
            return
        decisions = self._decisions or stores().transfers
        try:
            await decisions.set(self.call.call_sid, decision)
        except StoreUnavailable as e:  # the caller still hears the hand-over; Passthru hangs up
            logger.error(f"Could not save the transfer decision ({e})")
        logger.info(f"Transferring to an agent ({reason})")
        notice = notice or self._phrases.transfer
        await self.hang_up(reason, notice, outcome="transferred", cause="transfer")

    # --- Silence ------------------------------------------------------------------------------

    async def caller_is_silent(self) -> None:
        """The caller said nothing for SILENCE_TIMEOUT_SECS: check in, or give up and hang up."""
        if self._ending or self._keys_unanswered:
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
            await self._input.push_frame(check_in)

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
                await self._input.cancel_task(task)
        self._time_limit_task = self._digit_task = None

    async def _time_limit(self) -> None:
        await asyncio.sleep(self._settings.max_call_secs)
        await self.hang_up("time limit reached", self._phrases.time_up, cause="time_limit")

    async def exotel_event(self, message: dict) -> None:
        event = message.get("event")
        if event == "stop":
            stop = message.get("stop") if isinstance(message.get("stop"), dict) else {}
            reason = str(stop.get("reason") or "stopped")[:80]  # any type: a stop always ends
            if not self._ending:
                self._ending = True
                self.end_reason = f"caller hung up ({reason})"
            logger.info(f"Exotel stopped the stream ({reason}); ending the call")
            await self._input.push_frame(
                CancelWorkerFrame(reason=f"exotel stop: {reason}"), FrameDirection.UPSTREAM
            )
        elif event == "mark":
            mark = message.get("mark") if isinstance(message.get("mark"), dict) else {}
            self._mark_heard(str(mark.get("name", ""))[:80])

    async def keypad(self, digit: str) -> None:
        """Collect digits into one input; the transfer digit alone asks for a person."""
        if self._ending:
            return
        self._keys_unanswered = True  # a caller typing, or waiting for the answer, is not silent
        if digit == self._settings.transfer_digit and not self._digits:
            self._input.create_task(self.transfer_to_agent("caller pressed the transfer key"))
            return
        if not self._digits:
            await self._input.broadcast_interruption()  # stop talking: the caller is typing
        if self._digit_task:
            await self._input.cancel_task(self._digit_task)
            self._digit_task = None
        if digit == "#":
            await self._send_digits()
            return
        self._digits += digit
        self._digit_task = self._input.create_task(self._digits_after_pause(), name="dtmf")

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
        await self._input.push_frame(keypad)

    # --- Exotel marks -------------------------------------------------------------------------

    def turn_mark(self) -> OutputTransportMessageFrame:
        self._turns += 1
        return self._mark_frame(f"turn-{self._turns}")

    def _mark_frame(self, name: str) -> OutputTransportMessageFrame:
        self._marks_sent[name] = time.monotonic()
        message = {"event": "mark", "stream_sid": self.call.stream_sid, "mark": {"name": name}}
        frame = OutputTransportMessageFrame(message=message)
        frame.interruptible = False  # an interruption must not drop the goodbye's mark
        return frame

    def _expect_mark(self, name: str) -> asyncio.Event:
        return self._mark_waiters.setdefault(name, asyncio.Event())

    def _mark_heard(self, name: str) -> None:
        sent = self._marks_sent.pop(name, None)
        if sent is not None:
            logger.debug(f"Caller heard {name} ({time.monotonic() - sent:.2f} s after it was sent)")
        waiter = self._mark_waiters.pop(name, None)
        if waiter:
            waiter.set()
