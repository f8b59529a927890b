"""Turn detection for phone calls: answer complete sentences at once, wait out a pause."""

from __future__ import annotations

import asyncio
import json

import pytest
from pipecat.clocks.system_clock import SystemClock
from pipecat.frames.frames import (
    InterimTranscriptionFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameProcessorSetup
from pipecat.utils.asyncio.task_manager import TaskManager

from exotel_bot.call import turns
from exotel_bot.call.turns import COMPLETE, INCOMPLETE, UNSURE, PhoneTurnStopStrategy, text_verdict
from simulator.caller import Hangup, Say, WaitForBot, WaitForGreeting, run_call
from tests.conftest import until


@pytest.mark.parametrize(
    "text, verdict",
    [
        ("Where is my order?", COMPLETE),
        ("Yes, that's right.", COMPLETE),
        ("Hi, I would like to know the status of my order please.", COMPLETE),
        ("मेरा ऑर्डर कहाँ है?", COMPLETE),
        ("My order number is", INCOMPLETE),
        ("My order number is.", INCOMPLETE),  # STT services punctuate fragments too
        ("I want to cancel the", INCOMPLETE),
        ("I want to, um,", INCOMPLETE),
        ("Let me think...", INCOMPLETE),
        ("I want to cancel", UNSURE),
        ("", UNSURE),
    ],
)
def test_text_verdict(text, verdict):
    assert text_verdict(text) == verdict


class Turns:
    """A PhoneTurnStopStrategy fed real frames, and what it decided."""

    def __init__(self):
        self.strategy = PhoneTurnStopStrategy()
        self.events: list[tuple] = []

    async def start(self) -> Turns:
        setup = FrameProcessorSetup(
            clock=SystemClock(), task_manager=TaskManager(), pipeline_worker=None
        )
        await self.strategy.setup(setup)

        @self.strategy.event_handler("on_user_turn_inference_triggered")
        async def inference(strategy, speculation):
            self.events.append(("inference", speculation.text if speculation else None))

        @self.strategy.event_handler("on_user_turn_speculation_cancelled")
        async def cancelled(strategy):
            self.events.append(("cancelled",))

        @self.strategy.event_handler("on_user_turn_stopped")
        async def stopped(strategy, params):
            self.events.append(("stopped", params.confirms_speculation))
            await strategy.handle_user_turn_stopped()

        await self.strategy.handle_user_turn_started()
        return self

    async def send(self, *frames) -> None:
        for frame in frames:
            await self.strategy.process_frame(frame)


def speaks():
    return VADUserStartedSpeakingFrame()


def stops():
    return VADUserStoppedSpeakingFrame(stop_secs=turns.VAD_STOP_SECS)


def final(text):
    return TranscriptionFrame(text, "caller", "2026-01-01T00:00:00Z")


def interim(text):
    return InterimTranscriptionFrame(text, "caller", "2026-01-01T00:00:00Z")


async def test_complete_final_ends_the_turn_at_once():
    t = await Turns().start()
    await t.send(speaks(), interim("Where is my"), stops())
    assert t.events == []  # "Where is my" looks unfinished: no speculation, wait for the final
    await t.send(final("Where is my order?"))
    assert t.events == [("inference", None), ("stopped", False)]


async def test_complete_interim_starts_the_llm_and_the_final_confirms_it():
    t = await Turns().start()
    await t.send(speaks(), interim("Yes, that's right."), stops())
    assert t.events == [("inference", "Yes, that's right.")]
    await t.send(final("Yes that's right."))  # formatting differs, words match
    assert t.events[1:] == [("stopped", True)]  # the held answer is released, no second LLM run


async def test_speculation_on_other_words_is_discarded():
    t = await Turns().start()
    await t.send(speaks(), interim("Cancel my order."), stops())
    await t.send(final("Cancel my order number five."))
    assert t.events == [
        ("inference", "Cancel my order."),
        ("cancelled",),
        ("inference", None),  # a fresh answer to the words actually said
        ("stopped", False),
    ]


async def test_caller_going_on_withdraws_the_speculation():
    t = await Turns().start()
    await t.send(speaks(), interim("I want a refund."), stops(), speaks())
    assert t.events == [("inference", "I want a refund."), ("cancelled",)]


async def test_mid_sentence_pause_waits_for_the_rest(monkeypatch):
    monkeypatch.setattr(turns, "INCOMPLETE_WAIT_SECS", 0.3)
    t = await Turns().start()
    await t.send(speaks(), stops(), final("My order number is"))
    await t.send(speaks())  # the caller goes on before the wait is over
    await asyncio.sleep(0.5)
    assert t.events == []
    await t.send(stops(), final("one two three four."))
    assert t.events == [("inference", None), ("stopped", False)]


async def test_a_turn_past_its_bound_ends_at_the_next_pause(monkeypatch):
    """Talk that goes on and on (or a background the VAD still hears) gets an answer: a turn
    older than MAX_TURN_SECS ends at the next pause, even mid-sentence."""
    monkeypatch.setattr(turns, "MAX_TURN_SECS", 0.0)
    t = await Turns().start()
    await t.send(speaks(), stops(), final("My order number is"))
    assert t.events == [("inference", None), ("stopped", False)]


async def test_an_unfinished_sentence_is_answered_after_the_wait(monkeypatch):
    monkeypatch.setattr(turns, "INCOMPLETE_WAIT_SECS", 0.1)
    monkeypatch.setattr(turns, "UNSURE_WAIT_SECS", 0.1)
    t = await Turns().start()
    await t.send(speaks(), stops(), final("My order number is"))
    assert t.events == []
    await until(lambda: len(t.events) >= 2)  # after the wait
    assert t.events == [("inference", None), ("stopped", False)]
    await t.strategy.handle_user_turn_started()
    await t.send(speaks(), stops(), final("I want to cancel"))  # no punctuation: unsure
    await until(lambda: len(t.events) > 2 and t.events[-1][0] == "stopped")
    assert t.events[-1] == ("stopped", False)


async def test_no_reply_into_a_mid_sentence_pause(server, stand_ins):
    """Through the websocket: "My order number is ... one two three four." is one turn."""
    stand_ins.config.stt.transcripts.extend(["My order number is", "one two three four."])
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("pause_mid_sentence"), WaitForBot(timeout=15), Hangup()],
    )
    assert report.ok, report.summary()
    reply = report.replies[0]
    assert not reply.premature, report.summary()
    assert reply.latency is not None and reply.first_audio > reply.speech_end

    user_turns = [
        m["content"]
        for request in stand_ins.openai.requests
        for m in request["messages"][-1:]
        if m["role"] == "user"
    ]
    assert user_turns, json.dumps(stand_ins.openai.requests)[:500]
    assert all("one two three four" in turn for turn in user_turns), user_turns
    assert all("My order number is" in turn for turn in user_turns), user_turns
