"""Outbound calls: did a person answer, or an answering machine?

On a call the bot placed, pipecat's `VoicemailDetector` (pipecat.extensions.voicemail) reads
what the other side says and asks the LLM (a `LLMClassifier` on the call's own OpenAI service)
whether it is a person ("hello?") or a recorded greeting ("... leave a message after the
tone"). The verdict acts once the other side has been quiet for `decision_timeout` seconds:

- a machine: the bot stops talking (Exotel gets a `clear`), waits `message_delay` seconds of
  quiet (the greeting and its beep end), leaves `message` (built from the dial's context),
  waits until Exotel has played it, and hangs up; the call record's end reason is `voicemail`;
- a person: nothing changes. pipecat's `TTSGate` (which holds every word the bot says until
  the verdict) is deliberately not used, so the first reply to "hello?" is not delayed; the
  price is that the bot may talk over a machine's greeting before the verdict, which the
  machine does not record (it records after its beep, by when the bot has stopped).

Inbound calls get a pass-through processor: no classification request, no cost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from loguru import logger
from pipecat.classifiers.llm.classifier import LLMClassifier
from pipecat.extensions.voicemail.voicemail_detector import VoicemailDetector
from pipecat.processors.filters.identity_filter import IdentityFilter
from pipecat.processors.frame_processor import FrameProcessor
from pipecat.services.llm_service import LLMService

from exotel_bot.causes import CallEnd
from exotel_bot.wire.handshake import ExotelCall

DECISION_TIMEOUT_SECS = 1.0  # pipecat's default: silence before the verdict acts

# `CallControl.hang_up(reason, goodbye, *, outcome, via)`: says `goodbye`, waits until it was
# heard, ends the call with `outcome`; `via` is the processor the goodbye leaves from.
HangUp = Callable[..., Awaitable[None]]


def voicemail_detector(
    call: ExotelCall,
    llm: LLMService,
    hang_up: HangUp,
    message: str,
    *,
    enabled: bool = True,
    message_delay: float = 2.0,
) -> FrameProcessor:
    """The processor that goes right after the STT: a voicemail detector on outbound calls.

    `message` is what the bot leaves on a machine; `message_delay` the seconds of quiet it
    waits for after the greeting (VOICEMAIL_MESSAGE_DELAY_SECS). Inbound calls, or `enabled`
    False (VOICEMAIL_DETECTION=false), get a pass-through.
    """
    if call.direction != "outbound" or not enabled:
        return IdentityFilter()
    detector = VoicemailDetector(
        classifier=LLMClassifier(llm=llm),
        voicemail_response_delay=message_delay,
        decision_timeout=DECISION_TIMEOUT_SECS,
    )

    @detector.event_handler("on_conversation_detected")
    async def on_person(processor):
        logger.info("Outbound call answered by a person")

    @detector.event_handler("on_voicemail_detected")
    async def on_machine(processor):
        logger.info("Outbound call answered by a machine: leaving a message, then hanging up")
        # The detector drops what would reach the conversation now, so the message leaves
        # from the detector itself, on its way to the TTS.
        processor.create_task(
            hang_up("answering machine", message, outcome=CallEnd.VOICEMAIL, via=processor),
            name="leave-voicemail",
        )

    return detector.detector()
