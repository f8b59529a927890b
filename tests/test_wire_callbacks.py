"""Exotel's callbacks in every encoding (input 5): GET query strings with `Stream[...]` keys,
POST forms, multipart forms and JSON; nothing in them answers 500. Through real HTTP."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from simulator.caller import Dtmf, ExpectClose, WaitForGreeting, run_call


@pytest.fixture(scope="module")
def transferred_call(server, stand_ins) -> str:
    """A call the caller asked to transfer (TRANSFER_DIGIT, 0): its Passthru answers 200."""
    script = [WaitForGreeting(), Dtmf("0"), ExpectClose(20)]
    report = asyncio.run(run_call(server.ws_url, script))
    assert report.ended_by == "server", report.summary()
    return report.call_sid


STREAM = {
    "Stream[StreamSID]": "MZ1",
    "Stream[Status]": "completed",
    "Stream[Duration]": "12",
    "Stream[DisconnectedBy]": "bot",
    "Stream[RecordingUrl]": "https://example.com/r.mp3",
}


def encodings(call_sid: str) -> dict[str, dict]:
    """httpx request arguments for one Passthru callback in each encoding."""
    fields = {"CallSid": call_sid, "Direction": "inbound", **STREAM}
    nested = {
        "CallSid": call_sid,
        "Direction": "inbound",
        "Stream": {"Status": "completed", "DisconnectedBy": "bot", "Duration": 12},
    }
    return {
        "get-query": {"method": "GET", "params": fields},
        "post-form": {"method": "POST", "data": fields},
        "post-multipart": {"method": "POST", "files": {k: (None, v) for k, v in fields.items()}},
        "post-json": {"method": "POST", "json": {"CallSid": call_sid, "Direction": "inbound"}},
        "post-json-nested": {"method": "POST", "json": nested},
        "post-json-no-content-type": {
            "method": "POST",
            "content": f'{{"CallSid": "{call_sid}"}}'.encode(),
        },
        "post-query-and-empty-body": {"method": "POST", "params": {"CallSid": call_sid}},
    }


def send(server, path: str, args: dict) -> httpx.Response:
    args = dict(args)
    method = args.pop("method")
    return httpx.request(method, f"{server.http_url}{path}", follow_redirects=False, **args)


@pytest.mark.parametrize("encoding", list(encodings("x")))
async def test_passthru_reads_every_encoding(server, transferred_call, encoding):
    response = send(server, "/exotel/passthru", encodings(transferred_call)[encoding])
    assert response.status_code == 200, response.text  # this call asked for an agent
    other = send(server, "/exotel/passthru", encodings("CA-no-such-call")[encoding])
    assert other.status_code == 302  # any other call: hang up


BAD_BODIES = {
    "invalid-json": {"content": b'{"CallSid": ', "headers": {"content-type": "application/json"}},
    "json-list": {"json": ["CallSid", "x"]},
    "json-null-values": {"json": {"CallSid": None, "Stream": None}},
    "json-deep": {"content": b"[" * 5000 + b"]" * 5000, "headers": {"content-type": "text/json"}},
    "binary": {"content": b"\x00\xff\xfe"},
    "bad-multipart": {
        "content": b"--b\r\nnot a part",
        "headers": {"content-type": "multipart/form-data; boundary=b"},
    },
    "multipart-no-boundary": {
        "content": b"xx",
        "headers": {"content-type": "multipart/form-data"},
    },
    "form-with-odd-bytes": {
        "content": b"CallSid=%ff%fe&Stream[Status]=%",
        "headers": {"content-type": "application/x-www-form-urlencoded"},
    },
}


@pytest.mark.parametrize("body", list(BAD_BODIES))
def test_no_callback_body_answers_500(server, body):
    passthru = send(server, "/exotel/passthru", {"method": "POST", **BAD_BODIES[body]})
    assert passthru.status_code == 302  # no usable CallSid: the flow hangs up
    status = send(server, "/exotel/status", {"method": "POST", **BAD_BODIES[body]})
    assert status.status_code in (200, 400), status.text  # a clear answer, never a 500
    assert "Traceback" not in server.log()


@pytest.mark.parametrize("encoding", ["get-query", "post-form", "post-json", "post-multipart"])
def test_status_callback_reads_every_encoding(server, encoding):
    fields = {"CallSid": "CAstatus1", "Status": "completed", "EventType": "terminal"}
    args = {
        "get-query": {"method": "GET", "params": fields},
        "post-form": {"method": "POST", "data": fields},
        "post-json": {"method": "POST", "json": fields},
        "post-multipart": {"method": "POST", "files": {k: (None, v) for k, v in fields.items()}},
    }[encoding]
    response = send(server, "/exotel/status", args)
    assert response.status_code == 200 and response.json()["ok"], response.text
    assert "Exotel status for call CAstatus1: completed (terminal)" in server.log()
