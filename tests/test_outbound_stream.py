"""Connect Voice AI: the exact request Exotel's REST API gets (a local stand-in) for this server,
several workers behind one address and Pipecat Cloud; the call placed that way reaching the bot
with its context; Exotel's status events (ringing, answered, terminal with RecordingUrl) kept
with the dial and in its call record."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from exotel_bot.outbound.connect_forms import stream_form
from exotel_bot.outbound.dialer import dial_stream_url, place
from exotel_bot.outbound.dials import DialRecord
from exotel_bot.outbound.exotel_api import read_exotel_api_settings
from exotel_bot.stores import stores, use_stores
from simulator.caller import Hangup, Say, WaitForBot, WaitForGreeting, run_call
from simulator.standins.exotel_rest import ExotelRestStandIn
from tests.conftest import expected_greeting, record_of

DIALOUT_TOKEN = "dialout-sentinel-stream-71c4"
EXOTEL_TOKEN = "exotel-token-sentinel-stream"
AUTH = {"Authorization": f"Bearer {DIALOUT_TOKEN}"}
CALLBACK_BASE = "https://bot.example.com/exotel/status"


@pytest.fixture(scope="module")
def exotel_api():
    stand_in = ExotelRestStandIn(api_token=EXOTEL_TOKEN).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def fresh_stores():
    use_stores(None)
    yield
    use_stores(None)


def read_json(path: str) -> dict:
    return json.loads(Path(path).read_text())


# The three places a bot runs, as the settings name them, and the StreamUrl each gets.
WHERE = {
    "local": ({"PUBLIC_URL": "https://bot.example.com"}, "wss://bot.example.com/ws?dial="),
    "workers": (
        {"VOICEBOT_WS_URL": "wss://calls.example.com/ws?sample-rate=16000", "REDIS_URL": ""},
        "wss://calls.example.com/ws?sample-rate=16000&dial=",
    ),
    "pipecat-cloud": (
        {"PIPECAT_CLOUD_SERVICE_HOST": "exotel-bot.acme", "PIPECAT_CLOUD_REGION": "ap-south"},
        "wss://ap-south.api.pipecat.daily.co/ws/exotel?serviceHost=exotel-bot.acme&dial=",
    ),
}


@pytest.mark.parametrize("where", WHERE)
async def test_connect_voice_ai_request_is_exotels(
    where, exotel_api, redis_server, monkeypatch, fresh_stores
):
    env, stream_start = WHERE[where]
    if "REDIS_URL" in env:  # several workers share their dials through Redis
        env = env | {"REDIS_URL": redis_server.url, "REDIS_KEY_PREFIX": "test-stream:"}
    for key, value in {
        **exotel_api.env(),
        "EXOTEL_APP_ID": "",  # stream mode needs no flow
        "OUTBOUND_RECORD": "true",
        "OUTBOUND_RECORDING_CHANNELS": "dual",
        "OUTBOUND_STREAM_NAME": "acme-reminders",
        **env,
    }.items():
        monkeypatch.setenv(key, value)
    if "PUBLIC_URL" not in env:
        monkeypatch.setenv("PUBLIC_URL", "")
    exotel_api.reset()

    record = DialRecord(to="+919812345678", context={"name": "Asha"})
    call_sid = await place(
        record, read_exotel_api_settings(), time_limit=600, custom_field="order-42"
    )

    [request] = exotel_api.requests
    assert request.status == 200 and request.call_sid == call_sid
    assert request.path == "/v1/Accounts/ACstandin/Calls/connect.json"
    token = base64.b64encode(f"standin-api-key:{EXOTEL_TOKEN}".encode()).decode()
    assert request.authorization == f"Basic {token}"
    assert request.content_type == "application/x-www-form-urlencoded"
    stream_url = request.fields["StreamUrl"]
    assert stream_url == stream_start + record.ref and len(stream_url) <= 600
    callback = [("StatusCallback", f"{CALLBACK_BASE}?dial={record.dial_id}")]
    events = [("StatusCallbackEvents[]", e) for e in ("ringing", "answered", "terminal")]
    local = where == "local"  # elsewhere no PUBLIC_URL: nowhere for Exotel to post the status
    assert request.form == [
        ("From", "+919812345678"),
        ("CallerId", "08047491899"),
        ("StreamType", "bidirectional"),
        ("StreamUrl", stream_url),
        ("StreamName", "acme-reminders"),
        ("Record", "true"),
        ("RecordingChannels", "dual"),
        ("TimeLimit", "600"),
        *(callback if local else []),
        ("CustomField", "order-42"),
        *(events if local else []),
    ]
    # Exotel's custom parameter limits hold for what the URL carries.
    params = [(k, v) for k, v in parse_qsl(urlsplit(stream_url).query) if k != "sample-rate"]
    assert len(params) <= 3 and len("&".join(f"{k}={v}" for k, v in params)) <= 256
    # The dial is in the store the bot reads (Redis for several workers) under its ref.
    assert (await stores().dials.by_ref(record.ref)).context == {"name": "Asha"}
    await stores().close()


def test_stream_fields_out_of_exotels_limits_are_refused():
    ok = dict(customer="+919812345678", caller_id="08047491899")
    with pytest.raises(ValueError, match="at most 600"):
        stream_form(**ok, stream_url="wss://bot.example.com/ws?x=" + "a" * 600)
    with pytest.raises(ValueError, match="StreamName"):
        stream_form(**ok, stream_url="wss://b/ws", stream_name="x" * 33)
    with pytest.raises(ValueError, match="RecordingChannels"):
        stream_form(**ok, stream_url="wss://b/ws", recording_channels="stereo")
    with pytest.raises(ValueError, match="wss://"):
        stream_form(**ok, stream_url="https://b/ws")
    with pytest.raises(ValueError, match="StatusCallbackEvents"):
        stream_form(
            **ok,
            stream_url="wss://b/ws",
            status_callback="https://b/s",
            status_callback_events=["x"],
        )
    with pytest.raises(ValueError, match="CustomField"):
        stream_form(**ok, stream_url="wss://b/ws", custom_field="x" * 129)
    # A base URL that already uses Exotel's three custom parameters gets no dial ref.
    full = "wss://b/ws?a=1&b=2&c=3"
    assert dial_stream_url(full, "0123456789abcdef") == full


# ---------------------------------------------------------------------------------------------
# Through server.py: the placed call streams to the bot, its events come back


@pytest.fixture(scope="module")
def stream_server(server_factory, exotel_api):
    return server_factory(
        DIALOUT_TOKEN=DIALOUT_TOKEN,
        PUBLIC_URL="http://127.0.0.1:1",  # the port is not known yet: see as_exotel()
        OUTBOUND_RECORD="true",
        **exotel_api.env(),
    )


def as_exotel(server, url: str) -> str:
    """Exotel posts to / connects to PUBLIC_URL's host: here, the server's own address."""
    for scheme in ("http", "ws"):
        url = url.replace(f"{scheme}://127.0.0.1:1", f"{scheme}://127.0.0.1:{server.port}")
    return url


def dialout(server, body: dict) -> dict:
    response = httpx.post(f"{server.http_url}/dialout", json=body, headers=AUTH, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_stream_call_carries_its_context_into_the_prompt(
    stream_server, exotel_api, stand_ins
):
    exotel_api.reset()
    context = {"name": "Asha", "purpose": "your order delivery", "order": "A-1042"}
    call_sid = dialout(stream_server, {"to": "+919812345678", "context": context})["call_sid"]
    stream_url = exotel_api.placed(call_sid).fields["StreamUrl"]
    assert stream_url.startswith("ws://127.0.0.1:1/ws?dial=")

    # Exotel opens StreamUrl once the customer answers. Whether its `start` carries the same
    # call sid is not documented: here it does not, and the URL's dial ref finds the context.
    report = await run_call(
        as_exotel(stream_server, stream_url),
        [WaitForGreeting(), Say("yes"), WaitForBot(timeout=15), Hangup()],
        call_sid="CAstream-leg",
        from_number="08047491899",
        to_number="09812345678",
    )
    assert report.ok, report.summary()
    assert stand_ins.cartesia.requests[0]["transcript"] == expected_greeting(
        outbound_context=context
    )
    assert "A-1042" in stand_ins.openai.requests[0]["messages"][0]["content"]
    stream_server.wait_for_no_calls()
    assert "matched by dial parameter" in stream_server.log()


async def post_status(server, exotel_api, call_sid: str, status: str, **fields: str):
    placed = exotel_api.placed(call_sid)
    url = as_exotel(server, placed.fields["StatusCallback"])
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(url, data={"CallSid": call_sid, "Status": status, **fields})
    assert response.status_code == 200, response.text


async def test_status_events_and_recording_land_in_the_call_record(
    stream_server, exotel_api, stand_ins
):
    exotel_api.reset()
    call_sid = dialout(stream_server, {"to": "+919812345601", "context": {"name": "Ravi"}})[
        "call_sid"
    ]
    placed = exotel_api.placed(call_sid)
    assert placed.values("StatusCallbackEvents[]") == ["ringing", "answered", "terminal"]
    assert placed.fields["Record"] == "true"

    await post_status(stream_server, exotel_api, call_sid, "ringing", EventType="ringing")
    await post_status(stream_server, exotel_api, call_sid, "in-progress", EventType="answered")
    report = await run_call(
        as_exotel(stream_server, placed.fields["StreamUrl"]),
        [WaitForGreeting(), Hangup()],
        call_sid=call_sid,
    )
    assert report.ok, report.summary()
    record_of(stream_server, call_sid)  # the bot's record is written
    recording = "https://recordings.exotel.com/abc.mp3"
    await post_status(
        stream_server,
        exotel_api,
        call_sid,
        "completed",
        EventType="terminal",
        ConversationDuration="7",
        RecordingUrl=recording,
    )
    dial = httpx.get(f"{stream_server.http_url}/dialout/{call_sid}", headers=AUTH).json()
    assert [e["EventType"] for e in dial["status_events"]] == ["ringing", "answered", "terminal"]
    assert dial["recording_url"] == recording and dial["duration_secs"] == 7
    record = read_json(dial["record_path"])
    assert record["call_sid"] == call_sid and record["exotel"]["recording_url"] == recording
    assert [e["Status"] for e in record["exotel"]["status_events"]] == [
        "ringing",
        "in-progress",
        "completed",
    ]


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed"])
async def test_a_call_nobody_answered_gets_its_outcome(stream_server, exotel_api, status):
    exotel_api.reset()
    call_sid = dialout(stream_server, {"to": "+919812345602"})["call_sid"]
    await post_status(stream_server, exotel_api, call_sid, "ringing", EventType="ringing")
    await post_status(stream_server, exotel_api, call_sid, status, EventType="terminal")
    dial = httpx.get(f"{stream_server.http_url}/dialout/{call_sid}", headers=AUTH).json()
    assert dial["status"] == status and dial["outcome"] == status
    record = read_json(dial["record_path"])
    assert record["end"]["reason"] == status and record["exotel"]["outcome"] == status


async def test_several_workers_a_dial_on_one_reaches_a_call_on_another(
    server_factory, exotel_api, redis_server, stand_ins
):
    shared = {
        "REDIS_URL": redis_server.url,
        "REDIS_KEY_PREFIX": "test-stream-workers:",
        "DIALOUT_TOKEN": DIALOUT_TOKEN,
        **exotel_api.env(),
    }
    workers = server_factory("--workers", "2", **shared, PUBLIC_URL="http://127.0.0.1:1")
    # The dialling process (here a control plane) streams calls to the workers' address.
    control = server_factory("--control", **shared, VOICEBOT_WS_URL=workers.ws_url)
    exotel_api.reset()
    context = {"name": "Meera", "purpose": "your appointment", "slot": "Tuesday 4 pm"}
    call_sid = dialout(control, {"to": "+919812345603", "context": context})["call_sid"]
    stream_url = exotel_api.placed(call_sid).fields["StreamUrl"]
    assert stream_url.startswith(workers.ws_url + "?dial=")

    report = await run_call(
        stream_url,
        [WaitForGreeting(), Say("yes"), WaitForBot(timeout=20), Hangup()],
        call_sid="CAworker-leg",
    )
    assert report.ok, report.summary()
    assert stand_ins.cartesia.requests[0]["transcript"] == expected_greeting(
        outbound_context=context
    )
    assert "Tuesday 4 pm" in stand_ins.openai.requests[0]["messages"][0]["content"]
    assert "matched by dial parameter" in workers.log()
