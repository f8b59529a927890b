"""Hostile and broken input, one row per case: what was sent, what the server did.

Each case talks to a real server.py over a raw websocket, checks the outcome (the call ends or
goes on cleanly, nothing reaches the log as a traceback), then checks the server still serves
an ordinary call. The table of outcomes is printed when the module's tests are done.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from simulator.caller import Hangup, WaitForGreeting, run_call

HANDSHAKE_TIMEOUT_SECS = 2
CHUNK_MS = 100
RATE = 8000
SILENCE = base64.b64encode(bytes(RATE * 2 * CHUNK_MS // 1000)).decode()
TEN_MB = 10 * 1024 * 1024

# (case, expected, what happened): filled in by the cases, printed at the end.
TABLE: list[tuple[str, str, str]] = []


class RawCall:
    """A bare websocket that speaks just enough Exotel to poke the server with bad input."""

    def __init__(self, ws: ClientConnection):
        self.ws = ws
        self.stream_sid = f"MZ{uuid.uuid4().hex}"
        self.call_sid = uuid.uuid4().hex
        self.events: list[tuple[float, dict]] = []  # what the bot sent, with arrival times
        self.close_code: int | None = None
        self._reader: asyncio.Task | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, url: str, read: bool = True, **kwargs):
        ws = await websockets.connect(url, compression=None, max_size=None, **kwargs)
        call = cls(ws)
        if read:
            call._reader = asyncio.create_task(call._read())
        try:
            yield call
        finally:
            if call._reader:
                call._reader.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 5)

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                if isinstance(message, str):
                    self.events.append((time.monotonic(), json.loads(message)))
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code

    async def send(self, message: str | bytes | dict) -> None:
        await self.ws.send(json.dumps(message) if isinstance(message, dict) else message)

    def event(self, name: str, **body) -> dict:
        return {"event": name, "stream_sid": self.stream_sid, **body}

    async def start(self) -> None:
        await self.send({"event": "connected"})
        start = {
            "stream_sid": self.stream_sid,
            "call_sid": self.call_sid,
            "account_sid": "ACtest",
            "from": "+919876543210",
            "to": "+918047491899",
            "media_format": {"encoding": "audio/x-raw", "sample_rate": str(RATE)},
        }
        await self.send(self.event("start", start=start))

    async def media(self, payload: str = SILENCE) -> None:
        await self.send(self.event("media", media={"payload": payload}))

    async def stream_silence(self, seconds: float) -> None:
        for _ in range(round(seconds * 1000 / CHUNK_MS)):
            await self.media()
            await asyncio.sleep(CHUNK_MS / 1000)

    def count(self, name: str, since: float = 0.0) -> int:
        return sum(1 for t, e in self.events if e.get("event") == name and t >= since)

    async def wait_for(self, name: str, since: float = 0.0, timeout: float = 15) -> bool:
        """Stream silence (as Exotel would) until the bot sends `name` after `since`."""
        deadline = time.monotonic() + timeout
        while not self.count(name, since):
            if time.monotonic() > deadline or self.close_code is not None:
                return False
            with contextlib.suppress(websockets.ConnectionClosed):
                await self.media()
            await asyncio.sleep(CHUNK_MS / 1000)
        return True

    async def bot_answers(self) -> bool:
        """Press 5# and wait for the bot's spoken answer: proof the whole pipeline still runs."""
        pressed = time.monotonic()
        for digit in "5#":
            await self.send(self.event("dtmf", dtmf={"digit": digit, "duration": "100"}))
        # The key press interrupts whatever the bot was saying (a `clear`); what follows is
        # the answer, from the LLM through the TTS.
        if not await self.wait_for("clear", since=pressed):
            return False
        cleared = max(t for t, e in self.events if e.get("event") == "clear")
        return await self.wait_for("media", since=cleared)

    async def hang_up(self) -> int | None:
        """Exotel's `stop`; returns the close code once the socket is closed."""
        with contextlib.suppress(websockets.ConnectionClosed):
            await self.send(self.event("stop", stop={"reason": "callended"}))
        return await self.closed()

    async def closed(self, timeout: float = 10) -> int | None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self.close_code


def abort(call: RawCall) -> None:
    """Drop the TCP connection with no close frame, as a crashed client or a dead network does."""
    sock = call.ws.transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    call.ws.transport.abort()


# --- The cases: each returns what happened, in a few words, and asserts it ----------------------


async def refused_at_handshake(url: str, *messages: str | bytes | dict) -> str:
    async with RawCall.open(url) as call:
        for message in messages:
            await call.send(message)
        code = await call.closed(HANDSHAKE_TIMEOUT_SECS + 5)
    assert code == 1008, f"expected a 1008 refusal, got {code}"
    assert not call.count("media"), "a refused call must get no pipeline, so no greeting"
    return "refused at the handshake (close 1008), no pipeline built"


async def malformed_json_first(url: str) -> str:
    return await refused_at_handshake(url, "{not json", "}{")


async def binary_first(url: str) -> str:
    return await refused_at_handshake(url, b"\x00\x01\x02\x03")


async def no_start(url: str) -> str:
    began = time.monotonic()
    outcome = await refused_at_handshake(url, {"event": "connected"})
    return f"{outcome}, after {time.monotonic() - began:.1f} s (the handshake timeout)"


async def twilio_start(url: str) -> str:
    twilio = {"event": "start", "start": {"streamSid": "MZ1", "callSid": "CA1"}}
    return await refused_at_handshake(url, {"event": "connected"}, twilio)


async def media_before_start(url: str) -> str:
    media = {"event": "media", "media": {"payload": SILENCE}}
    return await refused_at_handshake(url, {"event": "connected"}, media)


async def dropped_mid_call(url: str, *garbage: Callable[[RawCall], Awaitable[None]]) -> str:
    """Start a call, send the garbage once the greeting plays, then prove the call still works."""
    async with RawCall.open(url) as call:
        await call.start()
        assert await call.wait_for("media"), "no greeting"
        for send in garbage:
            await send(call)
        answered = await call.bot_answers()
        code = await call.hang_up()
    assert answered, "the bot stopped answering after the bad input"
    assert code == 1000, f"the call did not end cleanly after the caller hung up: {code}"
    return "dropped; the call went on (the bot answered a key press), clean close on stop"


async def malformed_json_mid_call(url: str) -> str:
    return await dropped_mid_call(url, lambda c: c.send("{oops"), lambda c: c.send("[1, 2]"))


async def binary_mid_call(url: str) -> str:
    return await dropped_mid_call(url, lambda c: c.send(b"\xff" * 640))


async def invalid_base64(url: str) -> str:
    return await dropped_mid_call(url, lambda c: c.media("!!!not base64!!!"))


async def odd_length_pcm(url: str) -> str:
    odd = base64.b64encode(bytes(641)).decode()
    return await dropped_mid_call(url, lambda c: c.media(odd))


async def empty_payload(url: str) -> str:
    async def empties(call: RawCall) -> None:
        await call.media("")
        await call.send(call.event("media", media={}))
        await call.send(call.event("media"))

    return await dropped_mid_call(url, empties)


async def unknown_event(url: str) -> str:
    return await dropped_mid_call(
        url, lambda c: c.send(c.event("teleport", teleport={"to": "mars"})), lambda c: c.send("{}")
    )


async def flood(url: str) -> str:
    """Two minutes of caller audio as fast as the socket takes it."""
    seconds = 120
    sent_in = 0.0

    async def burst(call: RawCall) -> None:
        nonlocal sent_in
        began = time.monotonic()
        for _ in range(seconds * 1000 // CHUNK_MS):
            await call.media()
        sent_in = time.monotonic() - began

    outcome = await dropped_mid_call(url, burst)
    return f"{seconds} s of audio sent in {sent_in:.1f} s: beyond a 5 s burst {outcome}"


async def ten_mb_message(url: str) -> str:
    async with RawCall.open(url) as call:
        await call.start()
        assert await call.wait_for("media"), "no greeting"
        with contextlib.suppress(websockets.ConnectionClosed):
            await call.media("A" * TEN_MB)
        code = await call.closed()
    assert code == 1009, f"expected close 1009 (message too big), got {code}"
    return "the call ended: close 1009 (message too big), the 10 MB never reached the bot"


async def stop_then_more(url: str) -> str:
    async with RawCall.open(url) as call:
        await call.start()
        assert await call.wait_for("media"), "no greeting"
        await call.send(call.event("stop", stop={"reason": "callended"}))
        with contextlib.suppress(websockets.ConnectionClosed):
            for _ in range(20):
                await call.media()
                await call.send(call.event("dtmf", dtmf={"digit": "5"}))
        code = await call.closed()
    assert code == 1000, f"expected the bot to close normally after stop, got {code}"
    return "the call ended on stop (close 1000); the frames after it were ignored"


async def dropped_mid_greeting(url: str) -> str:
    async with RawCall.open(url) as call:
        await call.start()
        assert await call.wait_for("media"), "no greeting"
        abort(call)
    return "the server ended the call when the socket died (no close frame)"


async def dropped_mid_reply(url: str) -> str:
    async with RawCall.open(url) as call:
        await call.start()
        assert await call.wait_for("media"), "no greeting"
        assert await call.bot_answers(), "no reply to drop the socket in"
        abort(call)
    return "the server ended the call when the socket died during a reply"


async def slow_consumer(url: str) -> str:
    """A caller that streams audio but never reads what the bot sends, then hangs up."""
    async with RawCall.open(url, read=False, max_queue=1) as call:
        await call.start()
        await call.stream_silence(6)  # the greeting and more pile up unread
        await call.send(call.event("stop", stop={"reason": "callended"}))
        with contextlib.suppress(TimeoutError, websockets.ConnectionClosed):
            async with asyncio.timeout(15):
                async for _ in call.ws:  # now drain, to see how the bot ended the call
                    pass
        code = call.ws.close_code
    assert code == 1000, f"expected a clean close after stop, got {code}"
    return "never read for 6 s, then stop: the bot ended the call cleanly (close 1000)"


async def many_at_once(url: str) -> str:
    """Forty sockets at once, half of them starting a call, all dropped a moment later."""

    async def one(index: int) -> str:
        try:
            async with RawCall.open(url, open_timeout=10) as call:
                if index % 2:
                    await call.start()
                await asyncio.sleep(0.3)
                abort(call)
            return "opened"
        except websockets.InvalidStatus as e:
            return f"HTTP {e.response.status_code}"

    results = await asyncio.gather(*(one(i) for i in range(40)))
    counts = {r: results.count(r) for r in sorted(set(results))}
    assert set(counts) <= {"opened", "HTTP 503"}, counts
    summary = ", ".join(f"{n} {what}" for what, n in counts.items())
    return f"40 sockets dropped at once ({summary}); every call cleaned up"


@dataclass(frozen=True)
class Case:
    name: str
    expected: str
    run: Callable[[str], Awaitable[str]]


CASES = [
    Case("malformed JSON first", "refused", malformed_json_first),
    Case("binary frame first", "refused", binary_first),
    Case("no start message", "refused", no_start),
    Case("non-Exotel start", "refused", twilio_start),
    Case("media before start", "refused", media_before_start),
    Case("malformed JSON mid-call", "dropped, call goes on", malformed_json_mid_call),
    Case("binary frame mid-call", "dropped, call goes on", binary_mid_call),
    Case("invalid base64", "dropped, call goes on", invalid_base64),
    Case("odd-length PCM", "dropped, call goes on", odd_length_pcm),
    Case("empty payloads", "dropped, call goes on", empty_payload),
    Case("unknown events", "dropped, call goes on", unknown_event),
    Case("flood faster than real time", "excess dropped, call goes on", flood),
    Case("10 MB message", "call ends (1009)", ten_mb_message),
    Case("stop, then more frames", "call ends (1000)", stop_then_more),
    Case("socket dropped mid-greeting", "call ends", dropped_mid_greeting),
    Case("socket dropped mid-reply", "call ends", dropped_mid_reply),
    Case("slow consumer", "call ends on stop", slow_consumer),
    Case("40 connections opened and dropped", "all cleaned up", many_at_once),
]


@pytest.fixture(scope="module")
def hostile_server(server_factory, request):
    """One server for the whole table (a short handshake timeout keeps 'no start' quick)."""
    server = server_factory(EXOTEL_HANDSHAKE_TIMEOUT_SECS=str(HANDSHAKE_TIMEOUT_SECS))
    yield server
    width = max(len(c.name) for c in CASES)
    lines = ["", "Hostile input: what each case did to the server", ""]
    lines += [f"  {name:<{width}}  [{expected}]  {happened}" for name, expected, happened in TABLE]
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("\n".join(lines))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_hostile_input(hostile_server, stand_ins, case: Case):
    server = hostile_server
    log_before = len(server.log())
    try:
        happened = await case.run(server.ws_url)
    except BaseException as e:
        TABLE.append((case.name, case.expected, f"FAILED: {e}"))
        raise
    TABLE.append((case.name, case.expected, happened))

    # Whatever the case did, it left nothing running and nothing broken ...
    assert server.wait_for_no_calls(timeout=20)["active_calls"] == 0
    new_log = server.log()[log_before:]
    assert "Traceback" not in new_log, new_log[-3000:]
    # ... and the next ordinary call works.
    report = await run_call(server.ws_url, [WaitForGreeting(timeout=15, quiet=0), Hangup()])
    assert report.ok, report.summary()


async def test_each_kind_of_bad_input_is_logged_once_per_call(hostile_server, stand_ins):
    """Drops are logged once per kind per call, never once per message (a flood drops
    thousands of messages in one call: one line)."""
    server = hostile_server
    log_before = len(server.log())
    for run in (binary_mid_call, invalid_base64, unknown_event, flood):
        await run(server.ws_url)
    assert server.wait_for_no_calls(timeout=20)["active_calls"] == 0
    log = server.log()[log_before:]
    flood_lines = log.count("Dropping caller audio arriving faster than real time")
    assert flood_lines == 1, f"{flood_lines} flood warnings: a flood must not flood the log"
    for kind in ("a binary frame", "a media payload that is not base64", "an unknown event"):
        assert f"Dropping {kind}" in log
