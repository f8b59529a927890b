"""What the caller heard, and when: audio at real time, timers and records on playout time.

The simulated caller plays the bot's audio on a real-time clock as Exotel does
(simulator/caller.py, `Playback`), so it knows when each bot turn started and ended for the
caller's ear. The silence check-in must count from that end, and the call record must put
each bot turn where the caller heard it. The tolerances are the behaviour asked of the bot
(the check-in 4 s +/- 0.3 s after the greeting is heard), not performance figures.
"""

from __future__ import annotations

import re

import pytest

from simulator.caller import Dtmf, Hangup, Say, Silence, WaitForBot, WaitForGreeting, run_call
from tests.conftest import expected_greeting, record_of
from tools.call_report import render_call

SILENCE_SECS = 4.0
TOLERANCE = 0.3  # seconds either way
# A name long enough to make the greeting about three times as long as the usual one.
LONG_NAME = (
    "Shri Venkata Ramanathan Subramaniam Iyer of flat twelve, second floor, Green Park "
    "Apartments, near the old water tank on Station Road"
)


@pytest.fixture(scope="module")
def quiet_server(server_factory):
    return server_factory(SILENCE_TIMEOUT_SECS=str(SILENCE_SECS), SILENCE_CHECK_INS="3")


def bot_turns(record: dict) -> list[dict]:
    return [t for t in record["turns"] if t["speaker"] == "bot"]


@pytest.mark.parametrize("name", [None, LONG_NAME], ids=["short-greeting", "long-greeting"])
async def test_the_check_in_counts_from_when_the_caller_heard_the_greeting_end(
    quiet_server, stand_ins, name
):
    params = {"name": name} if name else None
    report = await run_call(
        quiet_server.ws_url,
        [WaitForGreeting(), Silence(SILENCE_SECS + 2), Hangup()],
        custom_parameters=params,
    )
    assert report.ok, report.summary()
    greeting, check_in = report.bot_turns_heard[:2]
    waited = check_in[0] - greeting[1]
    assert abs(waited - SILENCE_SECS) <= TOLERANCE, (waited, report.summary())

    # The record puts the greeting where the caller heard it, end included.
    record = record_of(quiet_server, report.call_sid)
    turns = bot_turns(record)
    assert [t["cause"] for t in turns[:2]] == ["greeting", "silence_check_in"], turns
    assert abs(turns[0]["end"] - greeting[1]) <= TOLERANCE, (turns[0], greeting)
    assert abs(turns[0]["start"] - greeting[0]) <= TOLERANCE, (turns[0], greeting)
    assert abs(turns[1]["start"] - check_in[0]) <= TOLERANCE, (turns[1], check_in)
    # ...and so does the report's box for it.
    box = re.search(r"<title>bot (\d+):([\d.]+)–(\d+):([\d.]+): ", render_call(record, None))
    assert box, "no bot turn in the report"
    box_end = int(box[3]) * 60 + float(box[4])
    assert abs(box_end - greeting[1]) <= TOLERANCE + 0.05, (box_end, greeting)


async def test_audio_goes_out_at_real_time_with_a_small_lead(quiet_server, stand_ins):
    """A long greeting: the bot never has much more audio queued at the caller than its
    lead (sent at twice real time, half the greeting would be waiting by its end)."""
    report = await run_call(
        quiet_server.ws_url,
        [WaitForGreeting(), Hangup()],
        custom_parameters={"name": LONG_NAME},
    )
    assert report.ok, report.summary()
    start, end = report.bot_turns_heard[0]
    assert end - start > 4, report.bot_turns_heard  # long enough for a lead to build up
    assert report.max_bot_audio_ahead < 1.0, report.max_bot_audio_ahead


async def test_an_answer_queued_behind_a_bot_turn_keeps_its_own_text_and_cause(
    quiet_server, stand_ins
):
    """The LLM says a sentence and calls a tool; the answer after the tool's result is spoken
    while that sentence still plays (it queues behind it). Each bot turn of the record has
    its own words and cause, and starts where the caller heard it start."""
    stand_ins.config.stt.transcripts.append("Where is order 1234?")
    holding = "Let me look that up for you, it will only take a moment, thank you for waiting."
    answer = "Your order is out for delivery and arrives today before six."
    stand_ins.config.llm.rules = [
        {
            "match": "order",
            "reply": holding,
            "tool_call": {"name": "lookup_order", "arguments": {"order_id": "1234"}},
        }
    ]
    stand_ins.config.llm.after_tool_reply = answer
    report = await run_call(
        quiet_server.ws_url,
        [WaitForGreeting(), Say("yes"), WaitForBot(timeout=20), Hangup()],
    )
    assert report.ok, report.summary()
    turns = bot_turns(record_of(quiet_server, report.call_sid))
    assert [t["cause"] for t in turns] == ["greeting", "reply", "tool_result"], turns
    greeting, holding_turn, answer_turn = turns
    assert greeting["text"] == expected_greeting(), turns
    assert holding_turn["text"] == holding, turns
    assert answer_turn["text"] == answer, turns
    assert answer_turn["reply_to"] == holding_turn["reply_to"], turns
    # The answer was heard right after the holding sentence: the record says so.
    heard = report.bot_turns_heard
    assert abs(answer_turn["end"] - heard[-1][1]) <= TOLERANCE, (answer_turn, heard)
    assert holding_turn["start"] < answer_turn["start"] <= answer_turn["end"], turns


async def test_bursty_caller_audio_keeps_every_reply_to_its_own_question(quiet_server, stand_ins):
    """Caller audio in one-second bursts, two questions: each reply answers (and says) its
    own question, the greeting keeps the greeting's words, and a keypad answer is a keypad
    turn."""
    stand_ins.config.stt.transcripts.extend(["Where is my order?", "Yes please."])
    report = await run_call(
        quiet_server.ws_url,
        [
            WaitForGreeting(),
            Say("order_status"),
            WaitForBot(timeout=20),
            Say("yes"),
            WaitForBot(timeout=20),
            Dtmf("5#"),
            WaitForBot(timeout=20),
            Hangup(),
        ],
        chunk_ms=1000,
    )
    assert report.ok, report.summary()
    record = record_of(quiet_server, report.call_sid)
    callers = {t["index"]: t for t in record["turns"] if t["speaker"] == "caller"}
    turns = bot_turns(record)
    greeting = expected_greeting()
    assert turns[0]["cause"] == "greeting" and turns[0]["text"] == greeting, turns
    replies = [t for t in turns if t["cause"] == "reply"]
    assert len(replies) == 2, turns
    for reply in replies:
        asked = callers[reply["reply_to"]]
        assert asked["text"] and asked["text"] in reply["text"], (reply, asked)
    for turn in turns[1:]:
        assert greeting not in turn["text"], turns
    keypad = [t for t in turns if "typed" in t["text"].lower() or t["cause"] == "keypad"]
    assert [t["cause"] for t in keypad] == ["keypad"], turns
