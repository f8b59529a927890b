"""Shared fixtures: vendor stand-ins in a thread, and server.py in a real subprocess."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from simulator.standins import StandIns

ROOT = Path(__file__).resolve().parent.parent

# Sentinel keys: no log line or file a test run writes may ever contain them.
SECRET_KEYS = {
    "DEEPGRAM_API_KEY": "dg-sentinel-7f3a9c1e",
    "OPENAI_API_KEY": "sk-sentinel-4b8d2e6f",
    "CARTESIA_API_KEY": "sk_car_sentinel-9e1c5a7b",
}


# --- Two layers: fast in-process tests, and end-to-end ones -----------------------------------
#
# A test is end-to-end (marker `e2e`) when it uses a fixture that starts a process, a server or
# the vendor stand-ins, or when its module starts one itself (server.py, redis-server, a
# pytest run): marked here at collection, so a new test is placed without an edit.
# `pytest -m "not e2e"` runs the fast layer alone.
E2E_FIXTURES = {"stand_ins", "server", "server_factory", "redis_server"}
E2E_MODULE_SIGNS = ("BotServer(", "StandIns(", "RedisServer(", "subprocess.")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "e2e: end to end: a real server.py, stand-ins or another process (automatic)"
    )


def _starts_processes(module) -> bool:
    path = getattr(module, "__file__", None)
    if not path or Path(path).name == "conftest.py":
        return False
    text = Path(path).read_text(errors="replace")
    return any(sign in text for sign in E2E_MODULE_SIGNS)


def pytest_collection_modifyitems(config, items):
    by_module: dict[str, bool] = {}
    for item in items:
        module = getattr(item, "module", None)
        key = getattr(module, "__name__", "")
        if key not in by_module:
            by_module[key] = module is not None and _starts_processes(module)
        if by_module[key] or E2E_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


def _ephemeral_ports() -> tuple[int, int]:
    """The kernel's range for outgoing connections and `bind(0)` (Linux's default if unknown)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


# Ports for the servers tests start, taken from below the ephemeral range: a port found free
# by `bind(0)` and closed again stays in the pool the kernel hands to outgoing connections, so
# in the seconds before server.py binds it, any client socket (ours, another pytest-xdist
# worker's, another program's) could take it. Each worker takes its own block, so two workers
# never pick the same port.
_PORT_BLOCK = 400
_PORTS_LOW = 20000
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ...; "" without xdist
_blocks = max(1, (min(_ephemeral_ports()[0], 65536) - _PORTS_LOW) // _PORT_BLOCK)
_block = (int(_worker[2:]) + 1 if _worker.startswith("gw") else 0) % _blocks
# A separate pytest run at the same time (another checkout) starts elsewhere in its block.
_next_port = iter(
    _PORTS_LOW + _block * _PORT_BLOCK + (offset % _PORT_BLOCK)
    for offset in range(random.randrange(_PORT_BLOCK), 10**9)
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on, outside the kernel's ephemeral range and
    never the same as another test worker's (see _PORT_BLOCK)."""
    for port in _next_port:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use by something else: take the next
            return port
    raise AssertionError("unreachable: _next_port never ends")


async def until(condition, timeout: float = 10.0, every: float = 0.02) -> None:
    """Wait until `condition()` is true (checked every `every` s); AssertionError after
    `timeout` s. For tests: wait on what should happen, never a fixed sleep."""
    import asyncio

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"still not true after {timeout:g} s: {condition}"
        await asyncio.sleep(every)


def port_was_taken(log: str) -> bool:
    """Whether a server's log says its port was taken between free_port() and its bind."""
    return "address already in use" in log.lower()


class PortTaken(RuntimeError):
    """A server could not bind the port free_port() gave it."""


class BotServer:
    """`python server.py` on a free port, its log in a file the test can read."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        args: tuple[str, ...] = (),
        cwd: Path = ROOT,
    ):
        self.args = args  # server.py options, e.g. ("--workers", "2") or ("--control",)
        self.cwd = cwd  # the folder whose server.py (and bot.py, exotel_bot/) runs
        self.port = free_port()
        self.log_path = log_path
        self.env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port), **env}
        self.process: subprocess.Popen | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> BotServer:
        try:
            return self._start(timeout)
        except PortTaken:
            # Another program bound the port first (possible only for a port outside this
            # run's control, see free_port): once more on a new one.
            self.port = free_port()
            self.env["PORT"] = str(self.port)
            return self._start(timeout)

    def _start(self, timeout: float) -> BotServer:
        log = open(self.log_path, "w")  # noqa: SIM115 - kept open for the process's life
        self.process = subprocess.Popen(
            [sys.executable, "server.py", *self.args],
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if port_was_taken(self.log()):
                    raise PortTaken(self.port)
                raise RuntimeError(f"server.py exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.http_url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server.py did not become healthy:\n{self.log()}")

    def health(self) -> dict:
        return httpx.get(f"{self.http_url}/health", timeout=5).json()

    def wait_for_no_calls(self, timeout: float = 10) -> dict:
        """Poll /health until no call is active (or the timeout passes); return the last answer."""
        deadline = time.monotonic() + timeout
        health = self.health()
        while health["active_calls"] and time.monotonic() < deadline:
            time.sleep(0.1)
            health = self.health()
        return health

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture(scope="session")
def stand_ins():
    s = StandIns(host="127.0.0.1", port=0)
    s.start()
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def _fresh_settings():
    """Settings are read once per process (load_settings is cached): a test that changes the
    environment gets them read anew, and leaves no stale copy for the next test."""
    from exotel_bot.settings import load_settings

    load_settings.cache_clear()
    yield
    load_settings.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_stand_ins(request):
    """Each test starts with the stand-ins' default script and empty recordings."""
    if "stand_ins" in request.fixturenames:
        request.getfixturevalue("stand_ins").reset()
    yield


@pytest.fixture(scope="session")
def server_factory(stand_ins, tmp_path_factory):
    """Start server.py with extra environment; every server started is stopped at the end."""
    servers: list[BotServer] = []

    def start(*args: str, **env: str) -> BotServer:
        log_path = tmp_path_factory.mktemp("server") / "server.log"
        records = str(log_path.parent / "calls")  # call records: never into the repository
        full_env = {
            **SECRET_KEYS,
            **stand_ins.env(),
            "LOG_LEVEL": "DEBUG",
            "CALL_RECORDS_DIR": records,
            **env,
        }
        server = BotServer(full_env, log_path, args).start(timeout=120 if args else 60)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def server(server_factory) -> BotServer:
    """The bot with default settings, shared by the tests that need nothing special."""
    return server_factory()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    """A real redis-server of the module's own, on a free port (tests/redis_server.py)."""
    from tests.redis_server import RedisServer  # it imports this module

    server = RedisServer(tmp_path_factory.mktemp("redis") / "redis.log").start()
    yield server
    server.stop()


def expected_greeting(
    language: str = "en",
    *,
    name: str | None = None,
    outbound_context: dict | None = None,
) -> str:
    """What bot.py's greeting() says for such a call: tests compare with it, never with words
    of their own, so a user who rewrites the greeting or its phrases keeps a green suite."""
    import bot  # the bot the server runs (imported here: it loads the VAD model)
    from exotel_bot.wire.handshake import ExotelCall
    from phrases import PHRASES

    call = ExotelCall(
        call_sid="CA-test",
        stream_sid="MZ-test",
        account_sid="AC-test",
        from_number="",
        to_number="",
        custom_parameters={"name": name} if name else {},
        direction="outbound" if outbound_context is not None else "inbound",
        dial_context=outbound_context or {},
    )
    return bot.greeting(call, PHRASES[language])


def spoken(stand_ins) -> list[str]:
    """Everything the bot asked Cartesia to say, in order."""
    return [r["transcript"] for r in stand_ins.cartesia.requests if r.get("transcript")]


def record_of(server: BotServer, call_sid: str, timeout: float = 15) -> dict:
    """The call record server.py wrote for `call_sid` (records are written as the call ends)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in Path(server.env["CALL_RECORDS_DIR"]).glob("*/record.json"):
            record = json.loads(path.read_text())
            if record["call_sid"] == call_sid:
                return record
        time.sleep(0.2)
    raise AssertionError(f"no call record for {call_sid}")
