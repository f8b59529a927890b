"""The default stores: this process's memory. Enough for one `server.py` (one worker), which
runs the bot, `/dialout` and the Passthru endpoint itself; nothing is shared with another
process, and everything is lost on restart."""

from __future__ import annotations

import time

from exotel_bot.settings import Settings
from exotel_bot.stores import Slot, Stores
from exotel_bot.stores.dials import MemoryDialStore

TRANSFER_KEEP_SECS = 3600.0


class MemoryTransfers:
    """Transfer decisions kept in this process for an hour."""

    def __init__(self, ttl_secs: float = TRANSFER_KEEP_SECS):
        self._ttl = ttl_secs
        self._items: dict[str, tuple[float, str]] = {}

    async def set(self, call_sid: str, decision: str) -> None:
        now = time.monotonic()
        self._items = {k: v for k, v in self._items.items() if v[0] > now}
        self._items[call_sid] = (now + self._ttl, decision)

    async def get(self, call_sid: str) -> str | None:
        expires, decision = self._items.get(call_sid, (0.0, None))
        return decision if expires > time.monotonic() else None


class MemorySlots:
    """Running calls of this process, capped at `limit` (0 = no cap)."""

    def __init__(self, limit: int):
        self.limit = limit
        self._sessions: set[str] = set()

    async def acquire(self, session_id: str) -> Slot:
        # No await between the check and the add: the cap cannot be overshot.
        if self.limit and len(self._sessions) >= self.limit:
            return Slot(False, len(self._sessions), self.limit)
        self._sessions.add(session_id)
        return Slot(True, len(self._sessions), self.limit)

    async def release(self, session_id: str) -> None:
        self._sessions.discard(session_id)

    async def running(self) -> int:
        return len(self._sessions)

    def local(self) -> int:
        return len(self._sessions)


def memory_stores(settings: Settings) -> Stores:
    """In-memory stores; the cap is MAX_CONCURRENT_CALLS, else one worker's capacity."""
    limit = settings.max_concurrent_calls
    if limit is None:
        limit = settings.calls_per_worker
    return Stores("memory", MemoryDialStore(), MemoryTransfers(), MemorySlots(limit))
