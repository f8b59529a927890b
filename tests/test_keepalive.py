"""The websocket to Exotel: no keepalive that can drop a live call, no stuck peer kept forever.

- A peer that never answers pings: with the options server.py gives uvicorn it receives no
  ping at all, so nothing can time it out; with uvicorn's default policy (here scaled down
  from 20 s + 20 s to 0.2 s + 0.2 s so the test is quick) the same peer is dropped with 1011,
  which proves the peer really never answers. A 10-minute call of such a peer against the real
  bot is `python -m benchmarks.keepalive`.
- A peer that stops reading its socket: its call ends and its socket closes within 5 s of
  `stop`, and /health is back to no calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time

import psutil
import pytest
import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pipecat.transports.websocket.fastapi import FastAPIWebsocketCallbacks

from exotel_bot.wire.client import TimedWebsocketClient
from server import uvicorn_options
from simulator.peers import DeafPeer, stalled_reader, start_messages
from tests.conftest import free_port

PEER_SECS = 2.0  # ten scaled-down ping rounds


def media_app() -> FastAPI:
    """A websocket that streams a message every 50 ms, as a bot talking does."""
    app = FastAPI()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            while True:
                await websocket.send_text(json.dumps({"event": "media"}))
                await asyncio.sleep(0.05)

    return app


class InProcessServer:
    """uvicorn serving `media_app()` in a thread, with the given options."""

    def __init__(self, **options):
        self.port = free_port()
        config = uvicorn.Config(media_app(), **{**options, "host": "127.0.0.1", "port": self.port})
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> InProcessServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.server.started
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def server_options(keys) -> dict:
    from exotel_bot.settings import load_settings

    return uvicorn_options(load_settings(require_keys=False), "127.0.0.1", 0)


async def deaf_peer_for(port: int, seconds: float) -> tuple[DeafPeer, bool]:
    """The peer after `seconds` connected, and whether the server still had it open."""
    peer = await DeafPeer(f"ws://127.0.0.1:{port}/ws").open()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(peer.closed.wait(), seconds)
    still_open = not peer.closed.is_set()
    await peer.close()
    return peer, still_open


async def test_a_peer_that_never_answers_pings_gets_none_and_stays_connected(monkeypatch):
    options = server_options(monkeypatch)
    assert options["ws_ping_interval"] is None  # the policy itself, as server.py applies it
    with InProcessServer(**options) as server:
        peer, still_open = await deaf_peer_for(server.port, PEER_SECS)
    assert peer.pings == 0
    assert still_open, peer.close_code
    assert peer.messages > 10  # media kept flowing all along


async def test_uvicorns_default_policy_drops_that_same_peer(monkeypatch):
    """The control: uvicorn's default, scaled down, closes the deaf peer with 1011."""
    options = {**server_options(monkeypatch), "ws_ping_interval": 0.2, "ws_ping_timeout": 0.2}
    with InProcessServer(**options) as server:
        peer, still_open = await deaf_peer_for(server.port, PEER_SECS)
    assert peer.pings >= 1
    assert not still_open and peer.close_code == 1011, peer.close_code


# --- A peer that stops reading ----------------------------------------------------------------

WRITE_LIMIT = 1.0


def flooding_app(state: dict) -> FastAPI:
    """A websocket that writes 1 MB messages through `TimedWebsocketClient` until a write
    hits its time limit; `state` gets the time of the last write that went through."""
    app = FastAPI()

    async def nothing(_websocket):
        pass

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        callbacks = FastAPIWebsocketCallbacks(
            on_client_connected=nothing, on_client_disconnected=nothing, on_session_timeout=nothing
        )
        client = TimedWebsocketClient(websocket, callbacks, write_limit_secs=WRITE_LIMIT)
        state["client"] = client
        while not client.stalled:
            await client.send("x" * 1_000_000)
            if not client.stalled:
                state["last_write"] = time.monotonic()

    return app


async def test_a_write_that_waits_too_long_drops_the_connection():
    """Writes to a peer that stopped reading: once one waits WRITE_LIMIT, the server drops the
    TCP connection (no buffered bytes flushed first) instead of waiting for a reader."""
    state: dict = {}
    port = free_port()
    config = uvicorn.Config(flooding_app(state), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        ws = await stalled_reader(f"ws://127.0.0.1:{port}/ws")
        client_port = ws.transport.get_extra_info("sockname")[1]
        try:
            deadline = time.monotonic() + 30
            while not (state.get("client") and state["client"].stalled):
                assert time.monotonic() < deadline, state
                await asyncio.sleep(0.1)
            stalled_after = time.monotonic() - state["last_write"]
            while server_side_sockets(port, client_port):
                assert time.monotonic() < deadline, server_side_sockets(port, client_port)
                await asyncio.sleep(0.1)
            assert stalled_after >= WRITE_LIMIT  # it did wait for the limit, then gave up
            assert time.monotonic() - state["last_write"] <= 5  # let go within 5 s
        finally:
            ws.transport.abort()
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 10)


def server_side_sockets(port: int, client_port: int) -> list:
    """The server's TCP sockets for the connection from `client_port` (any state)."""
    return [
        c
        for c in psutil.net_connections(kind="tcp")
        if c.laddr and c.laddr.port == port and c.raddr and c.raddr.port == client_port
    ]


@pytest.fixture(scope="module")
def chatty_server(server_factory):
    """Check-ins every 1.5 s: the bot keeps writing to a caller who says nothing."""
    return server_factory(SILENCE_TIMEOUT_SECS="1.5", SILENCE_CHECK_INS="20")


async def test_a_peer_that_stops_reading_is_let_go_within_5_s_of_stop(chatty_server, stand_ins):
    idle_tasks = (await asyncio.to_thread(chatty_server.health))["tasks"]
    ws = await stalled_reader(chatty_server.ws_url)
    client_port = ws.transport.get_extra_info("sockname")[1]
    call_sid = None
    try:
        messages = start_messages("MZstuck", "CAstuck")
        call_sid = messages[1]["start"]["call_sid"]
        for message in messages:
            await ws.send(json.dumps(message))
        # Stream the caller's silence for a while, reading nothing, until the server's
        # writes have filled every buffer on the way (or the server let the call go).
        silence = {"event": "media", "stream_sid": "MZstuck", "media": {"payload": "AAAA" * 400}}
        for _ in range(150):  # at most 15 s
            try:
                await ws.send(json.dumps(silence))
            except Exception:
                break  # the server dropped the connection: writes stalled, call ended
            if "write waited" in chatty_server.log():
                break
            await asyncio.sleep(0.1)
        stopped = time.monotonic()
        with contextlib.suppress(Exception):
            stop = {"event": "stop", "stream_sid": "MZstuck", "stop": {"reason": "callended"}}
            await asyncio.wait_for(ws.send(json.dumps(stop)), 1)
        # The call slot is free and the server's socket is gone, within 5 s of `stop`.
        health = await asyncio.to_thread(chatty_server.wait_for_no_calls, 5)
        assert health["active_calls"] == 0, health
        deadline = stopped + 5
        while server_side_sockets(chatty_server.port, client_port) and (
            time.monotonic() < deadline
        ):
            await asyncio.sleep(0.1)
        left = server_side_sockets(chatty_server.port, client_port)
        assert not left, left
        # /health is back to its idle figures: no task of the call is left running.
        while (tasks := (await asyncio.to_thread(chatty_server.health))["tasks"]) > idle_tasks:
            assert time.monotonic() < deadline, (tasks, idle_tasks)
            await asyncio.sleep(0.1)
        assert time.monotonic() - stopped <= 5
    finally:
        ws.transport.abort()
    log = chatty_server.log()
    assert call_sid and "Traceback" not in log
