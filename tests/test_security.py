"""Who may call: Basic auth, the account allow-list and the call cap, through a real server.py.

Strangers are refused before a pipeline exists (no greeting, no vendor connection), calls from
other Exotel accounts are refused once `start` names them, a full server turns new calls away
without touching the running ones, and no secret reaches a log or a call record.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time

import httpx
import pytest
import websockets

from exotel_bot.security import account_allowed, basic_auth_ok
from exotel_bot.settings import CALLS_PER_WORKER, ConfigError, read_settings
from simulator.caller import Hangup, Silence, WaitForGreeting, run_call
from tests.conftest import SECRET_KEYS, until

WS_USER = "exotel"
WS_PASSWORD = "ws-sentinel-3c1f7d2a9b"  # a sentinel too: it must never be written anywhere
ALLOWED_ACCOUNT = "ACmyaccount"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture(scope="module")
def records_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("records")


@pytest.fixture(scope="module")
def locked_server(server_factory, records_dir):
    """A server locked down the way the README says: Basic auth, one account, two calls."""
    return server_factory(
        EXOTEL_WS_AUTH=f"{WS_USER}:{WS_PASSWORD}",
        EXOTEL_ALLOWED_ACCOUNTS=f"ACother, {ALLOWED_ACCOUNT}",
        MAX_CONCURRENT_CALLS="2",
        CALL_RECORDS_DIR=str(records_dir),
    )


def authed_url(server, password: str = WS_PASSWORD) -> str:
    """The URL as written in Exotel's Voicebot applet: wss://KEY:TOKEN@host/ws."""
    return server.ws_url.replace("ws://", f"ws://{WS_USER}:{password}@")


async def refused_status(url: str, headers: dict[str, str] | None = None) -> int:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(url, additional_headers=headers or {}):
            pass
    return refused.value.response.status_code


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-credentials"),
        pytest.param({"Authorization": basic(WS_USER, WS_PASSWORD + "x")}, id="wrong-password"),
        pytest.param({"Authorization": basic("admin", WS_PASSWORD)}, id="wrong-user"),
        pytest.param({"Authorization": f"Bearer {WS_PASSWORD}"}, id="not-basic"),
        pytest.param({"Authorization": "Basic %%%not-base64"}, id="garbled"),
    ],
)
async def test_strangers_are_refused_before_a_pipeline_exists(locked_server, stand_ins, headers):
    status = await refused_status(locked_server.ws_url, headers)
    assert status == 401
    # Refused during the HTTP upgrade: no call started, so no vendor was ever contacted.
    assert stand_ins.deepgram.connections == []
    assert stand_ins.cartesia.requests == []
    assert "Refusing websocket from 127.0.0.1: missing or wrong Basic auth" in locked_server.log()


async def test_exotel_with_the_right_credentials_gets_through(locked_server, stand_ins):
    report = await run_call(
        authed_url(locked_server),
        [WaitForGreeting(), Hangup()],
        account_sid=ALLOWED_ACCOUNT.lower(),  # account SIDs match in any case
    )
    assert report.ok, report.summary()
    assert len(stand_ins.deepgram.connections) == 1


async def test_another_exotel_account_is_refused_and_logged(locked_server, stand_ins):
    report = await run_call(
        authed_url(locked_server), [WaitForGreeting(timeout=5), Hangup()], account_sid="ACthief"
    )
    assert report.close_code == 1008
    assert report.greeting_latency is None  # no pipeline: no greeting
    assert stand_ins.deepgram.connections == []
    assert "account 'ACthief' is not in EXOTEL_ALLOWED_ACCOUNTS" in locked_server.log()


async def test_a_full_server_refuses_new_calls_without_disturbing_running_ones(
    locked_server, stand_ins
):
    running = [
        asyncio.create_task(
            run_call(
                authed_url(locked_server),
                [WaitForGreeting(), Silence(3), Hangup()],
                account_sid=ALLOWED_ACCOUNT,
            )
        )
        for _ in range(2)
    ]
    deadline = time.monotonic() + 20
    while locked_server.health()["active_calls"] < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    # A third call (even with the right credentials) is turned away with 503 + Retry-After ...
    assert await refused_status(authed_url(locked_server)) == 503
    assert "2 calls running, the limit (MAX_CONCURRENT_CALLS) is 2" in locked_server.log()
    # ... while the two running calls go on to a normal end.
    for report in await asyncio.gather(*running):
        assert report.ok, report.summary()
        assert report.ended_by == "caller"
    # Once they are over there is room again.
    assert locked_server.wait_for_no_calls()["active_calls"] == 0
    report = await run_call(
        authed_url(locked_server), [WaitForGreeting(), Hangup()], account_sid="ACother"
    )
    assert report.ok, report.summary()


async def test_no_secret_is_written_anywhere(locked_server, records_dir, stand_ins):
    """A call (and whatever else ran on this server): the log and every call record, grepped
    for each secret."""
    report = await run_call(
        authed_url(locked_server),
        [WaitForGreeting(), Hangup()],
        account_sid=ALLOWED_ACCOUNT,
    )
    assert report.ok, report.summary()
    await until(lambda: any(records_dir.rglob("record.json")), timeout=15)
    written = {"server log": locked_server.log()}
    for path in records_dir.rglob("*"):
        if path.is_file():
            written[str(path)] = path.read_bytes().decode(errors="replace")
    assert any(name.endswith(".json") for name in written), "no call record was written"
    secrets = [*SECRET_KEYS.values(), WS_PASSWORD, basic(WS_USER, WS_PASSWORD).split()[1]]
    for name, text in written.items():
        for secret in secrets:
            assert secret not in text, f"{secret!r} written to {name}"
    # Nor what strangers tried: a near-miss password is someone's secret too.
    assert WS_PASSWORD + "x" not in written["server log"]


# --- The checks themselves, and the settings that switch them on -------------------------------


def test_basic_auth_check():
    assert basic_auth_ok(basic("u", "p4ss:word"), "u", "p4ss:word")  # ':' allowed in passwords
    assert basic_auth_ok("basic " + basic("u", "p").split()[1], "u", "p")  # scheme in any case
    assert not basic_auth_ok(basic("u", "p"), "u", "q")
    assert not basic_auth_ok(None, "u", "p")
    assert not basic_auth_ok("Basic", "u", "p")
    assert not basic_auth_ok("Basic " + base64.b64encode(b"\xff\xfe").decode(), "u", "p")


def test_account_allow_list():
    assert account_allowed("ACanyone", ())  # no list: everyone
    assert account_allowed("acmine", ("ACmine",))
    assert not account_allowed("ACmine2", ("ACmine",))
    assert not account_allowed("", ("ACmine",))


@pytest.fixture
def env(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("EXOTEL_WS_", "EXOTEL_ALLOWED", "MAX_")):
            monkeypatch.delenv(name)
    for name, value in SECRET_KEYS.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_security_settings_default_to_open_with_a_cap(env):
    settings = read_settings()
    assert (settings.ws_username, str(settings.ws_password)) == ("", "")
    assert settings.allowed_accounts == ()
    # No fixed cap: one worker's measured capacity (CALLS_PER_WORKER) times the workers.
    assert settings.max_concurrent_calls is None
    assert settings.calls_per_worker == CALLS_PER_WORKER
    assert settings.max_message_bytes == 256 * 1024


def test_security_settings_are_read(env):
    env.setenv("EXOTEL_WS_USERNAME", "exotel")
    env.setenv("EXOTEL_WS_PASSWORD", "correct-horse-battery")
    env.setenv("EXOTEL_ALLOWED_ACCOUNTS", " ACone, ,ACtwo ")
    env.setenv("MAX_CONCURRENT_CALLS", "0")
    settings = read_settings()
    assert settings.ws_username == "exotel"
    assert "correct-horse-battery" in settings.secrets()  # scrubbed from every log line
    assert "correct-horse-battery" not in repr(settings)
    assert settings.allowed_accounts == ("ACone", "ACtwo")
    assert settings.max_concurrent_calls == 0  # no cap


@pytest.mark.parametrize(
    "variables, complaint",
    [
        ({"EXOTEL_WS_AUTH": "no-colon-here"}, "username:password"),
        ({"EXOTEL_WS_AUTH": "exotel:tiny-pw"}, "at least 12 characters"),
        ({"EXOTEL_WS_USERNAME": "exotel"}, "needs a username"),
        ({"EXOTEL_WS_AUTH": "a:b" * 8, "EXOTEL_WS_PASSWORD": "x" * 12}, "not both"),
        ({"MAX_CONCURRENT_CALLS": "-1"}, "MAX_CONCURRENT_CALLS"),
        ({"MAX_MESSAGE_BYTES": "1000"}, "at least 16384"),
    ],
)
def test_bad_security_settings_say_what_to_fix(env, variables, complaint):
    for name, value in variables.items():
        env.setenv(name, value)
    with pytest.raises(ConfigError, match=complaint) as error:
        read_settings()
    for value in variables.values():  # a password is never echoed back
        password = value.partition(":")[2]
        assert not password or password not in str(error.value)


def test_the_refusal_says_how_to_authenticate(locked_server):
    """A plain HTTP 401 with a Basic challenge, and nothing the client sent echoed back."""
    response = httpx.get(
        locked_server.http_url + "/ws",
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
            "Authorization": basic(WS_USER, "guess-guess-guess"),
        },
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="exotel-bot"'
    assert "guess" not in response.text


def test_the_root_page_says_where_exotel_should_point_and_hides_the_route_listing(locked_server):
    # Through ngrok: the https host it gives, and the wss:// URL for the applet.
    tunnel = {"Host": "1234abcd.ngrok-free.app", "X-Forwarded-Proto": "https"}
    index = httpx.get(locked_server.http_url + "/", headers=tunnel)
    assert index.status_code == 200
    body = index.json()
    assert body["exotel_voicebot_url"] == "wss://1234abcd.ngrok-free.app/ws"
    assert "Basic auth is on" in body["next_step"]
    assert WS_PASSWORD not in index.text
    # On the laptop itself: a URL Exotel cannot reach, so the next step is ngrok.
    local = httpx.get(locked_server.http_url + "/").json()
    assert local["exotel_voicebot_url"].endswith(f"127.0.0.1:{locked_server.port}/ws")
    assert f"ngrok http {locked_server.port}" in local["next_step"]
    for page in ("/docs", "/redoc", "/openapi.json"):
        assert httpx.get(locked_server.http_url + page).status_code == 404, page


@pytest.mark.parametrize("on", [False, True])
def test_api_docs_are_served_only_when_asked(monkeypatch, on):
    from fastapi.testclient import TestClient

    import server

    monkeypatch.setenv("API_DOCS", str(on).lower())
    with TestClient(server.build_app(calls=False)) as client:
        for page in ("/docs", "/redoc", "/openapi.json"):
            assert client.get(page).status_code == (200 if on else 404), page
        assert "control plane" in client.get("/").json()["role"]
