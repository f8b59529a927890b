"""Dial records (who the bot phoned and why) and the stores that keep them.

A `DialRecord` is saved by `/dialout` before Exotel is asked to place the call and read back
when that call's websocket arrives (outbound/dials.py, `match_dial()`). `MemoryDialStore` keeps
them in this process; `RedisDialStore` (stores/redis_stores.py) with REDIS_URL.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

# How long after dialling a websocket can still be matched by number alone: ringing (Exotel's
# TimeOut) plus whatever the flow does before its Voicebot applet. A later call from the same
# number is treated as inbound.
MATCH_WINDOW_SECS = 300.0
# How long a record is kept at all (for its StatusCallback and GET /dialout/{call_sid}).
KEEP_SECS = 6 * 3600.0
MAX_RECORDS = 10_000

# Exotel's terminal call statuses: a dial that ended can no longer be answered.
TERMINAL_STATUSES = {"completed", "failed", "busy", "no-answer", "canceled"}


@dataclass
class DialRecord:
    """One call the bot was asked to place, and what became of it."""

    to: str  # the customer, E.164
    context: dict[str, Any] = field(default_factory=dict)
    wait_for_hello: bool = False
    dial_id: str = field(default_factory=lambda: uuid.uuid4().hex)  # secret: signs callbacks
    # Public: the `dial` custom parameter /exotel/voicebot-url puts in the websocket URL.
    ref: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    created_at: float = field(default_factory=time.time)
    call_sid: str = ""  # Exotel's Sid, once Calls/connect has answered
    websocket_call_sid: str = ""  # the call sid the websocket's `start` carried
    connected_at: float | None = None  # when the bot's websocket for this call arrived
    status: str = "dialing"  # then Exotel's: completed, busy, no-answer, failed, ...
    recording_url: str = ""
    status_events: list[dict[str, str]] = field(default_factory=list)
    # What became of it: person, voicemail, ivr, screening, silence (outbound/answer.py), or
    # Exotel's no-answer, busy, failed, canceled for a call nobody answered.
    outcome: str = ""
    duration_secs: float | None = None  # Exotel's ConversationDuration, once terminal
    record_path: str = ""  # the call record's file, where this process wrote one

    @property
    def ended(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def public(self) -> dict[str, Any]:
        """The record as JSON for the API (the dial id stays private: it signs status posts)."""
        data = dataclasses.asdict(self)
        data.pop("dial_id")
        return data


class DialStore(Protocol):
    """Where dial records live between /dialout and the call's websocket.

    `MemoryDialStore` below, and `RedisDialStore` (exotel_bot/stores/redis_stores.py) with
    REDIS_URL. Methods raise `exotel_bot.stores.StoreUnavailable` when the store is down.
    """

    async def save(self, record: DialRecord) -> None:
        """Insert or replace the record (keyed by `dial_id`)."""

    async def by_call_sid(self, call_sid: str) -> DialRecord | None:
        """The record whose `call_sid` or `websocket_call_sid` is this, if any."""

    async def by_number(self, number: str) -> list[DialRecord]:
        """Records dialled to this E.164 number in the last MATCH_WINDOW_SECS."""

    async def by_ref(self, ref: str) -> DialRecord | None:
        """The record whose public `ref` is this, if any."""


class MemoryDialStore:
    """Dial records in this process's memory, indexed by call sid and number, kept `keep` s."""

    def __init__(
        self,
        keep: float = KEEP_SECS,
        match_window: float = MATCH_WINDOW_SECS,
        max_records: int = MAX_RECORDS,
    ):
        self.keep = keep
        self.match_window = match_window
        self.max_records = max_records
        self._records: dict[str, DialRecord] = {}  # by dial_id, oldest first
        self._by_sid: dict[str, str] = {}  # Exotel's or the websocket's call sid -> dial_id
        self._by_number: dict[str, list[str]] = {}  # E.164 -> dial_ids
        self._by_ref: dict[str, str] = {}  # public ref -> dial_id

    def _prune(self) -> None:
        """Forget the oldest records while they are too old or too many (cheap: oldest first)."""
        cutoff = time.time() - self.keep
        while self._records:
            oldest = next(iter(self._records.values()))
            if oldest.created_at >= cutoff and len(self._records) <= self.max_records:
                return
            self._forget(oldest)

    def _forget(self, record: DialRecord) -> None:
        del self._records[record.dial_id]
        self._by_ref.pop(record.ref, None)
        for sid in (record.call_sid, record.websocket_call_sid):
            if self._by_sid.get(sid) == record.dial_id:
                del self._by_sid[sid]
        same_number = self._by_number.get(record.to, [])
        if record.dial_id in same_number:
            same_number.remove(record.dial_id)
        if not same_number:
            self._by_number.pop(record.to, None)

    async def save(self, record: DialRecord) -> None:
        self._records[record.dial_id] = record
        self._by_ref[record.ref] = record.dial_id
        for sid in (record.call_sid, record.websocket_call_sid):
            if sid:
                self._by_sid[sid] = record.dial_id
        same_number = self._by_number.setdefault(record.to, [])
        if record.dial_id not in same_number:
            same_number.append(record.dial_id)
        self._prune()

    async def by_call_sid(self, call_sid: str) -> DialRecord | None:
        dial_id = self._by_sid.get(call_sid) if call_sid else None
        return self._records.get(dial_id) if dial_id else None

    async def by_number(self, number: str) -> list[DialRecord]:
        since = time.time() - self.match_window
        records = (self._records.get(dial_id) for dial_id in self._by_number.get(number, ()))
        return [r for r in records if r is not None and r.created_at >= since]

    async def by_ref(self, ref: str) -> DialRecord | None:
        dial_id = self._by_ref.get(ref) if ref else None
        return self._records.get(dial_id) if dial_id else None
