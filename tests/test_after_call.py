"""After the call, through real websockets: the outcome bot.py declares is filled by the LLM
(the OpenAI stand-in answering structured-output requests), lands in the record and in a signed
webhook a real local HTTP receiver checks; failed deliveries are retried, bounded, recorded,
and never hold up the next call."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

import bot
from simulator.caller import Hangup, Say, WaitForBot, WaitForGreeting, run_call
from simulator.standins.structured import check_strict, fill_from_transcript, structured_answer
from simulator.webhook_receiver import WebhookReceiver
from tests.conftest import free_port

SECRET = "test-webhook-secret-0123456789"
FIELDS = set(bot.CallOutcome.model_fields)


@pytest.fixture(scope="module")
def receiver():
    r = WebhookReceiver(SECRET, free_port()).start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def hooked(server_factory, receiver):
    """A bot that sends every finished call to the receiver, quickly giving up on it."""
    return server_factory(
        POST_CALL_WEBHOOK_URL=receiver.url,
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_TIMEOUT_SECS="8",
        WEBHOOK_MAX_ATTEMPTS="3",
        SUMMARY_TIMEOUT_SECS="3",
    )


@pytest.fixture(autouse=True)
def _fresh_receiver(receiver):
    receiver.statuses.clear()
    receiver.hang = False
    yield


def record_where(server, call_sid: str, condition, timeout: float = 40) -> dict:
    """The call's record once `condition(record)` holds (records are rewritten after a call)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        for path in Path(server.env["CALL_RECORDS_DIR"]).glob("*/record.json"):
            try:
                record = json.loads(path.read_text())
            except ValueError:
                continue
            if record["call_sid"] == call_sid:
                last = record
                if condition(record):
                    return record
        time.sleep(0.1)
    raise AssertionError(f"record of {call_sid} never met the condition; last: {last}")


async def order_call(url: str, stand_ins, words: str = "Where is my order 1234?"):
    stand_ins.config.stt.transcripts.append(words)
    return await run_call(
        url, [WaitForGreeting(), Say("order_status"), WaitForBot(timeout=15), Hangup()]
    )


async def test_outcome_is_filled_recorded_and_delivered_signed(hooked, receiver, stand_ins):
    report = await order_call(hooked.ws_url, stand_ins)
    assert report.ok, report.summary()
    # The session ends only once its delivery was made (as Pipecat Cloud needs): by the time
    # the server counts no call running, the receiver has it.
    hooked.wait_for_no_calls(30)
    assert any(r["body"]["call_sid"] == report.call_sid for r in receiver.requests)
    record = record_where(
        hooked, report.call_sid, lambda r: (r.get("webhook") or {}).get("status") == "delivered"
    )
    outcome = record["outcome"]
    assert outcome["status"] == "filled" and set(outcome["fields"]) == FIELDS
    assert outcome["fields"]["order_id"] == "1234"
    assert outcome["fields"]["intent"] == "order_status"
    assert outcome["summary"]
    # The LLM was asked with the model's strict JSON schema and the call's transcript.
    asked = stand_ins.openai.structured[-1]["request"]
    schema = asked["response_format"]["json_schema"]
    assert schema["strict"] is True
    assert set(schema["schema"]["properties"]["outcome"]["properties"]) == FIELDS
    assert "1234" in asked["messages"][-1]["content"]

    body = receiver.delivered[record["webhook"]["id"]]
    sent = next(r for r in receiver.requests if r["body"]["call_sid"] == report.call_sid)
    assert sent["signature_ok"] and sent["headers"]["X-Webhook-Id"] == body["id"]
    assert body["outcome"] == outcome
    assert body["call_sid"] == report.call_sid and body["direction"] == "inbound"
    assert body["end"]["reason"] == "caller_hung_up"
    assert any("1234" in t["text"] for t in body["transcript"] if t["speaker"] == "caller")
    assert body["latency"]["replies"] >= 1 and body["record_location"]
    assert body["dial_context"] is None  # an inbound call


async def test_5xx_then_200_is_retried_and_delivered_once(hooked, receiver, stand_ins):
    receiver.statuses.extend([503, 500])
    report = await order_call(hooked.ws_url, stand_ins)
    record = record_where(
        hooked, report.call_sid, lambda r: (r.get("webhook") or {}).get("status") == "delivered"
    )
    assert record["webhook"]["attempts"] == 3 and record["webhook"]["http_status"] == 200
    attempts = [r for r in receiver.requests if r["body"]["call_sid"] == report.call_sid]
    assert [a["status"] for a in attempts] == [503, 500, 200]
    assert len({a["headers"]["X-Webhook-Id"] for a in attempts}) == 1  # one id: idempotent
    assert all(a["signature_ok"] for a in attempts)
    assert sum(1 for b in receiver.delivered.values() if b["call_sid"] == report.call_sid) == 1


async def test_a_silent_receiver_does_not_hold_up_the_next_call(hooked, receiver, stand_ins):
    receiver.hang = True
    first = await order_call(hooked.ws_url, stand_ins)
    assert first.ok, first.summary()
    receiver.wait_for(lambda r: any(q["body"]["call_sid"] == first.call_sid for q in r.requests))
    # The first call's delivery is waiting on a receiver that never answers; the next call
    # is greeted all the same, and the first delivery is still pending when it is.
    second = await run_call(hooked.ws_url, [WaitForGreeting(), Hangup()])
    assert second.ok and second.greeting_latency is not None, second.summary()
    pending = record_where(hooked, first.call_sid, lambda r: "webhook" in r)
    assert pending["webhook"]["status"] == "pending"
    failed = record_where(
        hooked,
        first.call_sid,
        lambda r: r["webhook"]["status"] == "failed",
        timeout=90,
    )
    assert failed["webhook"]["attempts"] == 3
    assert failed["webhook"]["error"] == "no answer in time"
    assert f"Post-call webhook failed for call {first.call_sid}" in hooked.log()


async def test_an_llm_that_never_answers_gives_unknown_and_the_webhook_still_goes(
    hooked, receiver, stand_ins
):
    stand_ins.config.llm.structured_fail_mode = "hang"
    report = await order_call(hooked.ws_url, stand_ins)
    record = record_where(
        hooked, report.call_sid, lambda r: (r.get("webhook") or {}).get("status") == "delivered"
    )
    assert record["outcome"]["status"] == "unknown"
    assert record["outcome"]["reason"] == "the LLM did not answer in time"
    assert record["outcome"]["fields"] == dict.fromkeys(FIELDS)
    assert receiver.delivered[record["webhook"]["id"]]["outcome"] == record["outcome"]


async def test_llm_failure_gives_an_explicit_unknown_outcome(server, stand_ins):
    stand_ins.config.llm.structured_fail_mode = "500"
    report = await order_call(server.ws_url, stand_ins)
    record = record_where(server, report.call_sid, lambda r: "outcome" in r)
    outcome = record["outcome"]
    assert outcome["status"] == "unknown" and outcome["summary"] is None
    assert outcome["fields"] == dict.fromkeys(FIELDS)
    assert "InternalServerError" in outcome["reason"]


async def test_a_call_with_nothing_said_is_unknown_without_asking(server, stand_ins):
    report = await run_call(server.ws_url, [WaitForGreeting(), Hangup()])
    record = record_where(server, report.call_sid, lambda r: "outcome" in r)
    assert record["outcome"]["status"] == "unknown"
    assert record["outcome"]["reason"] == "call too short to judge"
    assert record["outcome"]["fields"] == dict.fromkeys(FIELDS)
    assert stand_ins.openai.structured == []


async def test_a_scripted_answer_must_fit_the_schema(server, stand_ins):
    """The stand-in sends a scripted outcome as is, and refuses one OpenAI could not send."""
    scripted = {
        "summary": "Asha asked about order 77 and was told it ships today.",
        "outcome": {
            "intent": "order_status",
            "resolved": True,
            "order_id": "77",
            "callback_wanted": False,
            "sentiment": "positive",
        },
    }
    stand_ins.config.llm.structured_answer = scripted
    report = await order_call(server.ws_url, stand_ins)
    record = record_where(server, report.call_sid, lambda r: "outcome" in r)
    assert record["outcome"]["fields"] == scripted["outcome"]
    assert record["outcome"]["summary"] == scripted["summary"]

    stand_ins.config.llm.structured_answer = {"summary": "no outcome field"}
    report = await order_call(server.ws_url, stand_ins)
    record = record_where(server, report.call_sid, lambda r: "outcome" in r)
    assert record["outcome"]["status"] == "unknown"


def test_stand_in_keeps_openai_strict_schema_rules():
    loose = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    with pytest.raises(ValueError, match="additionalProperties"):
        check_strict(loose)
    partial = {**loose, "additionalProperties": False, "required": []}
    with pytest.raises(ValueError, match="Missing 'a'"):
        check_strict(partial)
    body = {
        "messages": [{"role": "user", "content": "Caller: hi"}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "x", "strict": True, "schema": loose},
        },
    }
    from simulator.standins.config import StandInConfig

    status, error = structured_answer(StandInConfig(), body)
    assert status == 400 and error["error"]["type"] == "invalid_request_error"
    strict = {**loose, "additionalProperties": False}
    assert fill_from_transcript(strict, "Caller: my order is 55") == {"a": "my order is 55"}


async def test_deliveries_are_bounded_per_process(receiver, monkeypatch):
    """Past WEBHOOK_MAX_PENDING deliveries under way, a call is dropped (and says so) at once."""
    from exotel_bot.records.webhook import WebhookSender
    from exotel_bot.settings import read_settings

    receiver.hang = True
    for name, value in {
        "POST_CALL_WEBHOOK_URL": receiver.url,
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_MAX_PENDING": "1",
        "WEBHOOK_TIMEOUT_SECS": "1",
        "WEBHOOK_MAX_ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    sender = WebhookSender(read_settings(require_keys=False))
    finished: list[dict] = []

    async def done(result: dict) -> None:
        finished.append(result)

    first = sender.submit({"id": "first", "call_sid": "CA-first"}, done)
    second = sender.submit({"id": "second", "call_sid": "CA-second"}, done)
    dropped = await second
    assert dropped["status"] == "dropped" and dropped["attempts"] == 0
    failed = await first
    assert failed["status"] == "failed" and failed["error"] == "no answer in time"
    assert [r["id"] for r in finished] == ["second", "first"]
    assert sender.pending == 0


async def test_an_outbound_call_sends_its_dial_context(server_factory, receiver, stand_ins):
    from simulator.standins.exotel_rest import ExotelRestStandIn

    exotel = ExotelRestStandIn(api_token="exotel-token-for-webhook-test").start()
    try:
        server = server_factory(
            POST_CALL_WEBHOOK_URL=receiver.url,
            WEBHOOK_SECRET=SECRET,
            DIALOUT_TOKEN="dialout-token-for-webhook-test",
            PUBLIC_URL="http://127.0.0.1:1",
            **exotel.env(),
        )
        context = {"name": "Asha", "purpose": "your order delivery", "order": "A-1042"}
        response = httpx.post(
            f"{server.http_url}/dialout",
            json={"to": "+919812345678", "context": context},
            headers={"Authorization": "Bearer dialout-token-for-webhook-test"},
        )
        assert response.status_code == 200, response.text
        call_sid = response.json()["call_sid"]
        report = await run_call(
            server.ws_url,
            [WaitForGreeting(), Say("yes"), WaitForBot(timeout=15), Hangup()],
            call_sid=call_sid,
            from_number="09812345678",
            to_number="08047491899",
        )
        assert report.ok, report.summary()
        sent = receiver.wait_for(
            lambda r: [q for q in r.requests if q["body"]["call_sid"] == call_sid]
        )
        body = sent[0]["body"]
        assert sent[0]["signature_ok"]
        assert body["direction"] == "outbound" and body["dial_context"] == context
    finally:
        exotel.stop()


def test_a_webhook_url_needs_a_secret(monkeypatch):
    from exotel_bot.settings import ConfigError, read_settings

    monkeypatch.setenv("POST_CALL_WEBHOOK_URL", "https://crm.example.com/hooks/calls")
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        read_settings(require_keys=False)
    monkeypatch.setenv("POST_CALL_WEBHOOK_URL", "crm.example.com/hooks")
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    with pytest.raises(ConfigError, match="POST_CALL_WEBHOOK_URL"):
        read_settings(require_keys=False)
