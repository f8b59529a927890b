"""Outbound calls: the LLM answers only a person, and the greeting may wait for "hello?".

People who pick up an unknown number speak first; a bot that talks straight over their
"hello?" sounds like a recording. With `wait` (OUTBOUND_WAIT_FOR_HELLO) `HelloGate` holds the
greeting until the callee has spoken (or stayed silent for `timeout` seconds) and answers that
first "hello" with the greeting itself instead of an LLM reply. Whatever the answer
supervisor (answer.py) has judged a machine never reaches the LLM.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from loguru import logger
from pipecat.frames.frames import (
    CancelFrame,
    EagerEndOfTurnCancelFrame,
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


class Verdicts(Protocol):
    """What the gate asks the answer supervisor (answer.py's AnswerSupervisor)."""

    active: bool
    state: str | None

    @property
    def lets_the_llm_answer(self) -> bool: ...

    @property
    def may_change(self) -> bool: ...

    def verdict(self, answer: str, why: str, via: FrameProcessor) -> bool: ...


# Frames that (re)start the hello timer, and frames that stop it.
_TIMER_STARTS = (StartFrame, UserStoppedSpeakingFrame, VADUserStoppedSpeakingFrame)
_TIMER_STOPS = (UserStartedSpeakingFrame, VADUserStartedSpeakingFrame, EndFrame, CancelFrame)


class HelloGate(FrameProcessor):
    """Before the LLM: only a person's turns reach it; with `wait`, the greeting answers the
    callee's first words (or follows `timeout` s of silence) instead of an LLM reply."""

    def __init__(self, supervisor: Verdicts, greeting: str, *, wait: bool, timeout: float, **kw):
        super().__init__(**kw)
        self._sup = supervisor
        self._greeting = greeting
        self._waiting = wait
        self._timeout = timeout
        self._timer: asyncio.Task | None = None
        self._held: LLMContextFrame | None = None  # a speculative turn, until the turn ends
        self._answered = False  # the greeting answered the turn in progress

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMContextFrame):
            await self._context(frame, direction)
            return
        downstream = direction == FrameDirection.DOWNSTREAM
        if isinstance(frame, EagerEndOfTurnCancelFrame):
            self._held = None  # the speculation was withdrawn
        elif isinstance(frame, UserStoppedSpeakingFrame) and downstream:
            held, self._held = self._held, None
            if self._answered and held is not None:
                self._answered = False  # a confirmed speculation: no context frame follows
            elif held is not None:
                await self._turn_ended(held)  # ahead of the turn's end, as pipecat orders them
        await self.push_frame(frame, direction)
        if not self._waiting:
            return
        if isinstance(frame, _TIMER_STARTS):
            self._start_timer()
        elif isinstance(frame, _TIMER_STOPS):
            await self._stop_timer()  # they are talking: greet when their turn ends

    async def _context(self, frame: LLMContextFrame, direction: FrameDirection) -> None:
        """A turn for the LLM. A speculative one (pipecat's early inference, confirmed later
        by the turn's end without a second context frame) is held until the turn ends while
        there is no verdict yet, the greeting is still owed, or a person may yet turn out to
        be a machine."""
        sup = self._sup
        if self._answered:  # the greeting already answered this turn
            if frame.speculation:
                self._held = frame  # dropped when the turn ends
            else:
                self._answered = False  # its context frame: the next turn is the LLM's
            return
        if sup.active and sup.state is None:
            if frame.speculation:
                self._held = frame
                return
            sup.verdict("person", "a turn ended before any verdict: the default", self)
        if not sup.lets_the_llm_answer:
            self._held = None
            return  # a machine: the LLM does not answer it
        if self._waiting:
            if frame.speculation:
                self._held = frame
            else:
                await self._greet("the callee spoke first")
            return  # the callee's first words are answered by the greeting
        if frame.speculation and sup.may_change:
            self._held = frame  # its final words may still show a machine
            return
        await self.push_frame(frame, direction)

    async def _turn_ended(self, held: LLMContextFrame) -> None:
        sup = self._sup
        if sup.active and sup.state is None:
            sup.verdict("person", "a turn ended before any verdict: the default", self)
        if not sup.lets_the_llm_answer:
            return
        if self._waiting:
            await self._greet("the callee spoke first")
        else:
            await self.push_frame(held)

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
        if self._sup.lets_the_llm_answer:
            await self._greet(f"no hello within {self._timeout:g} s")

    async def greet_now(self, why: str) -> None:
        """The callee's first words were a person's: greet now, not at the end of their turn
        (the turn's own end can be seconds later); that turn gets no LLM reply of its own."""
        if self._waiting:
            # A final transcript always belongs to a turn that ends after it (pipecat starts
            # a turn on a transcript if none is open): that turn's context frame (before or
            # after its end), or its confirmed speculation, clears this.
            self._answered = True
            await self._greet(why)

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
