"""Every kind of bot turn is in the call record like a spoken reply, with its cause and latency.

Inputs 3 and 4 of issue 11 too: keypad events whose `dtmf` is not an object, a digit that is
no key ("A") and a digit sent as a number, then a pause: the reply that follows is recorded,
and the recorder never fails.
"""

from __future__ import annotations

import pytest

from simulator.caller import (
    Dtmf,
    ExpectClose,
    Hangup,
    Say,
    Silence,
    WaitForBot,
    WaitForGreeting,
    run_call,
)
from simulator.standins.config import TtsConfig
from tests.conftest import expected_greeting, record_of
from tests.test_hostile_input import RawCall


@pytest.fixture(scope="module")
def timed_server(server_factory):
    """Short silence and call limits, so one call shows every kind of turn. The time limit
    leaves room for the greeting however long bot.py makes it (the TTS stand-in's pace)."""
    greeting_secs = len(expected_greeting()) * TtsConfig().ms_per_char / 1000
    return server_factory(
        SILENCE_TIMEOUT_SECS="3",
        SILENCE_CHECK_INS="5",
        MAX_CALL_SECS=str(round(18.5 + greeting_secs)),
    )


def bot_turns(record: dict) -> list[dict]:
    return [t for t in record["turns"] if t["speaker"] == "bot"]


async def test_every_kind_of_bot_turn_is_recorded_with_its_latency(timed_server, stand_ins):
    stand_ins.config.stt.transcripts.extend(["Where is my order?"])
    report = await run_call(
        timed_server.ws_url,
        [
            WaitForGreeting(),  # greeting
            Dtmf("5#"),  # keypad reply
            WaitForBot(),
            Say("order_status"),  # spoken reply
            WaitForBot(),
            Silence(4.5),  # silence check-in
            ExpectClose(30),  # the time limit's goodbye, then the bot hangs up
        ],
    )
    assert report.ended_by == "server" and report.close_code == 1000, report.summary()
    record = record_of(timed_server, report.call_sid)
    turns = bot_turns(record)
    causes = [t["cause"] for t in turns]
    for cause in ("greeting", "keypad", "reply", "silence_check_in", "time_limit"):
        assert cause in causes, causes
    for turn in turns:
        assert turn["latency"] is not None and turn["latency"]["total"] >= 0, turn
    greeting = turns[causes.index("greeting")]
    assert greeting["latency"]["total"] == record["greeting_latency_secs"]
    reply = turns[causes.index("reply")]
    assert reply["reply_to"] is not None and "llm" in reply["latency"]
    assert "Call recorder failed" not in timed_server.log()


async def test_a_caller_typing_longer_than_the_silence_timeout_gets_no_check_in(
    timed_server, stand_ins
):
    """Keys pressed 0.6 s apart for 4.2 s, past SILENCE_TIMEOUT_SECS (3 s): the caller is not
    silent, so the bot's next turn answers the keys, and only then may a check-in follow."""
    report = await run_call(
        timed_server.ws_url,
        [WaitForGreeting(), Dtmf("1234567#", gap=0.6), WaitForBot(), Hangup()],
    )
    assert report.ok, report.summary()
    causes = [t["cause"] for t in bot_turns(record_of(timed_server, report.call_sid))]
    assert causes[:2] == ["greeting", "keypad"], causes


async def test_goodbye_after_the_end_call_tool_is_recorded(server, stand_ins):
    stand_ins.config.llm.rules.append(
        {"match": "typed", "reply": "", "tool_call": {"name": "end_call", "arguments": {}}}
    )
    report = await run_call(server.ws_url, [WaitForGreeting(), Dtmf("9#"), ExpectClose(20)])
    assert report.ended_by == "server", report.summary()
    turns = bot_turns(record_of(server, report.call_sid))
    goodbye = turns[-1]
    assert goodbye["cause"] == "goodbye" and goodbye["latency"]["total"] >= 0
    assert "Call recorder failed" not in server.log()


async def test_answer_after_a_tool_result_is_a_timed_reply(server, stand_ins):
    """bot.py's lookup_order: the spoken answer comes after the tool's result, and is timed
    both from the caller's speech (like any reply) and from the result."""
    stand_ins.config.stt.transcripts.append("Where is order 1?")
    stand_ins.config.llm.rules.append(
        {"match": "order", "tool_call": {"name": "lookup_order", "arguments": {"order_id": "1"}}}
    )
    report = await run_call(
        server.ws_url, [WaitForGreeting(), Say("yes"), WaitForBot(timeout=20), Hangup()]
    )
    assert report.ok, report.summary()
    turns = bot_turns(record_of(server, report.call_sid))
    answers = [t for t in turns if t["cause"] == "tool_result"]
    assert len(answers) == 1, turns
    answer = answers[0]
    assert answer["reply_to"] is not None
    assert answer["latency"]["since_tool_result"] <= answer["latency"]["total"]


@pytest.mark.parametrize(
    "dtmf",
    [
        pytest.param({"dtmf": "5"}, id="dtmf-is-a-string"),
        pytest.param({"dtmf": None}, id="dtmf-is-null"),
        pytest.param({"dtmf": ["5"]}, id="dtmf-is-a-list"),
        pytest.param({"dtmf": {"digit": "A", "duration": "100"}}, id="digit-A"),
        pytest.param({"dtmf": {"digit": 5, "duration": 100}}, id="digit-is-a-number"),
    ],
)
async def test_odd_keypad_events_then_a_pause(server, stand_ins, dtmf):
    """Each odd `dtmf` event keeps the call going; a usable digit is answered after the pause
    (DTMF_TIMEOUT_SECS) and that reply is recorded with its cause and latency."""
    async with RawCall.open(server.ws_url) as call:
        await call.start()
        assert await call.wait_for("media"), "no greeting"
        # The greeting's mark: it has been sent whole (however long the user's greeting is).
        assert await call.wait_for("mark", timeout=60), "no mark after the greeting"
        await call.send(
            {"event": "dtmf", "sequence_number": "9", **dtmf, "stream_sid": call.stream_sid}
        )
        await call.stream_silence(4)  # the pause that ends keypad input, and the reply
        assert call.close_code is None
        answered = await call.bot_answers()
        code = await call.hang_up()
    assert answered and code == 1000
    record = record_of(server, call.call_sid)
    usable = dtmf["dtmf"] in ("5", ["5"]) or dtmf["dtmf"] == {"digit": 5, "duration": 100}
    typed = [e["detail"] for e in record["events"] if e["kind"] == "dtmf"]
    assert typed == (["5"] if usable else []) + ["5", "#"]  # then bot_answers() pressed 5#
    keypad = [t for t in bot_turns(record) if t["cause"] == "keypad"]
    assert len(keypad) == (2 if usable else 1), record["turns"]
    assert all(t["latency"]["total"] >= 0 for t in keypad)
    assert "Call recorder failed" not in server.log()
    assert "Traceback" not in server.log()
