"""What every websocket stand-in keeps: a record per connection and every message received.

Tests read these from another thread while the stand-in's loop writes them, so every access
goes through one lock, and readers get copies of the lists (the records themselves are live).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from aiohttp import web

from .config import StandInConfig

Record = TypeVar("Record")


class ConnectionRecords(Generic[Record]):
    """Connection records (any type), received messages, and the open sockets to close."""

    def __init__(self, config: StandInConfig):
        self.config = config
        self._lock = threading.Lock()
        self._connections: list[Record] = []
        self._requests: list[dict[str, Any]] = []
        self._sockets: set[web.WebSocketResponse] = set()

    @property
    def connections(self) -> list[Record]:
        """Connection records, most recent last (a copy of the list, live records)."""
        with self._lock:
            return list(self._connections)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every message received, oldest first, each with its ``connection`` index and
        ``received_at`` (time.time())."""
        with self._lock:
            return list(self._requests)

    def add_connection(self, make: Callable[[int], Record]) -> tuple[int, Record]:
        """Keep `make(index)` as the next connection's record; returns (index, record)."""
        with self._lock:
            index = len(self._connections)
            record = make(index)
            self._connections.append(record)
            return index, record

    def record_request(self, connection: int, data: dict[str, Any]) -> None:
        with self._lock:
            self._requests.append({"connection": connection, "received_at": time.time(), **data})

    def reset(self) -> None:
        with self._lock:
            self._connections.clear()
            self._requests.clear()

    async def close_all(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001)
