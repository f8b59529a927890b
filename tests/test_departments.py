"""Transfer to a department, through real websockets: the LLM picks bot.py's department, the
caller hears so, and the Connect applet's dynamic URL (Exotel's Programmable Connect) gets its
number from the server that took the call, from another worker sharing Redis, and from the
control plane; unknown calls and the keypad's transfer digit get the fallback number."""

from __future__ import annotations

import httpx
import jsonschema
import pytest

import bot
from phrases import PHRASES
from simulator.caller import Dtmf, ExpectClose, Say, WaitForGreeting, run_call
from simulator.webhook_receiver import WebhookReceiver
from tests.conftest import free_port, record_of, spoken
from tests.redis_server import RedisServer

BILLING = next(d for d in bot.DEPARTMENTS if d.name == "billing")
FALLBACK = "+918000009999"
SECRET = "departments-webhook-secret-42"
SUMMARY = "Asha was charged twice for order 1234; a refund could not be made on this call."

# The answer Exotel's article "Programmable Connect: Working with Connect Applet (Dynamic URL)"
# documents: every key this server may send, with its type. Nothing else is allowed.
DOCUMENTED_ANSWER = {
    "type": "object",
    "additionalProperties": False,
    "required": ["destination"],
    "properties": {
        "fetch_after_attempt": {"type": "boolean"},
        "destination": {
            "type": "object",
            "additionalProperties": False,
            "required": ["numbers"],
            "properties": {"numbers": {"type": "array", "items": {"type": "string"}}},
        },
        "outgoing_phone_number": {"type": "string"},
        "record": {"type": "boolean"},
        "recording_channels": {"enum": ["single", "dual"]},
        "max_ringing_duration": {"type": "integer", "minimum": 1},
        "max_conversation_duration": {"type": "integer", "minimum": 1},
        "music_on_hold": {"type": "object"},
        "start_call_playback": {
            "type": "object",
            "additionalProperties": False,
            "required": ["playback_to", "type", "value"],
            "properties": {
                "playback_to": {"enum": ["callee", "caller", "both"]},
                "type": {"enum": ["text", "audio_url"]},
                "value": {"type": "string", "minLength": 1},
            },
        },
        "parallel_ringing": {"type": "object"},
    },
}


def ask_connect(server, call_sid: str) -> dict:
    """What Exotel's Connect applet asks its dynamic URL: a GET with the call's details as
    query parameters and an `Exotel-Version` header; the answer checked against the docs."""
    params = {
        "CallSid": call_sid,
        "CallFrom": "09876543210",
        "CallTo": "08047491899",
        "Direction": "incoming",
        "Created": "2026-12-07 10:00:00",
        "DialCallDuration": "0",
        "StartTime": "2026-12-07 10:00:00",
        "CurrentTime": "2026-12-07 10:01:10",
    }
    response = httpx.get(
        f"{server.http_url}/exotel/connect",
        params=params,
        headers={"Exotel-Version": "1.0"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    answer = response.json()
    jsonschema.validate(answer, DOCUMENTED_ANSWER)
    return answer


def passthru(server, call_sid: str) -> int:
    url = f"{server.http_url}/exotel/passthru"
    return httpx.get(url, params={"CallSid": call_sid}, follow_redirects=False).status_code


async def billing_call(server, stand_ins):
    stand_ins.config.stt.transcripts.append("I was charged twice, can I talk to billing?")
    arguments = {"department": "billing", "reason": "double charge", "handoff_summary": SUMMARY}
    stand_ins.config.llm.rules.append(
        {"match": "charged", "tool_call": {"name": "transfer_to_agent", "arguments": arguments}}
    )
    report = await run_call(server.ws_url, [WaitForGreeting(), Say("yes"), ExpectClose(timeout=20)])
    assert report.ended_by == "server" and report.close_code == 1000, report.summary()
    return report


@pytest.fixture(scope="module")
def receiver():
    r = WebhookReceiver(SECRET, free_port()).start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def one_worker(server_factory, receiver):
    return server_factory(
        TRANSFER_FALLBACK_NUMBER=FALLBACK,
        POST_CALL_WEBHOOK_URL=receiver.url,
        WEBHOOK_SECRET=SECRET,
    )


@pytest.fixture(scope="module")
def redis_env(tmp_path_factory):
    redis = RedisServer(tmp_path_factory.mktemp("redis") / "redis.log").start()
    yield {
        "REDIS_URL": redis.url,
        "REDIS_KEY_PREFIX": "test-departments:",
        "TRANSFER_FALLBACK_NUMBER": FALLBACK,
    }
    redis.stop()


async def test_billing_caller_gets_billing_number_on_one_worker(one_worker, stand_ins, receiver):
    report = await billing_call(one_worker, stand_ins)
    assert PHRASES["en"].transfer_notice("billing") in spoken(stand_ins)
    answer = ask_connect(one_worker, report.call_sid)
    assert answer["destination"]["numbers"] == [BILLING.number]
    assert answer["fetch_after_attempt"] is False
    # The person who picks up hears the bot's hand-off summary first.
    assert answer["start_call_playback"] == {
        "playback_to": "callee",
        "type": "text",
        "value": SUMMARY,
    }
    assert passthru(one_worker, report.call_sid) == 200
    one_worker.wait_for_no_calls()
    record = record_of(one_worker, report.call_sid)
    assert record["end"] == {"reason": "transferred", "detail": "double charge"}
    assert record["handoff"] == {
        "department": "billing",
        "number": BILLING.number,
        "reason": "double charge",
        "summary": SUMMARY,
    }
    # ... and the webhook tells your systems the same, signed.
    sent = receiver.wait_for(
        lambda r: [q for q in r.requests if q["body"]["call_sid"] == report.call_sid]
    )
    assert sent[0]["signature_ok"] and sent[0]["body"]["handoff"] == record["handoff"]


async def test_unknown_call_and_keypad_transfer_get_the_fallback(one_worker, stand_ins):
    unknown = ask_connect(one_worker, "CA-never-seen")
    assert unknown["destination"]["numbers"] == [FALLBACK]
    assert "start_call_playback" not in unknown
    report = await run_call(
        one_worker.ws_url, [WaitForGreeting(), Dtmf("0"), ExpectClose(timeout=20)]
    )
    assert report.ended_by == "server", report.summary()
    assert PHRASES["en"].transfer in spoken(stand_ins)  # no department: the plain notice
    assert passthru(one_worker, report.call_sid) == 200
    assert ask_connect(one_worker, report.call_sid)["destination"]["numbers"] == [FALLBACK]


async def test_every_language_names_the_department():
    for language, phrases in PHRASES.items():
        notice = phrases.transfer_notice("billing")
        assert "billing" in notice and notice != phrases.transfer, language


async def test_billing_number_from_another_worker_and_the_control_plane(
    server_factory, redis_env, stand_ins
):
    worker = server_factory(**redis_env)
    others = server_factory("--workers", "2", **redis_env)
    control = server_factory("--control", **redis_env)
    report = await billing_call(worker, stand_ins)
    for server in (others, control):
        answer = ask_connect(server, report.call_sid)
        assert answer["destination"]["numbers"] == [BILLING.number], server.args
        assert answer["start_call_playback"]["value"] == SUMMARY
        assert passthru(server, report.call_sid) == 200
    assert ask_connect(control, "CA-expired-or-unknown")["destination"]["numbers"] == [FALLBACK]
    worker.wait_for_no_calls()
    assert record_of(worker, report.call_sid)["handoff"]["department"] == "billing"
