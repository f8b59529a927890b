"""Outbound calls: who the bot phoned and why, kept until that call's websocket arrives.

`/dialout` (or `python -m exotel_bot.outbound`) saves a `DialRecord` before asking Exotel to place
the call. When the flow's Voicebot applet opens the websocket, `match_dial()` finds the record
(by the `dial` custom parameter that `/exotel/voicebot-url` adds, else by Exotel's call sid, else
by the customer's number on either side of the call) and hands its context to the bot. The
store is the process's (`exotel_bot.stores`): memory by default, Redis with REDIS_URL, so a bot
on Pipecat Cloud or on another worker finds a dial placed elsewhere.
"""

from __future__ import annotations

import dataclasses
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from loguru import logger

from exotel_bot.logs import call_logging
from exotel_bot.settings import load_settings

if TYPE_CHECKING:  # only a type here: the CLI must not load pipecat to dial
    from exotel_bot.wire.handshake import ExotelCall

# How long after dialling a websocket can still be matched by number alone: ringing (Exotel's
# TimeOut) plus whatever the flow does before its Voicebot applet. A later call from the same
# number is treated as inbound.
MATCH_WINDOW_SECS = 300.0
# How long a record is kept at all (for its StatusCallback and GET /dialout/{call_sid}).
KEEP_SECS = 6 * 3600.0
MAX_RECORDS = 10_000

# The custom parameter /exotel/voicebot-url adds to the websocket URL: the dial's `ref`.
DIAL_PARAMETER = "dial"

# Exotel's terminal call statuses: a dial that ended can no longer be answered.
TERMINAL_STATUSES = {"completed", "failed", "busy", "no-answer", "canceled"}

NUMBER_HELP = (
    "expected an E.164 number like +919876543210, or an Indian number like 09876543210 "
    "or 9876543210"
)


def normalize_number(raw: str) -> str:
    """The number in E.164 (`+919876543210`), or ValueError saying what was expected.

    Accepts E.164 (spaces, dashes, dots and brackets allowed), `00` international prefixes,
    and Indian numbers the way people and Exotel write them: 10 digits, a `0` trunk prefix
    (`09876543210`, `08047491899`) or `91` without the plus.
    """
    text = str(raw).strip()
    compact = re.sub(r"[\s\-.()]", "", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.startswith("+"):
        digits = compact[1:]
        if not digits.isdigit() or not 8 <= len(digits) <= 15 or digits[0] == "0":
            raise ValueError(f"{text!r} is not a phone number: {NUMBER_HELP}")
        if digits.startswith("91") and (len(digits) != 12 or digits[2] == "0"):
            raise ValueError(f"{text!r} is not an Indian number (+91 and 10 digits)")
        return "+" + digits
    if not compact.isdigit():
        raise ValueError(f"{text!r} is not a phone number: {NUMBER_HELP}")
    if len(compact) == 11 and compact[0] == "0" and compact[1] != "0":
        return "+91" + compact[1:]
    if len(compact) == 10 and compact[0] in "6789":
        return "+91" + compact
    if len(compact) == 12 and compact.startswith("91") and compact[2] != "0":
        return "+" + compact
    raise ValueError(f"{text!r} is not a phone number: {NUMBER_HELP}")


def number_or_none(raw: str | None) -> str | None:
    """`normalize_number`, or None for anything that is not a number (e.g. an empty field)."""
    try:
        return normalize_number(raw) if raw else None
    except ValueError:
        return None


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
    # What became of it: person, voicemail, ivr, screening, silence (answer.py), or Exotel's
    # no-answer, busy, failed, canceled for a call nobody answered.
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


def dial_store() -> DialStore:
    """The store /dialout writes to and incoming calls are matched against (the process's
    `exotel_bot.stores.stores().dials`)."""
    from exotel_bot.stores import stores

    return stores().dials


def use_dial_store(store: DialStore) -> None:
    """Replace this process's dial store alone (a custom store; tests)."""
    from exotel_bot.stores import stores

    stores().dials = store


def wait_for_hello_default() -> bool:
    """OUTBOUND_WAIT_FOR_HELLO: outbound calls wait for the callee to speak before greeting."""
    return load_settings(require_keys=False).outbound_wait_for_hello


async def find_dial(
    call_sid: str, numbers: list[str], store: DialStore, ref: str = ""
) -> DialRecord | None:
    """The dial this websocket answers: by `ref` (the `dial` custom parameter), else by call
    sid, else the newest open dial to its number.

    Which of Exotel's `from`/`to` holds the customer on an outbound leg is not documented,
    so both are tried. A dial matched by number once is not matched by number again.
    """
    record = await store.by_ref(ref) if ref else None
    if record is not None:
        return record
    record = await store.by_call_sid(call_sid) if call_sid else None
    if record is not None:
        return record
    candidates = [r for n in numbers for r in await store.by_number(n)]
    open_dials = [r for r in candidates if r.connected_at is None and not r.ended]
    return max(open_dials, key=lambda r: r.created_at, default=None)


async def match_dial(call: ExotelCall, url_ref: str = "") -> ExotelCall:
    """The call with `direction`, `dial_context` and `wait_for_hello` filled in.

    `url_ref` is the `dial` query parameter of the websocket's own URL, for a Connect Voice AI
    StreamUrl whose query Exotel does not pass on as custom parameters (dialer.py).

    Outbound if a dial matches, or if the flow's Voicebot URL says `?direction=outbound`
    (for setups where the dialling process and the bot share no store). Never raises: a
    broken custom store is logged and the call goes on as inbound.
    """
    numbers = [n for n in map(number_or_none, (call.from_number, call.to_number)) if n]
    with call_logging(call.call_sid):
        try:
            ref = call.custom_parameters.get(DIAL_PARAMETER, "") or url_ref[:64]
            record = await find_dial(call.call_sid, numbers, dial_store(), ref)
        except Exception as e:
            logger.error(f"Could not look up this call's dial ({e.__class__.__name__}: {e})")
            record = None

        if record is not None:
            await _connected(record, call, ref)
            return dataclasses.replace(
                call,
                direction="outbound",
                dial_context=dict(record.context),
                wait_for_hello=record.wait_for_hello,
            )
        if call.custom_parameters.get("direction", "").lower() == "outbound":
            logger.info("Outbound call (direction=outbound in the Voicebot URL; no dial context)")
            return dataclasses.replace(
                call, direction="outbound", wait_for_hello=wait_for_hello_default()
            )
        return call


async def _connected(record: DialRecord, call: ExotelCall, ref: str) -> None:
    """Note that the dial's call reached the bot (so its number matches no other call)."""
    by_sid = call.call_sid in (record.call_sid, record.websocket_call_sid)
    by_ref = ref == record.ref
    how = "dial parameter" if by_ref else "call sid" if by_sid else "number"
    logger.info(
        f"Outbound call to {record.to} (matched by {how}; context: {sorted(record.context)})"
    )
    if record.call_sid and record.call_sid != call.call_sid:
        logger.info(f"The websocket's call sid is not the one Exotel dialled ({record.call_sid})")
    record.connected_at = record.connected_at or time.time()
    record.websocket_call_sid = call.call_sid
    try:
        await dial_store().save(record)
    except Exception as e:
        logger.error(f"Could not save this call's dial ({e.__class__.__name__}: {e})")
