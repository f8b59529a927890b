"""An Exotel phone bot: answer the call, greet the caller, listen, think, speak.

Exotel's Voicebot applet opens a websocket for each call. `bot()` below is the entry point
Pipecat Cloud calls with that websocket (and so does `server.py` on your laptop).

Edit this file to change what the bot says and does: the prompt, the greeting, the voice, the
tools. The plumbing (Exotel's handshake, audio format, settings, logs) lives in `exotel_bot/`.
"""

import json

from loguru import logger
from pipecat.frames.frames import TTSSpeakFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.runner.types import RunnerArguments
from pipecat.services.llm_service import FunctionCallParams
from pipecat.services.openai.llm import OpenAILLMService
from pipecat.workers.runner import WorkerRunner

from exotel_bot.call.caller_audio import CallerAudioSink
from exotel_bot.call.control import CallControl
from exotel_bot.call.fallback import VendorFallback
from exotel_bot.call.languages import LANGUAGES
from exotel_bot.call.phrases import Phrases
from exotel_bot.call.turns import phone_turn_strategies, phone_vad
from exotel_bot.call.vad import warm_up
from exotel_bot.logs import call_logging, hide_secrets, setup_logging
from exotel_bot.outbound.answer import AnswerSupervisor
from exotel_bot.outbound.dials import match_dial
from exotel_bot.records.recorder import CallRecorder
from exotel_bot.services.openai_pool import PooledOpenAILLMService
from exotel_bot.services.speech import make_stt, make_tts
from exotel_bot.services.tts_text import speak_from_first_phrase
from exotel_bot.settings import Settings, load_settings
from exotel_bot.wire.handshake import ExotelCall, accept_exotel_call
from exotel_bot.wire.transport import exotel_transport
from phrases import PHRASES

setup_logging()
warm_up()  # load the shared voice model now, so the first call is as quick as the tenth


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


async def run_bot(call: ExotelCall, runner_args: RunnerArguments, settings: Settings):
    """Build the pipeline for one call and run it until the call ends."""
    transport = exotel_transport(runner_args.websocket, call, settings)
    language = LANGUAGES[settings.language]
    phrases = PHRASES[settings.language]  # every sentence the bot speaks itself (phrases.py)
    # The call's record: transcript, latency per turn, optional recording (exotel_bot/records/).
    recorder = CallRecorder(call, settings, transport)
    # Hang-up, transfer, keypad, silence and time limits (see exotel_bot/call/control.py).
    control = CallControl(call, settings, phrases, on_end=recorder.set_end_reason)

    stt = make_stt(settings, language)  # STT_SERVICE: Deepgram or Sarvam (exotel_bot/services/)
    llm = PooledOpenAILLMService(  # OpenAILLMService, one connection pool for all calls
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        settings=OpenAILLMService.Settings(
            model=settings.openai_model,
            system_instruction=system_prompt(call, phrases),
        ),
    )
    tts = make_tts(settings, language)  # TTS_SERVICE: Cartesia or Sarvam (exotel_bot/services/)
    # outbound: what picked up (person, voicemail, IVR, screening, silence) and the hello gate
    answer = AnswerSupervisor.for_call(
        call,
        settings,
        control,
        phrases,
        greeting(call, phrases),
        on_verdict=lambda kind, why: recorder.note("answer", f"{kind}: {why}"),
    )

    # The tools the LLM may call: yours first, then hanging up and handing over to a person.
    context = LLMContext(tools=[lookup_order, control.end_call_tool, control.transfer_tool])
    vad = phone_vad()  # Silero VAD; the turn strategy watches it to start the LLM early
    user_aggregator, assistant_aggregator = LLMContextAggregatorPair(
        context,
        user_params=LLMUserAggregatorParams(
            vad_analyzer=vad,
            user_turn_strategies=phone_turn_strategies(vad),
            user_idle_timeout=settings.silence_timeout_secs,
        ),
    )

    pipeline = Pipeline(
        [
            transport.input(),  # caller audio from Exotel
            control.input(),  # Exotel stop/mark events, keypad digits
            stt,  # speech to text (Deepgram or Sarvam)
            answer.listener,  # outbound: a person, voicemail, an IVR, screening or silence?
            user_aggregator,  # the caller's turns (Silero VAD + turn detection)
            CallerAudioSink(),  # the caller's audio goes no further (saves CPU)
            answer.gate,  # outbound: only a person's turns reach the LLM; may wait for "hello?"
            llm,  # what to say (OpenAI)
            speak_from_first_phrase(),  # to the TTS from the first phrase, not the first sentence
            tts,  # text to speech (Cartesia or Sarvam)
            control.output(),  # a mark after each bot turn
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
        observers=[recorder],
    )
    # A vendor fails mid-call: an apology instead of silence (see exotel_bot/call/fallback.py).
    fallback = VendorFallback(call, settings, phrases, hang_up=control.hang_up)
    fallback.watch(worker, stt=stt, llm=llm, tts=tts)

    @transport.event_handler("on_client_connected")
    async def on_client_connected(transport, websocket):
        if not call.wait_for_hello:
            await worker.queue_frames([TTSSpeakFrame(greeting(call, phrases))])

    @transport.event_handler("on_client_disconnected")
    async def on_client_disconnected(transport, websocket):
        control.end_reason = control.end_reason or "caller hung up (socket closed)"
        await worker.cancel()

    @user_aggregator.event_handler("on_user_turn_started")
    async def on_user_turn_started(aggregator, strategy):
        control.caller_spoke()

    @user_aggregator.event_handler("on_user_turn_idle")
    async def on_user_turn_idle(aggregator):
        await control.caller_is_silent()

    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    await recorder.run_and_save(runner.run())  # the record is written even if the call fails
    logger.info(f"Call ended: {control.end_reason or 'pipeline finished'}")


async def bot(runner_args: RunnerArguments):
    """Pipecat Cloud's entry point: one websocket from Exotel, one phone call."""
    settings = load_settings()
    hide_secrets(settings.secrets())

    with call_logging(f"session-{runner_args.session_id}"):
        call = await accept_exotel_call(
            runner_args.websocket,
            settings.handshake_timeout_secs,
            allowed_accounts=settings.allowed_accounts,  # EXOTEL_ALLOWED_ACCOUNTS
        )
    if call is None:
        return  # not an Exotel call (or another account's): logged, and the socket closed
    # outbound: a call the bot placed gets its dial's context (the stream URL's `dial` ref)
    call = await match_dial(call, runner_args.websocket.query_params.get("dial", ""))

    with call_logging(call.call_sid):
        logger.info(
            f"Call from {call.from_number} to {call.to_number} "
            f"({call.sample_rate} Hz, parameters: {sorted(call.custom_parameters)})"
        )
        await run_bot(call, runner_args, settings)
