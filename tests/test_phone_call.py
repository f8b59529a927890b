"""The seam in process: what `PhoneCall` builds for bot.py, post-call steps, and the opt-in
pipecat debugger. Whole calls through it: every end-to-end test (bot.py builds a PhoneCall)."""

from __future__ import annotations

import sys

import pytest
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair
from pipecat.processors.filters.identity_filter import IdentityFilter

from exotel_bot import CallEnd, PhoneCall
from exotel_bot.call.control import CallControlProcessor
from exotel_bot.outbound.answer import AnswerListener
from exotel_bot.outbound.hello_gate import HelloGate
from exotel_bot.phone.post_call import run_post_call_steps
from exotel_bot.phone.speech import SpeechOut
from exotel_bot.settings import ConfigError, read_settings
from exotel_bot.stores.memory import MemoryTransfers
from exotel_bot.wire.handshake import ExotelCall
from phrases import PHRASES


class _Stores:
    transfers = MemoryTransfers()


def phone_call(monkeypatch, *, debugger: str = "", **call_fields) -> PhoneCall:
    monkeypatch.setenv("PIPECAT_DEBUGGER", debugger)
    settings = read_settings(require_keys=False)
    call = ExotelCall(
        call_sid="CA-seam",
        stream_sid="MZ-seam",
        account_sid="AC-seam",
        from_number="+919812345678",
        to_number="+918047491899",
        **call_fields,
    )
    return PhoneCall(call, settings, PHRASES["en"], "Hello!", websocket=None, stores=_Stores())


def attached(phone: PhoneCall) -> PipelineWorker:
    user, assistant = LLMContextAggregatorPair(LLMContext(), user_params=phone.user_params())
    stt, llm, tts = IdentityFilter(), IdentityFilter(), IdentityFilter()
    pipeline = Pipeline([stt, user, *phone.call_control(), llm, phone.speech_out(), tts])
    worker = PipelineWorker(pipeline)
    phone.attach(worker, user_aggregator=user, stt=stt, llm=llm, tts=tts)
    return worker


def test_inbound_calls_get_no_answer_detection_and_greet_at_once(monkeypatch):
    phone = phone_call(monkeypatch)
    assert phone.answer_detection(llm=None) == []
    stages = phone.call_control()
    assert [type(s) for s in stages] == [CallControlProcessor]
    assert isinstance(phone.speech_out(), SpeechOut) and phone.greets_at_once
    assert [t.name for t in phone.tools] == ["end_call", "transfer_to_agent"]
    assert phone.user_params().user_mute_strategies  # no new turn while the call ends


def test_outbound_calls_waiting_for_hello_greet_from_the_gate(monkeypatch):
    phone = phone_call(monkeypatch, direction="outbound", wait_for_hello=True)
    assert not phone.greets_at_once  # the greeting is decided once: the gate says it
    assert isinstance(phone.call_control()[-1], HelloGate)
    assert [type(p) for p in phone.answer_detection()] == [AnswerListener]


def test_the_end_of_a_call_is_one_object_for_control_and_record(monkeypatch):
    phone = phone_call(monkeypatch)
    assert phone.control.ending is phone.ending is phone.recorder.ending
    assert phone.ending.reason == CallEnd.UNKNOWN


async def test_post_call_steps_get_the_record_and_one_failure_stops_none():
    seen = []

    async def broken(record):
        raise RuntimeError("webhook down")

    async def keep(record):
        seen.append(record["call_sid"])

    await run_post_call_steps([broken, keep], {"call_sid": "CA-1"})
    assert seen == ["CA-1"]


def test_pipecat_debugger_whisker_is_attached_to_the_call(monkeypatch):
    from pipecat_whisker import WhiskerObserver, WhiskerServer

    phone = phone_call(monkeypatch, debugger="whisker")
    attached(phone)
    assert [type(o) for o in phone.debugger.observers] == [WhiskerObserver]
    assert [type(w) for w in phone.debugger.workers] == [WhiskerServer]  # run beside the call


def test_no_debugger_by_default_and_a_missing_one_is_named(monkeypatch):
    phone = phone_call(monkeypatch)
    attached(phone)
    assert phone.debugger.observers == [] and phone.debugger.workers == []
    monkeypatch.setitem(sys.modules, "pipecat_tail", None)  # not installed
    monkeypatch.setitem(sys.modules, "pipecat_tail.observer", None)
    phone = phone_call(monkeypatch, debugger="tail")
    with pytest.raises(ConfigError, match="pip install pipecat-ai-tail"):
        attached(phone)
