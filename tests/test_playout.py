"""What the caller heard, and when: audio at real time, timers and records on playout time.

The simulated caller plays the bot's audio on a real-time clock as Exotel does
(simulator/caller.py, `Playback`), so it knows when each bot turn started and ended for the
caller's ear. The silence check-in must count from that end, and the call record must put
each bot turn where the caller heard it. The tolerances are the behaviour asked of the bot
(the check-in 4 s +/- 0.3 s after the greeting is heard), not performance figures.
"""

from __future__ import annotations

import pytest

from simulator.caller import Dtmf, Hangup, Say, Silence, WaitForBot, WaitForGreeting, run_call
from tests.conftest import record_of

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
        [WaitForGreeting(timeout=20), Silence(SILENCE_SECS + 2), Hangup()],
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


async def test_audio_goes_out_at_real_time_with_a_small_lead(quiet_server, stand_ins):
    """A long greeting: the bot never has much more audio queued at the caller than its
    lead (sent at twice real time, half the greeting would be waiting by its end)."""
    report = await run_call(
        quiet_server.ws_url,
        [WaitForGreeting(timeout=20), Hangup()],
        custom_parameters={"name": LONG_NAME},
    )
    assert report.ok, report.summary()
    start, end = report.bot_turns_heard[0]
    assert end - start > 4, report.bot_turns_heard  # long enough for a lead to build up
    assert report.max_bot_audio_ahead < 1.0, report.max_bot_audio_ahead
    assert report.bot_audio_gaps == 0, report.summary()


async def test_replies_queued_behind_a_bot_turn_keep_their_own_text_and_cause(
    quiet_server, stand_ins
):
    """The caller talks and types while the greeting is still playing: each bot turn of the
    record has its own words and its own cause (the greeting's text stays the greeting's,
    the keypad's answer is not called a reply)."""
    said = "Where is my order?"
    stand_ins.config.stt.transcripts.append(said)
    stand_ins.config.llm.rules = [
        {"match": "typed", "reply": "You typed five, thank you."},
        {"match": "order", "reply": "Your order ships today."},
    ]
    report = await run_call(
        quiet_server.ws_url,
        [Dtmf("5#"), Say("yes"), WaitForBot(timeout=20), Silence(1), Hangup()],
        custom_parameters={"name": LONG_NAME},
    )
    assert report.ended_by == "caller", report.summary()
    turns = bot_turns(record_of(quiet_server, report.call_sid))
    by_cause = {t["cause"]: t for t in turns}
    greeting = by_cause.get("greeting")
    assert greeting is not None, turns
    assert "Acme" in greeting["text"] or not greeting["text"], turns
    for turn in turns:
        if turn["cause"] != "greeting":
            assert "Thanks for calling" not in turn["text"], turns
    keypad = [t for t in turns if "typed five" in t["text"]]
    assert all(t["cause"] == "keypad" for t in keypad), turns
    replies = [t for t in turns if "ships today" in t["text"]]
    assert all(t["cause"] == "reply" for t in replies), turns
