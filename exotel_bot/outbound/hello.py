"""Outbound calls: let the callee say "hello?" first, then greet them.

People who pick up an unknown number speak first; a bot that talks straight over their
"hello?" sounds like a recording. `WaitForHello` holds the greeting until the callee has
spoken (or stayed silent for `timeout` seconds), and answers that first "hello" with the
greeting itself instead of an LLM reply.
"""

from __future__ import annotations

import asyncio

from loguru import logger
from pipecat.frames.frames import (
    CancelFrame,
    EndFrame,
    Frame,
    LLMContextFrame,
    StartFrame,
    TTSSpeakFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from exotel_bot.settings import load_settings

# Frames that (re)start the silence timer, and frames that stop it.
_TIMER_STARTS = (StartFrame, UserStoppedSpeakingFrame, VADUserStoppedSpeakingFrame)
_TIMER_STOPS = (UserStartedSpeakingFrame, VADUserStartedSpeakingFrame, EndFrame, CancelFrame)


def hello_timeout_secs() -> float:
    """OUTBOUND_HELLO_TIMEOUT_SECS: greet anyway after this much silence from the callee."""
    return load_settings(require_keys=False).outbound_hello_timeout_secs


class WaitForHello(FrameProcessor):
    """Speaks `greeting` once the callee's first turn ends, or after `timeout` s of silence.

    Goes between the user aggregator and the LLM. Until it has greeted, it holds back the
    LLM's context frames: the greeting is the answer to "hello?". Disabled, it passes
    everything through untouched.
    """

    def __init__(
        self, greeting: str, *, enabled: bool = True, timeout: float | None = None, **kwargs
    ):
        super().__init__(**kwargs)
        self._greeting = greeting
        self._waiting = enabled
        self._timeout = hello_timeout_secs() if timeout is None else timeout
        self._timer: asyncio.Task | None = None

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if not self._waiting:
            await self.push_frame(frame, direction)
            return

        if isinstance(frame, LLMContextFrame):
            if not frame.speculation:
                await self._greet("the callee spoke first")
            return  # the callee's first words are answered by the greeting, not the LLM

        await self.push_frame(frame, direction)
        if isinstance(frame, _TIMER_STARTS):
            self._start_timer()
        elif isinstance(frame, _TIMER_STOPS):
            await self._stop_timer()  # they are talking: greet when their turn ends

    def _start_timer(self) -> None:
        if self._timer is None:
            self._timer = self.create_task(self._greet_after_silence(), "wait_for_hello")

    async def _stop_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None and timer is not asyncio.current_task():
            await self.cancel_task(timer)

    async def _greet_after_silence(self) -> None:
        await asyncio.sleep(self._timeout)
        self._timer = None
        await self._greet(f"no hello within {self._timeout:g} s")

    async def _greet(self, why: str) -> None:
        if not self._waiting:
            return
        self._waiting = False
        await self._stop_timer()
        logger.info(f"Greeting the callee ({why})")
        await self.push_frame(TTSSpeakFrame(self._greeting))

    async def cleanup(self):
        await super().cleanup()
        await self._stop_timer()
