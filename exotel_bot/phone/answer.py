"""Outbound calls: who answered, and when to greet. The one place answer detection is built.

On a call the bot placed, two things happen before the conversation proper:

- after the STT, pipecat's voicemail detector (outbound/voicemail.py) decides between a
  person and an answering machine, and leaves a message on a machine;
- after the user aggregator, `WaitForHello` (outbound/hello.py) holds the greeting until the
  callee has said "hello?" (OUTBOUND_WAIT_FOR_HELLO).

Inbound calls get neither: no stage, no cost. To supervise the answer differently (one
processor for both, say), change `answer_detection()` below: `PhoneCall` places its two lists,
and bot.py places `PhoneCall.answer_detection()` and `PhoneCall.call_control()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipecat.processors.frame_processor import FrameProcessor
from pipecat.services.llm_service import LLMService

from exotel_bot.call.phrases import Phrases
from exotel_bot.outbound.hello import WaitForHello
from exotel_bot.outbound.voicemail import HangUp, voicemail_detector
from exotel_bot.settings import Settings
from exotel_bot.wire.handshake import ExotelCall


@dataclass
class AnswerDetection:
    """The processors that watch an outbound call's answer, by where they go."""

    after_stt: list[FrameProcessor] = field(default_factory=list)
    after_turns: list[FrameProcessor] = field(default_factory=list)


def answer_detection(
    call: ExotelCall,
    settings: Settings,
    phrases: Phrases,
    greeting: str,
    llm: LLMService,
    hang_up: HangUp,
) -> AnswerDetection:
    """Empty for inbound calls; on outbound ones, the voicemail detector (VOICEMAIL_DETECTION)
    and the hello gate (the dial's `wait_for_hello`, OUTBOUND_HELLO_TIMEOUT_SECS)."""
    detection = AnswerDetection()
    if call.direction != "outbound":
        return detection
    if settings.voicemail_detection:
        context = call.dial_context
        message = phrases.voicemail_message(context.get("name"), context.get("purpose"))
        detection.after_stt.append(
            voicemail_detector(
                call,
                llm,
                hang_up,
                message,
                message_delay=settings.voicemail_message_delay_secs,
            )
        )
    if call.wait_for_hello:
        gate = WaitForHello(greeting, timeout=settings.outbound_hello_timeout_secs)
        detection.after_turns.append(gate)
    return detection
