"""Voicemail detection on outbound calls: a machine gets a message and a hang-up, a person a
conversation. Real speech fixtures (espeak-ng), pipecat's VoicemailDetector, the OpenAI
stand-in answering its classification request, all through /dialout and the websocket."""

from __future__ import annotations

import json

import httpx
import pytest

from simulator.caller import ExpectClose, Hangup, Say, WaitForBot, WaitForGreeting, run_call
from simulator.standins.exotel_rest import ExotelRestStandIn
from tests.conftest import record_of

DIALOUT_TOKEN = "dialout-sentinel-vm-5e1a"
MONOLOGUE = [
    "Hi, you have reached Priya.",
    "I can't take your call right now.",
    "Please leave a message after the tone.",
]


@pytest.fixture(scope="module")
def exotel_api():
    stand_in = ExotelRestStandIn(api_token="exotel-token-sentinel-vm").start()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="module")
def server(server_factory, exotel_api):
    return server_factory(
        DIALOUT_TOKEN=DIALOUT_TOKEN,
        PUBLIC_URL="http://127.0.0.1:1",
        VOICEMAIL_MESSAGE_DELAY_SECS="0.5",
        **exotel_api.env(),
    )


def dial(server, to: str, context: dict) -> str:
    response = httpx.post(
        f"{server.http_url}/dialout",
        json={"to": to, "context": context},
        headers={"Authorization": f"Bearer {DIALOUT_TOKEN}"},
    )
    assert response.status_code == 200, response.text
    return response.json()["call_sid"]


def verdicts(stand_ins) -> list[str]:
    return [
        json.loads(c["answer"])["voicemail"]["choice"] for c in stand_ins.openai.classifications
    ]


def spoken(stand_ins) -> list[str]:
    return [r["transcript"] for r in stand_ins.cartesia.requests if r.get("transcript", "").strip()]


async def test_a_machine_gets_a_message_from_the_dials_context_then_a_hang_up(server, stand_ins):
    call_sid = dial(server, "+919800000051", {"name": "Asha", "purpose": "order A-1042"})
    stand_ins.config.stt.transcripts.extend(MONOLOGUE)
    stand_ins.config.stt.default_transcript = MONOLOGUE[-1]
    report = await run_call(
        server.ws_url,
        [Say("voicemail"), ExpectClose(30)],
        call_sid=call_sid,
        from_number="09800000051",
    )
    assert report.ended_by == "server" and report.close_code == 1000, report.summary()

    # The classifier was asked about what the machine said, and judged it a machine.
    assert verdicts(stand_ins) and verdicts(stand_ins)[-1] == "voicemail"
    asked = stand_ins.openai.classifications[-1]["request"]["messages"][-1]["content"]
    assert "leave a message" in json.dumps(asked)
    # The last thing said is the message: not the greeting, built from the dial's context.
    said = spoken(stand_ins)
    message = said[-1]
    assert message != said[0] and "Asha" in message and "A-1042" in message
    # ... and the bot hung up only once Exotel had played it.
    goodbye = next(m for m in report.marks if m.name == "goodbye")
    assert goodbye.echoed is not None
    record = record_of(server, call_sid)
    assert record["end"]["reason"] == "voicemail"


async def test_a_person_gets_the_conversation(server, stand_ins):
    call_sid = dial(server, "+919800000052", {"name": "Ravi", "purpose": "your refund"})
    stand_ins.config.stt.transcripts.append("Hello? Who is this?")
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(15), Say("hello"), WaitForBot(15), Hangup()],
        call_sid=call_sid,
        from_number="09800000052",
    )
    assert report.ok, report.summary()
    assert verdicts(stand_ins) and set(verdicts(stand_ins)) == {"conversation"}
    # The call went on as any call: "hello?" reached the LLM and its reply was heard.
    chat = stand_ins.openai.requests[-1]["messages"]
    assert "Who is this?" in json.dumps(chat)
    assert report.replies and report.replies[0].first_audio is not None, report.summary()
    assert record_of(server, call_sid)["end"]["reason"] == "caller_hung_up"
    assert "Outbound call answered by a person" in server.log()


async def test_inbound_calls_are_never_classified(server, stand_ins):
    report = await run_call(server.ws_url, [WaitForGreeting(15), Say("hello"), WaitForBot(15)])
    assert report.replies, report.summary()
    assert stand_ins.openai.classifications == []
