"""Exotel-side peers that misbehave at the websocket level, for tests and the soak script.

- `DeafPeer` never answers a websocket ping (Exotel documents no ping/pong behaviour): a
  server that closes connections whose pings go unanswered drops its calls.
- `stalled_reader()` opens a websocket whose socket has a tiny receive buffer and then never
  reads: what the server writes piles up in the kernel's queues until its writes block.

Both speak just enough of Exotel's Voicebot protocol (`connected`, `start`, `media`, `stop`)
to hold a call open.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
import uuid
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.client import ClientProtocol
from websockets.frames import Close, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

RATE = 8000
CHUNK_SECS = 0.1
SILENCE_PAYLOAD = base64.b64encode(bytes(int(RATE * 2 * CHUNK_SECS))).decode()


def start_messages(stream_sid: str, call_sid: str) -> list[dict]:
    """Exotel's `connected` and `start` for an 8 kHz L16 call."""
    start = {
        "stream_sid": stream_sid,
        "call_sid": call_sid,
        "account_sid": "ACpeer",
        "from": "+919876543210",
        "to": "+918047491899",
        "custom_parameters": {},
        "media_format": {"encoding": "audio/x-raw", "sample_rate": str(RATE), "bit_rate": "16"},
    }
    return [
        {"event": "connected"},
        {"event": "start", "sequence_number": "1", "stream_sid": stream_sid, "start": start},
    ]


def media_message(stream_sid: str, sequence: int) -> dict:
    media = {"chunk": str(sequence), "timestamp": str(sequence * 100), "payload": SILENCE_PAYLOAD}
    return {
        "event": "media",
        "sequence_number": str(sequence),
        "stream_sid": stream_sid,
        "media": media,
    }


class DeafPeer:
    """A websocket client that never answers pings, built on websockets' sans-I/O protocol
    (its own connection classes answer every ping by themselves).

    `pings` counts the pings received; `closed` is set when the server ends the connection
    (`close_code` then holds its code, or 1006 for a dropped TCP connection).
    """

    def __init__(self, url: str):
        self.url = url
        self.pings = 0
        self.messages = 0
        self.close_code: int | None = None
        self.closed = asyncio.Event()
        self._protocol = ClientProtocol(parse_uri(url))
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task | None = None
        self.stream_sid = f"MZ{uuid.uuid4().hex}"
        self.call_sid = uuid.uuid4().hex
        self._sequence = 1

    async def open(self, timeout: float = 10) -> DeafPeer:
        parts = urlsplit(self.url)
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, parts.port), timeout
        )
        self._protocol.send_request(self._protocol.connect())
        self._flush()
        while not isinstance(response := await self._next_event(timeout), Response):
            pass
        if response.status_code != 101:
            raise ConnectionError(f"websocket refused with HTTP {response.status_code}")
        self._task = asyncio.create_task(self._read())
        return self

    async def _next_event(self, timeout: float):
        while True:
            events = self._protocol.events_received()
            if events:
                return events[0]
            data = await asyncio.wait_for(self._reader.read(65536), timeout)
            if not data:
                raise ConnectionError("closed during the handshake")
            self._protocol.receive_data(data)

    def _flush(self) -> None:
        self._writer.write(b"".join(self._protocol.data_to_send()))

    async def _read(self) -> None:
        try:
            while data := await self._reader.read(65536):
                self._protocol.receive_data(data)
                for event in self._protocol.events_received():
                    if event.opcode is Opcode.PING:
                        self.pings += 1
                    elif event.opcode is Opcode.CLOSE:
                        self.close_code = Close.parse(event.data).code
                    else:
                        self.messages += 1
                # Whatever the protocol queued in answer (pongs, a close) is never sent.
                self._protocol.data_to_send()
        except ConnectionError:
            pass
        finally:
            if self.close_code is None:
                self.close_code = 1006
            self.closed.set()

    async def send(self, message: dict) -> None:
        if self.closed.is_set() or self._protocol.state is not State.OPEN:
            raise ConnectionError(f"closed ({self.close_code})")
        self._protocol.send_text(json.dumps(message).encode())
        self._flush()
        await self._writer.drain()

    async def start_call(self) -> None:
        for message in start_messages(self.stream_sid, self.call_sid):
            await self.send(message)

    async def stream_silence(self, seconds: float) -> bool:
        """Send silence in real time for `seconds`; False if the server closed meanwhile."""
        loop = asyncio.get_running_loop()
        begin = loop.time()
        chunks = round(seconds / CHUNK_SECS)
        for index in range(chunks):
            self._sequence += 1
            try:
                await self.send(media_message(self.stream_sid, self._sequence))
            except ConnectionError:
                return False
            await asyncio.sleep(max(0.0, begin + (index + 1) * CHUNK_SECS - loop.time()))
        return not self.closed.is_set()

    async def hang_up(self) -> None:
        with contextlib.suppress(ConnectionError):
            stop = {"call_sid": self.call_sid, "account_sid": "ACpeer", "reason": "callended"}
            await self.send({"event": "stop", "stream_sid": self.stream_sid, "stop": stop})

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()


async def stalled_reader(url: str, receive_buffer: int = 4096) -> ClientConnection:
    """A websocket to `url` whose socket has a `receive_buffer`-byte kernel buffer and whose
    connection stops reading after the handshake (websockets then pauses the transport once
    a message is waiting, and the kernel's queue fills)."""
    parts = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (parts.hostname, parts.port))
    return await connect(url, sock=sock, compression=None, max_queue=1, max_size=None)
