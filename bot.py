"""An Exotel phone bot: answer the call, greet the caller, listen, think, speak.

Exotel's Voicebot applet opens a websocket for each call. `bot()` below is the entry point
Pipecat Cloud calls with that websocket (and so does `server.py` on your laptop).

Edit this file to change what the bot says and does: the prompt, the greeting, the voice, the
tools. The plumbing (Exotel's handshake, audio format, settings, logs) lives in `exotel_bot/`.
"""

import json
from typing import Literal

from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair
from pipecat.runner.types import RunnerArguments
from pipecat.services.llm_service import FunctionCallParams
from pipecat.services.openai.llm import OpenAILLMService
from pydantic import BaseModel, Field

from exotel_bot import (
    Department,
    ExotelCall,
    PhoneCall,
    Phrases,
    PooledOpenAILLMService,
    answer_call,
    load_settings,
    make_stt,
    make_tts,
)
from phrases import PHRASES

PhoneCall.prepare_process()  # logs with call ids; the voice model loaded, so call 1 is quick


# Your business tools: plain async functions. pipecat builds the LLM's schema from the signature
# and docstring (args, types, descriptions), and runs the function when the LLM calls it.
ORDERS = {  # an example in-file table; a real bot asks its order system instead
    "1234": {"status": "out for delivery", "arriving": "today before 6 pm"},
    "5678": {"status": "packed", "arriving": "tomorrow"},
}


async def lookup_order(params: FunctionCallParams, order_id: str):
    """Look up the delivery status of one of the caller's orders.

    Args:
        order_id: The order number the caller gives, digits only.
    """
    # A real bot calls its API here, e.g. `order = await orders_api.get(order_id)`.
    order = ORDERS.get("".join(ch for ch in order_id if ch.isdigit()))
    await params.result_callback(order or {"status": "no order with that number"})


# Where transfer_to_agent can send a caller: the LLM picks one by `when`; the flow's Connect
# applet, set to the URL /exotel/connect, dials its number (docs/call-control.md).
DEPARTMENTS = [
    Department("billing", "+918000000001", "payments, refunds, invoices, double charges"),
    Department("orders", "+918000000002", "deliveries, returns, a damaged or missing order"),
]


# What you want to know from every call, filled in by the LLM from the transcript after the
# hang-up; it goes into the call record, its report and the webhook (docs/records.md).
class CallOutcome(BaseModel):
    intent: Literal["order_status", "billing", "complaint", "other"] = Field(
        description="What the caller mainly wanted."
    )
    resolved: bool = Field(description="Did the caller get what they wanted on this call?")
    order_id: str | None = Field(description="The order number the caller gave, if any.")
    callback_wanted: bool = Field(description="Did the caller ask to be called back?")
    sentiment: Literal["positive", "neutral", "negative"] = Field(
        description="How the caller felt by the end of the call."
    )


SUMMARY_INSTRUCTION = "One sentence: who called, what they wanted, and how it ended."


def system_prompt(call: ExotelCall, phrases: Phrases) -> str:
    """What the LLM knows about its job and this call. Custom parameters come from the flow URL;
    on an outbound call, `call.dial_context` is the context given to /dialout."""
    caller = call.custom_parameters.get("name") or "the caller"
    number = call.from_number or "an unknown number"
    about = f"You are speaking with {caller}, calling from {number}. "
    if call.direction == "outbound":  # the bot placed this call
        known = json.dumps(call.dial_context, ensure_ascii=False)
        about = (
            "You phoned this person; they did not call you. Keep to the reason for the call. "
            f"What you know about them and why you called: {known}. "
        )
    return (
        "You are a friendly, efficient phone assistant for Acme Store. "
        "You are on a phone call: answer in one or two short spoken sentences, "
        "with no lists, markdown or emoji, and spell out numbers the way people say them. "
        f"Always answer in {phrases.answer_in}. "
        f"{about}"
        f"Keypad presses reach you as '{phrases.keypad.format(digits='...')}'. "
        "To say where an order is, use lookup_order with its number. "
        "When the caller is done, say a short goodbye with the end_call tool. "
        "If they ask for a person or you cannot help, use transfer_to_agent."
    )


def greeting(call: ExotelCall, phrases: Phrases) -> str:
    """The first words the caller hears; spoken straight away, without waiting for the LLM.
    The words, in every language, are in phrases.py."""
    if call.direction == "outbound":  # introduce yourself and say why you are calling
        context = call.dial_context
        return phrases.greet_outbound(context.get("name"), context.get("purpose"))
    return phrases.greet_inbound(call.custom_parameters.get("name"))


async def run_bot(phone: PhoneCall):
    """Build the pipeline for one call and run it until the call ends."""
    call, settings, phrases = phone.call, phone.settings, phone.phrases
    stt = make_stt(settings, phone.language)  # STT_SERVICE: Deepgram or Sarvam
    llm = PooledOpenAILLMService(  # OpenAILLMService, one connection pool for all calls
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        settings=OpenAILLMService.Settings(
            model=settings.openai_model,
            system_instruction=system_prompt(call, phrases),
        ),
    )
    tts = make_tts(settings, phone.language)  # TTS_SERVICE: Cartesia or Sarvam

    # The tools the LLM may call: yours first, then hanging up and handing over to a person.
    context = LLMContext(tools=[lookup_order, *phone.tools])
    user_aggregator, assistant_aggregator = LLMContextAggregatorPair(
        context,
        user_params=phone.user_params(),  # Silero VAD, phone turn-taking, silence
    )
    transport = phone.transport  # Exotel's websocket, in the call's own audio format

    pipeline = Pipeline(
        [
            transport.input(),  # caller audio, keypad and Exotel's stop/mark, from Exotel
            stt,  # speech to text (Deepgram or Sarvam)
            *phone.answer_detection(llm),  # outbound calls: a person or an answering machine?
            user_aggregator,  # the caller's turns (Silero VAD + turn detection)
            *phone.call_control(),  # hang-up, transfer, keypad, silence; outbound: "hello?" first
            llm,  # what to say (OpenAI)
            phone.speech_out(),  # to the TTS from the first phrase; a mark after each turn
            tts,  # text to speech (Cartesia or Sarvam)
            transport.output(),  # bot audio to Exotel; `clear` on barge-in
            assistant_aggregator,  # what the bot said, into the conversation
        ]
    )

    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(
            audio_in_sample_rate=call.listen_sample_rate,
            audio_out_sample_rate=call.sample_rate,
            enable_metrics=True,
            enable_usage_metrics=True,
        ),
        enable_rtvi=False,
        enable_turn_tracking=False,  # unused here, and every observer costs CPU per frame
        idle_timeout_secs=None,  # silence check-ins and MAX_CALL_SECS end an idle call
    )
    # The call record, vendor fallbacks, the greeting, hang-ups and silence (exotel_bot/phone/).
    phone.attach(worker, user_aggregator=user_aggregator, stt=stt, llm=llm, tts=tts)
    await phone.run(worker)  # the record is written even if the call fails


async def bot(runner_args: RunnerArguments):
    """Pipecat Cloud's entry point: one websocket from Exotel, one phone call."""
    settings = load_settings()
    call = await answer_call(runner_args, settings)  # Exotel's handshake; outbound: its dial
    if call is None:
        return  # not an Exotel call (or another account's): logged, and the socket closed
    phrases = PHRASES[settings.language]  # every sentence the bot speaks itself (phrases.py)
    phone = PhoneCall(
        call,
        settings,
        phrases,
        greeting(call, phrases),
        websocket=runner_args.websocket,
        departments=DEPARTMENTS,  # where transfer_to_agent may send a caller
        outcome=CallOutcome,  # filled by the LLM after the hang-up
        summary_instruction=SUMMARY_INSTRUCTION,
    )
    with phone.logging():  # every log line of this call carries its call sid
        await run_bot(phone)
