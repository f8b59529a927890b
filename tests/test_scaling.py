"""Past one process, against a real redis-server: a dial placed on one worker reaches a call on
another, a transfer decided in a worker is answered by a --control process, the call cap holds
across workers, and calls survive Redis going away and coming back."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from urllib.parse import parse_qsl, urlsplit

import httpx
import psutil
import pytest
import websockets

from exotel_bot.outbound.dials import DialRecord
from exotel_bot.settings import read_settings
from exotel_bot.stores import StoreUnavailable, redis_slots
from exotel_bot.stores.redis_stores import redis_stores
from exotel_bot.wire.urls import pipecat_cloud_url
from simulator.caller import (
    ExpectClose,
    Hangup,
    Say,
    Silence,
    WaitForBot,
    WaitForGreeting,
    run_call,
)
from simulator.standins.exotel_rest import ExotelRestStandIn
from tests.conftest import ROOT, SECRET_KEYS, expected_greeting, spoken
from tests.redis_server import RedisServer

DIALOUT_TOKEN = "dialout-sentinel-5e2a8c1f9d"
EXOTEL_TOKEN = "exotel-token-sentinel-2f7b4d"


@pytest.fixture(scope="module")
def exotel_api():
    stand_in = ExotelRestStandIn(api_token=EXOTEL_TOKEN).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="module")
def shared_env(redis_server, exotel_api) -> dict[str, str]:
    return {
        "REDIS_URL": redis_server.url,
        "REDIS_KEY_PREFIX": "test-scaling:",
        "MAX_CONCURRENT_CALLS": "2",
        "DIALOUT_TOKEN": DIALOUT_TOKEN,
        "EXOTEL_OUTBOUND_MODE": "flow",  # these dials go through a flow's dynamic Voicebot URL
        **exotel_api.env(),
    }


@pytest.fixture(scope="module")
def worker_a(server_factory, shared_env):
    """One `server.py` worker: where /dialout lands."""
    return server_factory(**shared_env)


@pytest.fixture(scope="module")
def workers_b(server_factory, shared_env):
    """`server.py --workers 2`: two more worker processes on one port."""
    return server_factory("--workers", "2", **shared_env)


@pytest.fixture(scope="module")
def control(server_factory, shared_env):
    """`server.py --control`: the HTTP side alone, as run beside Pipecat Cloud."""
    return server_factory("--control", **shared_env)


def dialout(server, body: dict) -> httpx.Response:
    headers = {"Authorization": f"Bearer {DIALOUT_TOKEN}"}
    return httpx.post(f"{server.http_url}/dialout", json=body, headers=headers, timeout=10)


def as_exotel_opens(url: str) -> tuple[str, dict[str, str]]:
    """What Exotel does with a Voicebot URL: connect to it and pass its query parameters on
    as the `start` message's custom parameters (Exotel's Voicebot applet docs)."""
    params = dict(parse_qsl(urlsplit(url).query))
    params.pop("sample-rate", None)
    return url, params


# ---------------------------------------------------------------------------------------------
# Start-up


def run_server(*args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {**SECRET_KEYS, "PATH": "/usr/bin:/bin", "HOME": "/tmp", "REDIS_URL": "", **env}
    return subprocess.run(
        [sys.executable, "server.py", "--port", "1", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_several_workers_without_redis_fail_with_a_clear_message():
    result = run_server("--workers", "2")
    assert result.returncode == 2
    assert "2 workers need REDIS_URL" in result.stderr
    result = run_server(WEB_CONCURRENCY="3")
    assert result.returncode == 2 and "3 workers need REDIS_URL" in result.stderr


def test_unreachable_redis_is_named_at_start_up(tmp_path):
    dead = RedisServer(tmp_path / "unused.log")  # a free port nobody listens on
    result = run_server(REDIS_URL=f"redis://:hunter2-secret@127.0.0.1:{dead.port}/0")
    assert result.returncode == 2
    assert "Cannot reach Redis at REDIS_URL" in result.stderr
    assert f"127.0.0.1:{dead.port}" in result.stderr
    assert "hunter2-secret" not in result.stderr + result.stdout  # the password never shows


def test_control_plane_loads_neither_bot_nor_pipecat():
    probe = (
        "import sys; import server; app = server.create_control_app(); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'bot', 'pipecat', 'torch'}))"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}  # no vendor keys: the control plane needs none
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


# ---------------------------------------------------------------------------------------------
# Shared state in Redis, in this process (the same classes the servers use)


async def test_slots_are_leases_shared_by_workers(redis_server, monkeypatch):
    monkeypatch.setattr(redis_slots, "LEASE_SECS", 0.5)
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    monkeypatch.setenv("REDIS_KEY_PREFIX", "test-leases:")
    monkeypatch.setenv("CALLS_PER_WORKER", "1")
    monkeypatch.delenv("MAX_CONCURRENT_CALLS", raising=False)
    settings = read_settings(require_keys=False)
    one, two = redis_stores(settings), redis_stores(settings)
    try:
        # The default cap is CALLS_PER_WORKER x the workers alive.
        assert (await one.slots.acquire("a")).admitted
        refused = await one.slots.acquire("b")
        assert (refused.admitted, refused.running, refused.limit) == (False, 1, 1)
        second = await two.slots.acquire("c")  # a second worker: room for one more
        assert (second.admitted, second.running, second.limit) == (True, 2, 2)
        # Worker two dies without a word: its call and its share go when the leases run out,
        # while worker one keeps its own alive by renewing.
        for _ in range(4):
            await asyncio.sleep(0.25)
            await one.slots.renew()
        assert await one.slots.running() == 1
        assert not (await one.slots.acquire("d")).admitted  # one worker again: cap 1
        await one.slots.release("a")
        assert await one.slots.running() == 0
        ttls = [await one.client.pttl(k) for k in await one.client.keys("test-leases:*")]
        assert ttls and all(ttl > 0 for ttl in ttls)  # every key expires
    finally:
        await one.close()
        await two.close()


async def test_dials_and_decisions_round_trip_with_ttls(redis_server, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    monkeypatch.setenv("REDIS_KEY_PREFIX", "test-dials:")
    stores = redis_stores(read_settings(require_keys=False), takes_calls=False)
    try:
        record = DialRecord(to="+919812345678", context={"name": "Asha"}, call_sid="CAdial")
        await stores.dials.save(record)
        assert (await stores.dials.by_call_sid("CAdial")).context == {"name": "Asha"}
        assert (await stores.dials.by_ref(record.ref)).dial_id == record.dial_id
        assert [r.dial_id for r in await stores.dials.by_number("+919812345678")] == [
            record.dial_id
        ]
        await stores.transfers.set("CAdial", "transfer")
        assert await stores.transfers.get("CAdial") == "transfer"
        assert await stores.transfers.get("CAother") is None
        keys = await stores.client.keys("test-dials:*")
        assert len(keys) == 5 and all([await stores.client.ttl(k) > 0 for k in keys])
    finally:
        await stores.close()


async def test_a_dead_redis_raises_store_unavailable_naming_it(tmp_path, monkeypatch):
    dead = RedisServer(tmp_path / "unused.log")
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{dead.port}/0")
    stores = redis_stores(read_settings(require_keys=False))
    try:
        with pytest.raises(StoreUnavailable, match=f"127.0.0.1:{dead.port}"):
            await stores.dials.by_call_sid("CA1")
        # A new call is still admitted, by this worker's own count.
        assert (await stores.slots.acquire("s1")).admitted
    finally:
        await stores.close()


# ---------------------------------------------------------------------------------------------
# Through real servers: several workers, a control plane, one Redis


async def test_dial_on_one_worker_reaches_the_call_on_another(
    worker_a, workers_b, control, exotel_api, stand_ins
):
    assert workers_b.health()["store"] == "redis"
    children = psutil.Process(workers_b.process.pid).children()
    assert sum("spawn_main" in " ".join(c.cmdline()) for c in children) == 2

    response = dialout(worker_a, {"to": "+919812340001", "context": {"name": "Asha"}})
    assert response.status_code == 200, response.text
    call_sid = response.json()["call_sid"]

    # Exotel fetches the flow's dynamic Voicebot URL (here from the control plane) ...
    fetched = httpx.get(
        f"{control.http_url}/exotel/voicebot-url",
        params={"CallSid": call_sid, "CallFrom": "09812340001", "CallTo": "08047491899"},
    )
    assert fetched.status_code == 200
    url = fetched.json()["url"]
    assert url.startswith(f"ws://127.0.0.1:{control.port}/ws?dial=")
    # ... and opens it; here on the other workers, with a call sid and numbers the dial never
    # saw: the `dial` parameter alone finds the context.
    _, params = as_exotel_opens(url)
    report = await run_call(
        workers_b.ws_url,
        [WaitForGreeting(), Hangup()],
        call_sid="CAnothing-alike",
        from_number="+911111111111",
        to_number="+912222222222",
        custom_parameters=params,
    )
    assert report.ok, report.summary()
    assert spoken(stand_ins)[0] == expected_greeting(outbound_context={"name": "Asha"})
    assert "matched by dial parameter" in workers_b.log()

    # A second dial, matched on the other workers by Exotel's call sid alone.
    second = dialout(worker_a, {"to": "+919812340002", "context": {"name": "Ravi"}}).json()
    report = await run_call(
        workers_b.ws_url, [WaitForGreeting(), Hangup()], call_sid=second["call_sid"]
    )
    assert report.ok, report.summary()
    assert spoken(stand_ins)[-1] == expected_greeting(outbound_context={"name": "Ravi"})


def test_voicebot_url_for_pipecat_cloud_and_inbound_calls(server_factory, shared_env):
    cloud = server_factory(
        "--control",
        **shared_env,
        PIPECAT_CLOUD_SERVICE_HOST="exotel-bot.acme",
        PIPECAT_CLOUD_REGION="ap-south",
    )
    inbound = httpx.get(f"{cloud.http_url}/exotel/voicebot-url", params={"CallSid": "CAin"})
    assert inbound.json() == {
        "url": "wss://ap-south.api.pipecat.daily.co/ws/exotel?serviceHost=exotel-bot.acme"
    }
    dialled = dialout(cloud, {"to": "+919812340003"})
    assert dialled.status_code == 200, dialled.text
    url = httpx.get(
        f"{cloud.http_url}/exotel/voicebot-url", params={"CallSid": dialled.json()["call_sid"]}
    ).json()["url"]
    params = dict(parse_qsl(urlsplit(url).query))
    assert params["serviceHost"] == "exotel-bot.acme" and len(params["dial"]) == 16
    assert len(params) <= 3 and len(urlsplit(url).query) <= 256  # Exotel's limits
    # us-west, Pipecat Cloud's default region, has no prefix.
    assert pipecat_cloud_url("bot.acme", "us-west") == pipecat_cloud_url("bot.acme", "")
    assert pipecat_cloud_url("bot.acme", "") == (
        "wss://api.pipecat.daily.co/ws/exotel?serviceHost=bot.acme"
    )


def test_voicebot_url_is_this_servers_public_ws(server_factory, shared_env):
    public = server_factory("--control", **shared_env, PUBLIC_URL="https://bot.example.com/")
    answer = httpx.get(f"{public.http_url}/exotel/voicebot-url", params={"CallSid": "CAin2"})
    assert answer.json() == {"url": "wss://bot.example.com/ws"}
    dialled = dialout(public, {"to": "+919812340004"}).json()
    url = httpx.get(
        f"{public.http_url}/exotel/voicebot-url",
        params={"CallSid": "CAunknown", "CallFrom": "09812340004", "CallTo": "08047491899"},
    ).json()["url"]  # no such sid: found by the customer's number
    assert url.startswith("wss://bot.example.com/ws?dial=")
    record = httpx.get(
        f"{public.http_url}/dialout/{dialled['call_sid']}",
        headers={"Authorization": f"Bearer {DIALOUT_TOKEN}"},
    ).json()
    assert record["ref"] == dict(parse_qsl(urlsplit(url).query))["dial"]


async def test_transfer_decided_in_a_worker_is_answered_by_the_control_plane(
    workers_b, control, stand_ins
):
    stand_ins.config.stt.transcripts.append("Can I talk to a person please?")
    stand_ins.config.llm.rules.append(
        {"match": "person", "tool_call": {"name": "transfer_to_agent", "arguments": {}}}
    )
    report = await run_call(
        workers_b.ws_url, [WaitForGreeting(), Say("yes"), ExpectClose(timeout=20)]
    )
    assert report.ended_by == "server", report.summary()
    passthru = f"{control.http_url}/exotel/passthru"
    answer = httpx.get(passthru, params={"CallSid": report.call_sid}, follow_redirects=False)
    assert answer.status_code == 200
    other = httpx.get(passthru, params={"CallSid": "CAnot-this"}, follow_redirects=False)
    assert other.status_code == 302


async def test_the_cap_holds_across_workers(worker_a, workers_b, stand_ins):
    worker_a.wait_for_no_calls(20)
    hold = [WaitForGreeting(), Silence(4), Hangup()]
    running = [
        asyncio.create_task(run_call(worker_a.ws_url, hold)),
        asyncio.create_task(run_call(workers_b.ws_url, hold)),
    ]
    deadline = time.monotonic() + 20
    while worker_a.health()["active_calls"] < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert workers_b.health()["active_calls"] == 2  # one count, whichever worker answers
    for server in (worker_a, workers_b):
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(server.ws_url):
                pass
        assert refused.value.response.status_code == 503
    for report in await asyncio.gather(*running):
        assert report.ok, report.summary()
    assert worker_a.wait_for_no_calls(10)["active_calls"] == 0
    assert "2 calls running, the limit (MAX_CONCURRENT_CALLS) is 2" in worker_a.log()


async def test_default_cap_is_one_workers_capacity_without_redis(server_factory, stand_ins):
    """No MAX_CONCURRENT_CALLS, no Redis: the cap is CALLS_PER_WORKER (one worker)."""
    server = server_factory(CALLS_PER_WORKER="1", MAX_CONCURRENT_CALLS="", REDIS_URL="")
    assert server.health()["store"] == "memory"
    hold = asyncio.create_task(run_call(server.ws_url, [WaitForGreeting(), Silence(2), Hangup()]))
    deadline = time.monotonic() + 20
    while server.health()["active_calls"] < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(server.ws_url):
            pass
    assert refused.value.response.status_code == 503
    assert (await hold).ok
    assert "1 calls running, the limit (MAX_CONCURRENT_CALLS) is 1" in server.log()


async def test_calls_go_on_when_redis_dies_and_recover_when_it_returns(
    worker_a, workers_b, control, redis_server, stand_ins
):
    worker_a.wait_for_no_calls(20)
    stand_ins.config.stt.transcripts.extend(["Where is my order?", "Can I talk to a person?"])
    stand_ins.config.llm.rules.append(
        {"match": "person", "tool_call": {"name": "transfer_to_agent", "arguments": {}}}
    )
    call = asyncio.create_task(
        run_call(
            worker_a.ws_url,
            [
                WaitForGreeting(),
                Silence(2.0),  # Redis dies here
                Say("order_status"),
                WaitForBot(timeout=20),
                Say("yes"),  # asks for a person: the decision cannot be saved
                ExpectClose(timeout=20),
            ],
        )
    )
    deadline = time.monotonic() + 20
    while worker_a.health()["active_calls"] < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    redis_server.kill()

    refused = dialout(worker_a, {"to": "+919812340009"})
    assert refused.status_code == 503
    assert "Cannot record the dial" in refused.json()["detail"]
    assert f"127.0.0.1:{redis_server.port}" in refused.json()["detail"]

    report = await call  # the running call went on: a reply, then the hand-over, then the end
    assert report.ended_by == "server" and len(report.latencies) >= 1, report.summary()
    [failed_write] = [
        line for line in worker_a.log().splitlines() if "Could not save the transfer" in line
    ]
    assert f"| {report.call_sid} |" in failed_write  # logged with the call's id

    redis_server.start()  # back, and empty
    deadline = time.monotonic() + 30
    while (answer := dialout(worker_a, {"to": "+919812340010"})).status_code != 200:
        assert time.monotonic() < deadline, answer.text
        await asyncio.sleep(0.5)
    report = await run_call(workers_b.ws_url, [WaitForGreeting(), Hangup()])
    assert report.ok, report.summary()
    assert control.health()["active_calls"] == 0 and "store_error" not in control.health()
