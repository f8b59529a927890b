"""Outbound calls: what picked up, and when to greet. The one place answer detection is built.

On a call the bot placed, two processors watch the answer (exotel_bot/outbound/answer.py):

- after the STT, the answer supervisor's listener decides between a person, voicemail (a
  greeting, then a beep), an IVR menu, call screening and silence, and acts on each (leaves the
  message after the beep, says who is calling, hangs up on an IVR or silence);
- after call control, its gate lets only a person's turns reach the LLM and, with
  OUTBOUND_WAIT_FOR_HELLO, holds the greeting until the callee has said "hello?".

Inbound calls get neither: no stage, no cost. To supervise the answer differently, change
`answer_detection()` below: `PhoneCall` places its two lists, and bot.py places
`PhoneCall.answer_detection()` and `PhoneCall.call_control()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pipecat.processors.frame_processor import FrameProcessor

from exotel_bot.call.control import CallControl
from exotel_bot.call.phrases import Phrases
from exotel_bot.outbound.answer import AnswerSupervisor
from exotel_bot.settings import Settings
from exotel_bot.wire.handshake import ExotelCall


@dataclass
class AnswerDetection:
    """The processors that watch an outbound call's answer, by where they go."""

    after_stt: list[FrameProcessor] = field(default_factory=list)
    after_turns: list[FrameProcessor] = field(default_factory=list)
    supervisor: AnswerSupervisor | None = None


def answer_detection(
    call: ExotelCall,
    settings: Settings,
    phrases: Phrases,
    greeting: str,
    control: CallControl,
    on_verdict: Callable[[str, str], None] | None = None,
) -> AnswerDetection:
    """Empty for inbound calls; on outbound ones, the answer supervisor's listener (after the
    STT; VOICEMAIL_DETECTION turns its verdicts off) and its hello gate (after call control;
    the dial's `wait_for_hello`, OUTBOUND_HELLO_TIMEOUT_SECS). `on_verdict(kind, why)` hears
    each verdict (the call record keeps them)."""
    if call.direction != "outbound":
        return AnswerDetection()
    supervisor = AnswerSupervisor.for_call(
        call, settings, control, phrases, greeting, on_verdict=on_verdict
    )
    return AnswerDetection([supervisor.listener], [supervisor.gate], supervisor)
