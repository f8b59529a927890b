"""Call control through real websockets: hang-up, caller hang-up, transfer, keypad, silence,
time limit and language, each driven by the simulated caller and the scripted stand-in LLM."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from phrases import PHRASES
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
from tests.conftest import expected_greeting, spoken

GOODBYE = "Goodbye Asha, and thank you for calling Acme Store."


def user_turns(stand_ins) -> list[str]:
    last = stand_ins.openai.requests[-1]["messages"]
    return [json.dumps(m["content"]) for m in last if m["role"] == "user"]


def recorded_end(server, call_sid: str) -> dict:
    """How the call's record (exotel_bot/records/recorder.py) says the call ended."""
    folder = Path(server.env["CALL_RECORDS_DIR"]) / call_sid
    return json.loads((folder / "record.json").read_text())["end"]


def passthru(server, call_sid: str) -> int:
    url = f"{server.http_url}/exotel/passthru"
    return httpx.get(url, params={"CallSid": call_sid}, follow_redirects=False).status_code


async def test_end_call_says_goodbye_then_closes(server, stand_ins):
    stand_ins.config.stt.transcripts.append("That's all, goodbye.")
    stand_ins.config.llm.rules.append(
        {
            "match": "goodbye",
            "tool_call": {
                "name": "end_call",
                "arguments": {"reason": "caller said goodbye", "goodbye": GOODBYE},
            },
        }
    )
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("yes"), ExpectClose(timeout=20)],
        custom_parameters={"name": "Asha"},
    )
    assert report.ended_by == "server" and report.close_code == 1000, report.summary()
    assert GOODBYE in spoken(stand_ins)
    # The bot closed only after the caller had heard the whole goodbye: Exotel echoed the
    # mark sent after it, and no bot audio was still waiting to play when the socket closed.
    goodbye_mark = next(m for m in report.marks if m.name == "goodbye")
    assert goodbye_mark.echoed is not None and goodbye_mark.echoed <= report.duration
    assert report.bot_audio_bytes_heard == report.bot_audio_bytes_received
    assert report.replies[-1].first_audio is not None  # the goodbye was spoken audio
    assert passthru(server, report.call_sid) == 302  # hang-up, not a transfer
    server.wait_for_no_calls()
    assert "Call ended: bot hung up: caller said goodbye" in server.log()
    assert recorded_end(server, report.call_sid) == {
        "reason": "bot_hung_up",
        "detail": "caller said goodbye",
    }


async def test_caller_hangs_up_mid_reply(server, stand_ins):
    """Exotel's `stop` while the LLM is still streaming: the call ends and leaves nothing."""
    before = server.wait_for_no_calls()
    stand_ins.config.llm.first_token_delay = 1.0
    stand_ins.config.llm.token_interval = 0.5
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("order_status"), Silence(1.0), Hangup()],
    )
    assert report.ended_by == "caller", report.summary()
    after = server.wait_for_no_calls()
    assert after["active_calls"] == 0
    # Every task the call started has ended (the server's own tasks are all that is left).
    for _ in range(50):
        if after["tasks"] <= before["tasks"]:
            break
        await asyncio.sleep(0.1)
        after = server.health()
    assert after["tasks"] <= before["tasks"], (before, after)
    assert "Exotel stopped the stream (callended)" in server.log()
    assert "Call ended: caller hung up (callended)" in server.log()


async def test_transfer_to_agent_sets_passthru_decision(server, stand_ins):
    stand_ins.config.stt.transcripts.append("Can I talk to a person please?")
    stand_ins.config.llm.rules.append(
        {
            "match": "person",
            "tool_call": {"name": "transfer_to_agent", "arguments": {"reason": "asked"}},
        }
    )
    report = await run_call(server.ws_url, [WaitForGreeting(), Say("yes"), ExpectClose(timeout=20)])
    assert report.ended_by == "server" and report.close_code == 1000, report.summary()
    assert PHRASES["en"].transfer in spoken(stand_ins)
    assert passthru(server, report.call_sid) == 200
    assert passthru(server, "CA-some-other-call") == 302
    server.wait_for_no_calls()
    assert recorded_end(server, report.call_sid) == {"reason": "transferred", "detail": "asked"}
    # Exotel may POST the Passthru as a form, too.
    response = httpx.post(
        f"{server.http_url}/exotel/passthru",
        data={"CallSid": report.call_sid},
        follow_redirects=False,
    )
    assert response.status_code == 200


async def test_keypad_digits_reach_llm_as_one_input(server, stand_ins):
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Dtmf("123#", gap=0.2), WaitForBot(timeout=15), Hangup()],
    )
    assert report.ok, report.summary()
    typed = [turn for turn in user_turns(stand_ins) if "keypad" in turn]
    assert len(typed) == 1 and "123" in typed[0], user_turns(stand_ins)
    assert any("123" in text for text in spoken(stand_ins))  # the bot answered the digits


async def test_keypad_digits_end_after_a_pause(server, stand_ins):
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Dtmf("42", gap=0.2), WaitForBot(timeout=15), Hangup()],
    )
    assert report.ok, report.summary()
    assert any("42" in turn for turn in user_turns(stand_ins) if "keypad" in turn)


async def test_transfer_digit_asks_for_a_person(server, stand_ins):
    report = await run_call(server.ws_url, [WaitForGreeting(), Dtmf("0"), ExpectClose(20)])
    assert report.ended_by == "server" and report.close_code == 1000, report.summary()
    assert passthru(server, report.call_sid) == 200
    assert not stand_ins.openai.requests  # no LLM round trip was needed


@pytest.fixture(scope="module")
def impatient_server(server_factory):
    """Short silence and time limits, so the tests take seconds, not minutes."""
    return server_factory(SILENCE_TIMEOUT_SECS="1.5", SILENCE_CHECK_INS="2", MAX_CALL_SECS="30")


async def test_silence_check_ins_then_hang_up(impatient_server, stand_ins):
    report = await run_call(impatient_server.ws_url, [WaitForGreeting(), ExpectClose(40)])
    assert report.ended_by == "server" and report.close_code == 1000, report.summary()
    texts = spoken(stand_ins)
    assert texts.count(PHRASES["en"].check_in) == 2
    assert any("I can't hear you" in text for text in texts)
    impatient_server.wait_for_no_calls()
    assert "Call ended: bot hung up: caller silent" in impatient_server.log()


async def test_time_limit_wraps_up_and_hangs_up(server_factory, stand_ins):
    server = server_factory(MAX_CALL_SECS="6")
    stand_ins.config.stt.transcripts.extend(["Tell me everything."] * 5)
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("long_talk"), Say("long_talk"), ExpectClose(30)],
    )
    assert report.ended_by == "server" and report.close_code == 1000, report.summary()
    assert any("out of time" in text for text in spoken(stand_ins))
    server.wait_for_no_calls()
    assert "Call ended: bot hung up: time limit reached" in server.log()


async def test_hindi_reaches_deepgram_and_cartesia(server_factory, stand_ins):
    server = server_factory(BOT_LANGUAGE="hi")
    stand_ins.config.stt.transcripts.append("मेरा ऑर्डर कहाँ है?")
    report = await run_call(
        server.ws_url, [WaitForGreeting(), Say("hindi"), WaitForBot(timeout=15), Hangup()]
    )
    assert report.ok, report.summary()
    assert stand_ins.deepgram.connections[-1].query["language"] == "hi"
    requests = [r for r in stand_ins.cartesia.requests if r.get("transcript")]
    assert {r.get("language") for r in requests} == {"hi"}
    assert requests[0]["transcript"] == expected_greeting("hi")
    assert PHRASES["hi"].answer_in in stand_ins.openai.requests[0]["messages"][0]["content"]
