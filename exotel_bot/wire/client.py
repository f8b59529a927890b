"""The websocket to Exotel, with a time limit on every write and a close that really closes.

A peer that stops reading its socket (a hung bridge, a dead network path that still holds the
TCP connection) makes every write wait: the kernel's buffers fill, then the server's, then
each `media`, `clear` or `mark` waits for room that never comes. Pipecat would end such a
call only after its own timeouts (10 s per audio write, 20 s to cancel a pipeline), and the
server would then keep the socket open for as long as its queue has bytes to flush.

`TimedWebsocketClient` gives every write `WRITE_LIMIT_SECS`. A write that takes longer
means the peer has stopped reading: the TCP connection is dropped at once, which ends the
call the way a caller hanging up does (the transport's `on_client_disconnected`), and frees
its slot. When the call ends, Exotel's side has `CLOSE_GRACE_SECS` to answer the close (as
any websocket peer that reads does at once); if it has not, the connection is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct

from loguru import logger
from pipecat.transports.websocket.fastapi import FastAPIWebsocketClient
from starlette.websockets import WebSocket

# A write to a peer that reads returns at once (it lands in a buffer). With audio sent at real
# time a reading peer never lets the kernel's and the server's buffers fill, so a write that
# waits 2 s has met a peer that stopped reading: far past any network hiccup, and soon enough
# that the call and its slot are let go within 5 s.
WRITE_LIMIT_SECS = 2.0
# After the bot closes the websocket, how long Exotel's side has to answer the close.
CLOSE_GRACE_SECS = 2.0


def _connection(websocket: WebSocket):
    """The asyncio transport under `websocket`, when the ASGI server is uvicorn (as on your
    laptop and in Pipecat Cloud's base image); None for any other server."""
    for channel in (getattr(websocket, "_receive", None), getattr(websocket, "_send", None)):
        transport = getattr(getattr(channel, "__self__", None), "transport", None)
        if transport is not None and hasattr(transport, "abort"):
            return transport
    return None


def drop_connection(websocket: WebSocket) -> bool:
    """Drop the TCP connection under `websocket` now (no close handshake, nothing flushed).

    Returns False when the server's transport cannot be reached: the websocket is then left
    to the server's own close.
    """
    transport = _connection(websocket)
    if transport is None:
        return False
    _abort(transport)
    return True


def _abort(transport) -> None:
    """Close at once with a reset: without it the kernel would keep the socket and its unsent
    bytes after the close, for as long as the peer keeps its window shut."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class TimedWebsocketClient(FastAPIWebsocketClient):
    """Pipecat's websocket client with a time limit on each write (see the module doc)."""

    def __init__(
        self, websocket: WebSocket, *args, write_limit_secs: float = WRITE_LIMIT_SECS, **kwargs
    ):
        super().__init__(websocket, *args, **kwargs)
        self._socket = websocket
        self._write_limit_secs = write_limit_secs
        self._stalled = False
        self._dropped = False

    @property
    def stalled(self) -> bool:
        """A write hit the time limit: the peer stopped reading and the connection was dropped."""
        return self._stalled

    async def send(self, data: str | bytes):
        if self._stalled:
            return
        try:
            await asyncio.wait_for(super().send(data), self._write_limit_secs)
        except TimeoutError:
            self._stalled = True
            logger.warning(
                f"Exotel's side stopped reading: a write waited {self._write_limit_secs:g} s; "
                "dropping the connection and ending the call"
            )
            self._dropped = drop_connection(self._socket)
            if not self._dropped:
                logger.warning("Could not reach the server's socket to drop it")

    async def disconnect(self):
        await super().disconnect()
        # The close frame, or audio before it, may be stuck behind a peer that does not read.
        asyncio.get_running_loop().call_later(CLOSE_GRACE_SECS, self._drop_if_stuck)

    def _drop_if_stuck(self) -> None:
        """Drop the connection if Exotel's side never completed the close: it did not answer
        the close frame (so it reads nothing), or the server still holds bytes for it."""
        transport = _connection(self._socket)
        if self._dropped or transport is None:
            return
        if transport.is_closing() and not transport.get_write_buffer_size():
            return  # closed, or closing with nothing left to send
        logger.warning(
            f"Exotel's side read nothing for {CLOSE_GRACE_SECS:g} s after the call ended; "
            "dropping the connection"
        )
        _abort(transport)
        self._dropped = True
