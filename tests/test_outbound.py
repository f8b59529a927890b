"""Outbound calls: Exotel's REST API (a local stand-in), /dialout, the dial-time context reaching
the bot's greeting through a simulated call, waiting for "hello", and Exotel's StatusCallback."""

from __future__ import annotations

import base64
import dataclasses
import json
import subprocess
import sys
import time

import httpx
import pytest
from pipecat.frames.frames import (
    LLMContextFrame,
    TTSSpeakFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
)
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.tests.utils import SleepFrame, run_test

from exotel_bot.outbound.answer import AnswerSupervisor
from exotel_bot.outbound.dials import DialRecord, MemoryDialStore, match_dial, normalize_number
from exotel_bot.outbound.dials import use_dial_store as set_store
from exotel_bot.outbound.exotel_api import (
    ExotelApiSettings,
    ExotelAuthError,
    ExotelClient,
    ExotelRateLimited,
    ExotelRequestError,
    ExotelUnavailable,
    read_exotel_api_settings,
)
from exotel_bot.settings import ConfigError, load_settings
from exotel_bot.wire.handshake import ExotelCall
from simulator.caller import Hangup, Say, Silence, WaitForBot, WaitForGreeting, run_call
from simulator.standins.exotel_rest import ExotelRestStandIn
from tests.conftest import ROOT, SECRET_KEYS, expected_greeting, free_port

DIALOUT_TOKEN = "dialout-sentinel-3c9e1f7a5b"
EXOTEL_TOKEN = "exotel-token-sentinel-8d2b6e"
CUSTOMER = "+919812345678"


# ---------------------------------------------------------------------------------------------
# Numbers


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+919876543210", "+919876543210"),
        ("+91 98765-43210", "+919876543210"),
        ("09876543210", "+919876543210"),
        ("9876543210", "+919876543210"),
        ("919876543210", "+919876543210"),
        ("080 4749 1899", "+918047491899"),
        ("0091 98765 43210", "+919876543210"),
        ("+1 (415) 555-0123", "+14155550123"),
    ],
)
def test_numbers_are_normalised_to_e164(raw, e164):
    assert normalize_number(raw) == e164


@pytest.mark.parametrize(
    "raw", ["", "12345", "+91 12345", "+910987654321", "call me", "5876543210"]
)
def test_bad_numbers_are_refused_with_a_reason(raw):
    with pytest.raises(ValueError, match="number"):
        normalize_number(raw)


# ---------------------------------------------------------------------------------------------
# The REST client against the stand-in


@pytest.fixture
async def exotel():
    async with ExotelRestStandIn(api_token=EXOTEL_TOKEN) as stand_in:
        yield stand_in


def api_settings(stand_in: ExotelRestStandIn, **changes) -> ExotelApiSettings:
    env = stand_in.env()
    values = dict(
        api_key=env["EXOTEL_API_KEY"],
        api_token=env["EXOTEL_API_TOKEN"],
        account_sid=env["EXOTEL_ACCOUNT_SID"],
        caller_id=env["EXOTEL_CALLER_ID"],
        app_id=env["EXOTEL_APP_ID"],
        base_url=env["EXOTEL_API_BASE_URL"],
    )
    return ExotelApiSettings(**(values | changes))


class Waits:
    """Records the client's back-off sleeps instead of sleeping."""

    def __init__(self):
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


async def test_connect_sends_exotels_form_auth_and_path(exotel):
    async with ExotelClient(api_settings(exotel)) as client:
        placed = await client.connect_to_flow(
            CUSTOMER,
            time_limit=600,
            time_out=30,
            status_callback="https://bot.example.com/exotel/status?dial=abc",
            status_callback_events=("terminal", "answered"),
            custom_field="order-42",
        )
    [request] = exotel.requests
    assert request.method == "POST"
    assert request.path == "/v1/Accounts/ACstandin/Calls/connect.json"
    expected_auth = base64.b64encode(f"standin-api-key:{EXOTEL_TOKEN}".encode()).decode()
    assert request.authorization == f"Basic {expected_auth}"
    assert request.content_type == "application/x-www-form-urlencoded"
    assert request.form == [
        ("From", CUSTOMER),
        ("CallerId", "08047491899"),
        ("Url", "http://my.exotel.com/ACstandin/exoml/start_voice/424242"),
        ("TimeLimit", "600"),
        ("TimeOut", "30"),
        ("StatusCallback", "https://bot.example.com/exotel/status?dial=abc"),
        ("CustomField", "order-42"),
        ("StatusCallbackEvents[]", "terminal"),
        ("StatusCallbackEvents[]", "answered"),
    ]
    assert placed.call_sid == request.call_sid and len(placed.call_sid) == 32
    assert placed.status == "in-progress"
    assert placed.details["From"] == "09812345678"  # Exotel writes Indian numbers back with 0


async def test_bad_credentials_say_what_to_check(exotel):
    settings = api_settings(exotel, api_token="wrong-token-value")
    async with ExotelClient(settings) as client:
        with pytest.raises(ExotelAuthError) as error:
            await client.connect_to_flow(CUSTOMER)
    message = str(error.value)
    assert error.value.status == 401
    assert "EXOTEL_API_KEY" in message and "EXOTEL_API_TOKEN" in message
    assert "Invalid API Key or Token" in message  # Exotel's own words
    assert "wrong-token-value" not in message
    assert len(exotel.requests) == 1  # never retried


async def test_rate_limit_waits_for_retry_after_then_dials(exotel):
    exotel.script(429, headers={"Retry-After": "2"})
    waits = Waits()
    async with ExotelClient(api_settings(exotel), sleep=waits) as client:
        placed = await client.connect_to_flow(CUSTOMER)
    assert waits.seconds == [2.0]
    assert [r.status for r in exotel.requests] == [429, 200]
    assert placed.call_sid == exotel.requests[-1].call_sid


async def test_rate_limit_with_a_long_retry_after_gives_up_at_once(exotel):
    exotel.script(429, headers={"Retry-After": "120"})
    waits = Waits()
    async with ExotelClient(api_settings(exotel), sleep=waits) as client:
        with pytest.raises(ExotelRateLimited) as error:
            await client.connect_to_flow(CUSTOMER)
    assert error.value.retry_after == 120
    assert "retry after 120 s" in str(error.value)
    assert waits.seconds == [] and len(exotel.requests) == 1


async def test_server_errors_are_retried_a_bounded_number_of_times(exotel):
    exotel.script(500, times=3)
    waits = Waits()
    async with ExotelClient(api_settings(exotel), sleep=waits, max_retries=2) as client:
        with pytest.raises(ExotelUnavailable) as error:
            await client.connect_to_flow(CUSTOMER)
    assert "HTTP 500 after 3 tries" in str(error.value)
    assert len(exotel.requests) == 3 and waits.seconds == [0.5, 1.0]

    exotel.reset()
    exotel.script(503)
    async with ExotelClient(api_settings(exotel), sleep=waits) as client:
        placed = await client.connect_to_flow(CUSTOMER)
    assert [r.status for r in exotel.requests] == [503, 200] and placed.call_sid


async def test_number_exotel_refuses_gets_exotels_reason(exotel):
    async with ExotelClient(api_settings(exotel)) as client:
        with pytest.raises(ExotelRequestError) as error:
            await client.connect_to_flow("+91123")
    assert error.value.status == 400
    assert "'From' '+91123' is not a valid phone number" in str(error.value)
    assert len(exotel.requests) == 1


async def test_exotel_unreachable_is_reported_after_retries():
    settings = ExotelApiSettings(
        api_key="k", api_token="t", account_sid="AC", caller_id="0", app_id="1",
        base_url=f"http://127.0.0.1:{free_port()}",
    )  # fmt: skip
    waits = Waits()
    async with ExotelClient(settings, sleep=waits) as client:
        with pytest.raises(ExotelUnavailable, match="Cannot reach Exotel"):
            await client.connect_to_flow(CUSTOMER)
    assert waits.seconds == [0.5, 1.0]


def test_settings_name_what_is_missing(monkeypatch):
    for name in ("EXOTEL_API_KEY", "EXOTEL_API_TOKEN", "EXOTEL_ACCOUNT_SID"):
        monkeypatch.setenv(name, "x")
    for name in ("EXOTEL_CALLER_ID", "EXOTEL_APP_ID", "EXOTEL_SUBDOMAIN", "EXOTEL_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="needs EXOTEL_CALLER_ID \\("):
        read_exotel_api_settings()  # stream mode (the default) needs no flow
    monkeypatch.setenv("EXOTEL_OUTBOUND_MODE", "flow")
    with pytest.raises(ConfigError, match="EXOTEL_CALLER_ID, EXOTEL_APP_ID"):
        read_exotel_api_settings()
    monkeypatch.setenv("EXOTEL_CALLER_ID", "08047491899")
    monkeypatch.setenv("EXOTEL_APP_ID", "424242")
    monkeypatch.setenv("EXOTEL_SUBDOMAIN", "api.in.exotel.com")
    settings = read_exotel_api_settings()
    assert settings.api_root == "https://api.in.exotel.com"
    assert settings.flow_url == "http://my.exotel.com/x/exoml/start_voice/424242"
    assert "x" not in repr(settings.api_token)
    monkeypatch.setenv("EXOTEL_SUBDOMAIN", "https://api.exotel.com")
    with pytest.raises(ConfigError, match="EXOTEL_SUBDOMAIN"):
        read_exotel_api_settings()


# ---------------------------------------------------------------------------------------------
# Matching a websocket to its dial


def exotel_call(call_sid="CAws", from_number="09812345678", to_number="08047491899", **params):
    return ExotelCall(
        call_sid=call_sid,
        stream_sid="MZ1",
        account_sid="AC",
        from_number=from_number,
        to_number=to_number,
        custom_parameters=params,
    )


@pytest.fixture
def store():
    fresh = MemoryDialStore()
    set_store(fresh)
    yield fresh
    set_store(MemoryDialStore())


async def test_a_dial_is_matched_by_call_sid_or_by_number_on_either_side(store):
    by_sid = DialRecord(to="+919000000001", context={"name": "Asha"}, call_sid="CAexotel")
    by_number = DialRecord(to=CUSTOMER, context={"name": "Ravi"}, wait_for_hello=True)
    await store.save(by_sid)
    await store.save(by_number)

    call = await match_dial(exotel_call(call_sid="CAexotel", from_number="+911111111111"))
    assert (call.direction, call.dial_context) == ("outbound", {"name": "Asha"})

    # The customer in `to` (which side Exotel puts them on is not documented), as 0XXXXXXXXXX.
    call = await match_dial(exotel_call(from_number="08047491899", to_number="09812345678"))
    assert (call.direction, call.dial_context, call.wait_for_hello) == (
        "outbound",
        {"name": "Ravi"},
        True,
    )
    assert by_number.websocket_call_sid == "CAws" and by_number.connected_at is not None

    # A dial answered once is not matched by number again; its own call sid still finds it.
    later = await match_dial(exotel_call(call_sid="CAother", from_number=CUSTOMER))
    assert later.direction == "inbound" and later.dial_context == {}
    again = await match_dial(exotel_call(call_sid="CAws", from_number=CUSTOMER))
    assert again.dial_context == {"name": "Ravi"}


async def test_stale_or_finished_dials_do_not_match(store):
    await store.save(DialRecord(to=CUSTOMER, created_at=time.time() - store.match_window - 1))
    await store.save(DialRecord(to=CUSTOMER, status="no-answer"))
    call = await match_dial(exotel_call(from_number=CUSTOMER))
    assert call.direction == "inbound"


async def test_memory_store_forgets_old_and_excess_records():
    store = MemoryDialStore(keep=60, max_records=3)
    old = DialRecord(to=CUSTOMER, call_sid="CAold", created_at=time.time() - 61)
    await store.save(old)
    assert await store.by_call_sid("CAold") is None  # older than `keep`
    records = [DialRecord(to=CUSTOMER, call_sid=f"CA{i}") for i in range(5)]
    for record in records:
        await store.save(record)
    assert [await store.by_call_sid(f"CA{i}") for i in range(5)] == [None, None, *records[2:]]
    assert await store.by_number(CUSTOMER) == records[2:]


async def test_broken_store_leaves_the_call_inbound(store):
    class Broken(MemoryDialStore):
        async def by_number(self, number):
            raise ConnectionError("redis is down")

    set_store(Broken())
    call = await match_dial(exotel_call())
    assert call.direction == "inbound"


async def test_flow_url_can_mark_calls_outbound(store, monkeypatch):
    monkeypatch.setenv("OUTBOUND_WAIT_FOR_HELLO", "true")
    load_settings.cache_clear()  # settings read by a fixture before the variable was set
    call = await match_dial(exotel_call(direction="outbound"))
    assert (call.direction, call.dial_context, call.wait_for_hello) == ("outbound", {}, True)


# ---------------------------------------------------------------------------------------------
# Waiting for "hello"


def context_frame() -> LLMContextFrame:
    return LLMContextFrame(context=LLMContext(messages=[{"role": "user", "content": "Hello?"}]))


def hello_gate(wait: bool = True, timeout: float = 30.0, state: str | None = None):
    """The answer supervisor's gate on an outbound call (a verdict already taken: `state`)."""
    call = dataclasses.replace(exotel_call(), direction="outbound", wait_for_hello=wait)
    supervisor = AnswerSupervisor(
        call,
        None,  # no call control: nothing here hangs up
        greeting="Hello Asha!",
        voicemail_message="",
        screening_message="",
        hello_timeout_secs=timeout,
    )
    supervisor.state = state
    return supervisor.gate


async def test_wait_for_hello_answers_the_first_turn_with_the_greeting():
    down, _ = await run_test(
        hello_gate(),
        frames_to_send=[
            UserStartedSpeakingFrame(),
            UserStoppedSpeakingFrame(),
            context_frame(),  # "Hello?": greeted, not sent to the LLM
            context_frame(),  # the next turn goes to the LLM
        ],
        expected_down_frames=[
            UserStartedSpeakingFrame,
            UserStoppedSpeakingFrame,
            TTSSpeakFrame,
            LLMContextFrame,
        ],
    )
    assert down[2].text == "Hello Asha!"


async def test_wait_for_hello_greets_anyway_after_silence():
    down, _ = await run_test(
        hello_gate(timeout=0.2),
        frames_to_send=[SleepFrame(sleep=0.5), context_frame()],
        expected_down_frames=[TTSSpeakFrame, LLMContextFrame],
    )
    assert down[0].text == "Hello Asha!"


async def test_wait_for_hello_disabled_passes_everything_through():
    await run_test(
        hello_gate(wait=False, timeout=0.1),
        frames_to_send=[SleepFrame(sleep=0.3), context_frame()],
        expected_down_frames=[LLMContextFrame],
    )


@pytest.mark.parametrize("machine", ["voicemail", "ivr", "screening"])
async def test_the_llm_never_answers_a_machine(machine):
    await run_test(
        hello_gate(wait=False, state=machine),
        frames_to_send=[context_frame(), SleepFrame(sleep=0.1)],
        expected_down_frames=[],
    )


# ---------------------------------------------------------------------------------------------
# Through server.py: /dialout, the call, the status callback


@pytest.fixture(scope="module")
def exotel_api():
    stand_in = ExotelRestStandIn(api_token=EXOTEL_TOKEN).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="module")
def dialout_server(server_factory, exotel_api):
    return server_factory(
        DIALOUT_TOKEN=DIALOUT_TOKEN,
        PUBLIC_URL="http://127.0.0.1:1",  # see callback_to(): the port is not known yet
        OUTBOUND_HELLO_TIMEOUT_SECS="30",  # a slow machine must not greet before the "hello"
        **exotel_api.env(),
    )


@pytest.fixture
def dialout(dialout_server, exotel_api):
    """POST /dialout with the token; the stand-in's records start empty."""
    exotel_api.reset()

    def post(body: dict, token: str | None = DIALOUT_TOKEN) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(f"{dialout_server.http_url}/dialout", json=body, headers=headers)

    return post


def callback_to(server, url: str) -> str:
    """Exotel posts to PUBLIC_URL; in tests that is the server's own local address."""
    return url.replace("http://127.0.0.1:1", server.http_url)


def test_dialout_needs_the_token(dialout, exotel_api):
    assert dialout({"to": CUSTOMER}, token=None).status_code == 401
    refused = dialout({"to": CUSTOMER}, token="not-the-token-at-all")
    assert refused.status_code == 401
    assert "Bearer" in refused.json()["detail"]
    assert exotel_api.requests == []  # nothing reached Exotel


def test_dialout_is_off_without_a_token(server):
    response = httpx.post(f"{server.http_url}/dialout", json={"to": CUSTOMER})
    assert response.status_code == 404
    assert "Dial-out is off" in server.log()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"to": "12345"}, "is not a phone number"),
        ({"to": "+91 98765 4321"}, "is not an Indian number"),
        ({}, "Field required"),
        ({"to": CUSTOMER, "context": ["not", "an", "object"]}, "valid dictionary"),
        ({"to": CUSTOMER, "context": {"notes": "x" * 5000}}, "at most 4096 bytes"),
        ({"to": CUSTOMER, "contxt": {}}, "Extra inputs are not permitted"),
    ],
)
def test_dialout_refuses_bad_input_with_422(dialout, exotel_api, body, expected):
    response = dialout(body)
    assert response.status_code == 422
    assert expected in json.dumps(response.json()["detail"])
    assert exotel_api.requests == []


async def test_dial_time_context_reaches_the_greeting_and_prompt(
    dialout, dialout_server, exotel_api, stand_ins
):
    context = {"name": "Asha", "purpose": "your order delivery", "order": "A-1042"}
    response = dialout({"to": "098123 45678", "context": context})
    assert response.status_code == 200, response.text
    call_sid = response.json()["call_sid"]
    assert response.json()["to"] == CUSTOMER

    placed = exotel_api.placed(call_sid)
    assert placed.fields["From"] == CUSTOMER
    assert placed.fields["CallerId"] == "08047491899"
    assert placed.fields["StatusCallback"].startswith("http://127.0.0.1:1/exotel/status?dial=")

    # Exotel runs the flow: its Voicebot applet opens the websocket for that call.
    report = await run_call(
        dialout_server.ws_url,
        [WaitForGreeting(), Say("yes"), WaitForBot(timeout=15), Hangup()],
        call_sid=call_sid,
        from_number="09812345678",
        to_number="08047491899",
    )
    assert report.ok, report.summary()
    greeting = stand_ins.cartesia.requests[0]["transcript"]
    assert greeting == expected_greeting(outbound_context=context)
    system = stand_ins.openai.requests[0]["messages"][0]["content"]
    assert "A-1042" in system  # the dial's context reached the prompt

    record = httpx.get(
        f"{dialout_server.http_url}/dialout/{call_sid}",
        headers={"Authorization": f"Bearer {DIALOUT_TOKEN}"},
    ).json()
    assert record["context"] == context and record["connected_at"] is not None
    assert "dial_id" not in record
    dialout_server.wait_for_no_calls()
    assert "Outbound call to +919812345678 (matched by call sid" in dialout_server.log()


async def test_context_found_by_number_when_the_call_sid_differs(
    dialout, dialout_server, stand_ins
):
    response = dialout({"to": "+919800000042", "context": {"name": "Ravi"}})
    assert response.status_code == 200, response.text
    report = await run_call(
        dialout_server.ws_url,
        [WaitForGreeting(), Hangup()],
        call_sid="CAsomething-else",
        from_number="08047491899",  # the ExoPhone in `from`, the customer in `to`
        to_number="09800000042",
    )
    assert report.ok, report.summary()
    greeting = expected_greeting(outbound_context={"name": "Ravi"})
    assert stand_ins.cartesia.requests[0]["transcript"] == greeting


async def test_an_inbound_call_is_still_greeted_as_inbound(dialout_server, stand_ins):
    report = await run_call(
        dialout_server.ws_url,
        [WaitForGreeting(), Hangup()],
        from_number="+919811111111",
    )
    assert report.ok, report.summary()
    assert stand_ins.cartesia.requests[0]["transcript"] == expected_greeting()


async def test_outbound_call_waits_for_hello(dialout, dialout_server, stand_ins):
    response = dialout(
        {"to": "+919800000043", "context": {"name": "Meera"}, "wait_for_hello": True}
    )
    call_sid = response.json()["call_sid"]
    report = await run_call(
        dialout_server.ws_url,
        [Silence(0.5), Say("yes"), WaitForBot(timeout=15), Hangup()],
        call_sid=call_sid,
        from_number="09800000043",
    )
    assert report.ok, report.summary()
    hello = report.replies[0]
    # Silent until the callee had spoken; then the greeting answered their "hello".
    assert report.greeting_latency is not None and report.greeting_latency > hello.speech_end
    greeting = expected_greeting(outbound_context={"name": "Meera"})
    assert stand_ins.cartesia.requests[0]["transcript"] == greeting
    assert stand_ins.openai.requests == []  # the greeting, not the LLM, answered "hello"


async def test_status_callback_is_logged_and_kept(dialout, dialout_server, exotel_api):
    call_sid = dialout({"to": "+919800000044"}).json()["call_sid"]
    placed = exotel_api.placed(call_sid)
    placed.form = [
        (k, callback_to(dialout_server, v) if k == "StatusCallback" else v) for k, v in placed.form
    ]

    response = await exotel_api.send_status(call_sid, "busy")  # a form, as Exotel posts it
    assert response.status_code == 200 and response.json()["kept"] is True
    as_json = await exotel_api.send_status(call_sid, "busy", as_json=True, EventType="terminal")
    assert as_json.status_code == 200

    record = httpx.get(
        f"{dialout_server.http_url}/dialout/{call_sid}",
        headers={"Authorization": f"Bearer {DIALOUT_TOKEN}"},
    ).json()
    assert record["status"] == "busy"
    assert [e["Status"] for e in record["status_events"]] == ["busy", "busy"]
    assert f"Exotel status for call {call_sid}: busy" in dialout_server.log()

    # A post that does not carry the dial's signature changes nothing.
    forged = httpx.post(
        f"{dialout_server.http_url}/exotel/status?dial=guess",
        data={"CallSid": call_sid, "Status": "completed"},
    )
    assert forged.status_code == 403
    # Not a StatusCallback at all: a clear 400, and the server carries on.
    junk = httpx.post(f"{dialout_server.http_url}/exotel/status", content=b"\x00\xff")
    assert junk.status_code == 400 and "CallSid" in junk.json()["detail"]
    forged_line = {"CallSid": "CA1\n12:00:00 | INFO | fake line", "Status": "completed"}
    injected = httpx.post(f"{dialout_server.http_url}/exotel/status", data=forged_line)
    assert injected.status_code == 400 and "fake line" not in dialout_server.log()
    assert dialout_server.health()["status"] == "ok"


def test_exotel_failures_map_to_clear_http_errors(dialout, exotel_api):
    exotel_api.script(429, headers={"Retry-After": "120"})
    limited = dialout({"to": CUSTOMER})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "120"

    exotel_api.script(500, times=3)
    down = dialout({"to": CUSTOMER})
    assert down.status_code == 503 and "HTTP 500" in down.json()["detail"]

    exotel_api.script(403, {"RestException": {"Status": 403, "Message": "Account suspended"}})
    refused = dialout({"to": CUSTOMER})
    assert refused.status_code == 502 and "Account suspended" in refused.json()["detail"]


def run_dial(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "exotel_bot.outbound", *args],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dial_command_line(dialout_server, exotel_api):
    exotel_api.reset()
    context = json.dumps({"name": "Asha", "purpose": "your order delivery"})
    done = run_dial(
        "+919812345678",
        "--context",
        context,
        "--server",
        dialout_server.http_url,
        DIALOUT_TOKEN=DIALOUT_TOKEN,
    )
    assert done.returncode == 0, done.stderr
    call_sid = done.stdout.strip()
    assert exotel_api.placed(call_sid).fields["From"] == CUSTOMER

    bad = run_dial("12345", DIALOUT_TOKEN=DIALOUT_TOKEN)
    assert bad.returncode == 2 and "is not a phone number" in bad.stderr

    public = {"PUBLIC_URL": "https://bot.example.com"}
    direct = run_dial("9812345678", "--direct", **exotel_api.env(), **public)
    assert direct.returncode == 0, direct.stderr
    placed = exotel_api.placed(direct.stdout.strip())
    assert placed.fields["From"] == CUSTOMER
    assert placed.fields["StreamUrl"].startswith("wss://bot.example.com/ws?dial=")
    nowhere = run_dial("9812345678", "--direct", **exotel_api.env())
    assert nowhere.returncode == 2 and "PUBLIC_URL" in nowhere.stderr

    wrong = run_dial(
        "9812345678", "--direct", **(exotel_api.env() | {"EXOTEL_API_KEY": "nope"}), **public
    )
    assert wrong.returncode == 1 and "EXOTEL_API_KEY" in wrong.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DIALOUT_TOKEN": "short"}, "at least 16 characters"),
        ({"DIALOUT_TOKEN": DIALOUT_TOKEN}, "Dialling out needs EXOTEL_API_KEY"),
        (
            {"DIALOUT_TOKEN": DIALOUT_TOKEN, **ExotelRestStandIn().env()},
            "EXOTEL_OUTBOUND_MODE=stream needs the bot's websocket address",
        ),
    ],
)
def test_half_configured_dialout_stops_the_server_at_start(stand_ins, env, expected):
    process = subprocess.run(
        [sys.executable, "server.py", "--port", str(free_port())],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", **SECRET_KEYS, **stand_ins.env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 2
    assert expected in process.stderr


def test_no_secret_in_dialout_logs(dialout, dialout_server):
    """A dial (and whatever ran before on this server): neither token reached its log."""
    assert dialout({"to": "+919800000045"}).status_code == 200
    log = dialout_server.log()
    assert "Dialling +91" in log
    for secret in (DIALOUT_TOKEN, EXOTEL_TOKEN, *SECRET_KEYS.values()):
        assert secret not in log
