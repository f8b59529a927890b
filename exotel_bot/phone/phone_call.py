"""`PhoneCall`: everything a phone call needs around bot.py's pipeline, in one object.

bot.py keeps what makes the bot its own (the prompt, the greeting, the tools, the services and
the pipeline's order); a `PhoneCall`, built from the call, the settings, the phrases and the
greeting, owns the rest:

- the Exotel transport (wire/) and its noise filter;
- call control: hang-up, transfer, keypad, silence check-ins, the time limit (call/control.py);
- how the call ended: one `Ending` (causes.py), shared by call control and the record;
- the call record (records/) and the vendor fallbacks (call/fallback.py), as one observer;
- the greeting, decided once: at once, or (outbound) when the callee has said "hello?";
- outbound answer detection (phone/answer.py) and post-call steps (phone/post_call.py);
- an optional pipecat debugger (phone/debugging.py).

    phone = PhoneCall(call, settings, phrases, greeting, websocket=websocket)
    ... Pipeline([transport.input(), stt, *phone.answer_detection(llm), user_aggregator,
                  *phone.call_control(), llm, phone.speech_out(), tts, transport.output(),
                  assistant_aggregator])
    phone.attach(worker, user_aggregator=user_aggregator, stt=stt, llm=llm, tts=tts)
    await phone.run(worker)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loguru import logger
from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
from pipecat.frames.frames import TTSSpeakFrame
from pipecat.pipeline.worker import PipelineWorker
from pipecat.processors.aggregators.llm_response_universal import (
    LLMUserAggregator,
    LLMUserAggregatorParams,
)
from pipecat.processors.frame_processor import FrameProcessor
from pipecat.services.llm_service import LLMService
from pipecat.workers.runner import WorkerRunner
from pydantic import BaseModel

from exotel_bot.call.control import CallControl
from exotel_bot.call.departments import Department
from exotel_bot.call.fallback import VendorFallback
from exotel_bot.call.phrases import Phrases
from exotel_bot.call.transfer_desk import TransferDesk
from exotel_bot.call.turns import fewer_user_speaking_frames, phone_turn_strategies, phone_vad
from exotel_bot.call.vad import warm_up
from exotel_bot.causes import CallEnd, Ending, Evidence
from exotel_bot.languages import LANGUAGES, Language
from exotel_bot.logs import call_logging, setup_logging
from exotel_bot.phone.answer import AnswerDetection, answer_detection
from exotel_bot.phone.debugging import Debugger, pipecat_debugger
from exotel_bot.phone.observer import CallObserver, CallWorkerObserver
from exotel_bot.phone.post_call import PostCallStep, post_call_steps, run_post_call_steps
from exotel_bot.phone.speech import SpeechOut
from exotel_bot.records.post_call import after_call
from exotel_bot.records.recorder import CallRecorder
from exotel_bot.records.sinks import RecordSink
from exotel_bot.settings import Settings
from exotel_bot.stores import Stores, stores
from exotel_bot.wire.handshake import ExotelCall
from exotel_bot.wire.transport import exotel_transport


class PhoneCall:
    """One Exotel phone call's machinery around bot.py's pipeline.

    Args:
        call: the call, as Exotel's handshake described it (`answer_call()`).
        settings: the process's settings.
        phrases: what the bot says itself, in the call's language (phrases.py).
        greeting: the first words; spoken as the call starts, or (outbound, waiting for
            hello) once the callee has spoken.
        websocket: Exotel's websocket, for the transport (or pass `transport`).
        stores: where transfer decisions go (the process's `stores()` by default).
        post_call: steps to run with the finished record, after `post_call_steps(settings)`.
        record_sink: where the record goes (CALL_RECORDS_DIR's folder by default).
        departments: where `transfer_to_agent` may send a caller (call/departments.py); none:
            one transfer, to the flow's next applet.
        outcome: a pydantic model the LLM fills from the transcript after the hang-up
            (records/outcome.py); it goes into the record and the webhook.
        summary_instruction: one line telling the LLM what the outcome's summary says.
    """

    def __init__(
        self,
        call: ExotelCall,
        settings: Settings,
        phrases: Phrases,
        greeting: str,
        *,
        websocket: Any = None,
        transport: Any = None,
        stores: Stores | None = None,
        post_call: Sequence[PostCallStep] = (),
        record_sink: RecordSink | None = None,
        departments: Sequence[Department] = (),
        outcome: type[BaseModel] | None = None,
        summary_instruction: str = "",
    ):
        self.call = call
        self.settings = settings
        self.phrases = phrases
        self.greeting = greeting
        self.language: Language = LANGUAGES[settings.language]
        self.ending = Ending()
        if transport is None:
            with call_logging(call.call_sid):  # its noise filter says which call it serves
                transport = exotel_transport(websocket, call, settings)
        self.transport = transport
        transfers = (stores or _process_stores()).transfers
        self.control = CallControl(call, settings, phrases, transfers, ending=self.ending)
        self.recorder = CallRecorder(call, settings, ending=self.ending, sink=record_sink)
        self.fallback = VendorFallback(call, settings, phrases, hang_up=self.control.hang_up)
        self.desk = TransferDesk(self.control, list(departments), phrases)
        self.outcome = outcome
        self.summary_instruction = summary_instruction
        self.post_call: list[PostCallStep] = [*post_call_steps(settings), *post_call]
        # The greeting, decided once: now, or when the callee has said "hello?".
        self.greets_at_once = not call.wait_for_hello
        self._answers: AnswerDetection | None = None
        self.debugger = Debugger()  # PIPECAT_DEBUGGER's, once attached
        self.record: dict[str, Any] | None = None  # the finished record, once the call is over

    # --- What bot.py places -------------------------------------------------------------

    @property
    def tools(self) -> list[FunctionSchema]:
        """The LLM's call tools: `end_call` and `transfer_to_agent` (call/llm_tools.py; with
        departments, call/transfer_desk.py)."""
        return [self.control.end_call_tool, self.desk.tool]

    def user_params(self) -> LLMUserAggregatorParams:
        """The user aggregator's parameters: the phone VAD and turn strategies (call/turns.py),
        the silence timeout, and no new turn once the call is ending."""
        vad = phone_vad()
        return LLMUserAggregatorParams(
            vad_analyzer=vad,
            user_turn_strategies=phone_turn_strategies(vad),
            user_idle_timeout=self.settings.silence_timeout_secs,
            user_mute_strategies=[self.control.user_mute_strategy()],
        )

    def answer_detection(self, llm: LLMService | None = None) -> list[FrameProcessor]:
        """After the STT: outbound answer supervision (phone/answer.py); nothing on inbound.
        (`llm` is not needed: the supervisor's classes come from the words themselves.)"""
        return self._answer_detection().after_stt

    def call_control(self) -> list[FrameProcessor]:
        """After the user aggregator: call control (the caller's audio stops there), then on
        outbound calls the gate that lets only a person's turns reach the LLM (and holds the
        greeting for "hello?")."""
        return [self.control.processor(), *self._answer_detection().after_turns]

    def speech_out(self) -> FrameProcessor:
        """Between the LLM and the TTS: the first phrase at once, and a mark behind each turn."""
        return SpeechOut(self.control.turn_mark)

    def _answer_detection(self) -> AnswerDetection:
        if self._answers is None:
            self._answers = answer_detection(
                self.call,
                self.settings,
                self.phrases,
                self.greeting,
                self.control,
                on_verdict=lambda kind, why: self.recorder.note("answer", f"{kind}: {why}"),
            )
        return self._answers

    # --- Attaching and running ----------------------------------------------------------

    @staticmethod
    def prepare_process() -> None:
        """Get this process ready for calls, once at start-up (bot.py does, at import): logs
        with the call id on every line, and the shared voice model loaded, so the first call
        is as quick as the tenth."""
        setup_logging()
        warm_up()

    def logging(self):
        """A context in which every log line (ours and pipecat's tasks') carries the call sid."""
        return call_logging(self.call.call_sid)

    def attach(
        self,
        worker: PipelineWorker,
        *,
        user_aggregator: LLMUserAggregator,
        stt: FrameProcessor,
        llm: FrameProcessor,
        tts: FrameProcessor,
    ) -> None:
        """Watch `worker`'s call: the record and vendor fallbacks, the greeting, the caller
        hanging up, silence check-ins; `stt`, `llm`, `tts` are the vendor services."""
        CallWorkerObserver.install(worker)  # observers get only the events they handle
        worker.add_observer(CallObserver(self.recorder, self.fallback))
        self.debugger = pipecat_debugger(self.settings, worker)
        for observer in self.debugger.observers:
            worker.add_observer(observer)
        self.fallback.watch(worker, stt=stt, llm=llm, tts=tts)
        fewer_user_speaking_frames(user_aggregator)
        control, transport = self.control, self.transport

        @transport.event_handler("on_client_connected")
        async def on_client_connected(transport, websocket):
            if self.greets_at_once:
                await worker.queue_frames([TTSSpeakFrame(self.greeting)])

        @transport.event_handler("on_client_disconnected")
        async def on_client_disconnected(transport, websocket):
            closed = "websocket closed without a stop message"
            self.ending.note(Evidence.SOCKET_CLOSED, CallEnd.CALLER_HUNG_UP, closed)
            await worker.cancel()

        @user_aggregator.event_handler("on_user_turn_started")
        async def on_user_turn_started(aggregator, strategy):
            control.caller_spoke()

        @user_aggregator.event_handler("on_user_turn_idle")
        async def on_user_turn_idle(aggregator):
            await control.caller_is_silent()

    async def run(self, worker: PipelineWorker) -> None:
        """Run the call until it ends; then save its record (even if the call failed), fill
        its outcome, send the webhook (records/post_call.py), and run the post-call steps."""
        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(worker, *self.debugger.workers)
        try:
            await self.recorder.run_and_save(runner.run())
        finally:
            logger.info(f"Call ended: {self.ending}")
            await after_call(
                self.recorder,
                self.call,
                self.settings,
                outcome_model=self.outcome,
                summary_instruction=self.summary_instruction,
                handoff=self.desk.handoff,
            )
            self.record = self.recorder.saved_record or self.recorder.record()
            await run_post_call_steps(self.post_call, self.record)


def _process_stores() -> Stores:
    return stores()
