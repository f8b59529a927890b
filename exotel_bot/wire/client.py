"""The websocket to Exotel, with a time limit on every write and a close that really closes.

A peer that stops reading its socket (a hung bridge, a dead network path that still holds the
TCP connection) makes every write wait: the kernel's buffers fill, then the server's, then
each `media`, `clear` or `mark` waits for room that never comes. Pipecat would end such a
call only after its own timeouts (10 s per audio write, 20 s to cancel a pipeline), and the
server would then keep the socket open for as long as its queue has bytes to flush.

`TimedWebsocketClient` gives every write `WRITE_LIMIT_SECS`. A write that takes longer
means the peer has stopped reading: the TCP connection is dropped at once, which ends the
call the way a caller hanging up does (the transport's `on_client_disconnected`), and frees
its slot. When the call ends while bytes are still waiting to go out, the connection is
dropped `CLOSE_GRACE_SECS` after the close if they have not gone by then.
"""

from __future__ import annotations

import asyncio

from loguru import logger
from pipecat.transports.websocket.fastapi import FastAPIWebsocketClient
from starlette.websockets import WebSocket, WebSocketState

# A write to a peer that reads takes microseconds (it lands in a buffer); one that waits this
# long has found every buffer full. Two seconds is about 40 KB of 8 kHz audio in flight
# beyond the kernel's and the server's buffers: far past any network hiccup Exotel's side
# rides out, and well inside the 5 s in which a stuck call must be let go.
WRITE_LIMIT_SECS = 2.0
# After the bot closes the websocket, how long unsent bytes may wait for a reader.
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
    transport.abort()
    return True


def unsent_bytes(websocket: WebSocket) -> int:
    """Bytes the server still holds for `websocket`, not yet taken by the kernel (0 when
    unknown)."""
    transport = _connection(websocket)
    return transport.get_write_buffer_size() if transport is not None else 0


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
        if self._dropped:
            return
        close_stuck = (
            self.is_closing and self._socket.application_state != WebSocketState.DISCONNECTED
        )
        if not (close_stuck or unsent_bytes(self._socket)):
            return
        logger.warning(
            f"Exotel's side read nothing for {CLOSE_GRACE_SECS:g} s after the call ended; "
            "dropping the connection"
        )
        self._dropped = drop_connection(self._socket)
