"""Call a list: `python -m exotel_bot.outbound campaign contacts.csv`.

contacts.csv has a header row: `number` (required), `name`, `timezone` (IANA, e.g.
Asia/Kolkata) and any other columns; every column but number and timezone becomes the
call's context (what the bot's greeting and prompt see). Each call goes through the server's
POST /dialout (DIALOUT_TOKEN), which keeps the context for the bot; its outcome comes from
GET /dialout/{call_sid} once Exotel's StatusCallback has reported it.

- rate: at most `rate` Exotel requests in any `per` seconds (Exotel allows 200 a minute), a
  moving window (the `limits` library): a leaky bucket would allow twice that in a minute;
- concurrency: at most `concurrency` calls between dialling and their final status;
- calling hours in the callee's time zone (`timezone` column, else `--timezone`);
- retries: an outcome in `retry_on` (no-answer, busy) is dialled again after `retry_delay` s,
  at most `retries` more times;
- results: a CSV, one row per contact with outcome, attempts, duration, record path;
- state: in the store (`exotel_bot.stores.campaigns`): Redis with REDIS_URL, else a journal
  beside the results. A restart resumes; a claimed attempt is never dialled twice.
  `--stop` asks a running campaign to stop; run it again to resume.
"""

from __future__ import annotations

import asyncio
import csv
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import limits
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from loguru import logger

from exotel_bot.outbound.dials import TERMINAL_STATUSES, normalize_number
from exotel_bot.stores.campaigns import CampaignState

RESULT_COLUMNS = ["outcome", "status", "attempts", "call_sid", "duration_secs", "record_path"]
NUMBER_COLUMNS = ("number", "phone", "to")


@dataclass(frozen=True)
class Contact:
    number: str  # E.164, or "" for a row whose number is not one
    row: dict[str, str]
    timezone: str = ""

    @property
    def context(self) -> dict[str, str]:
        skip = {*NUMBER_COLUMNS, "timezone"}
        return {k: v for k, v in self.row.items() if k not in skip and v}


def read_contacts(path: str | os.PathLike) -> list[Contact]:
    """The CSV's rows as contacts; ValueError naming the problem when it has no number column."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        column = next((c for c in NUMBER_COLUMNS if c in columns), None)
        if column is None:
            raise ValueError(f"{path}: the header needs a 'number' column (got {columns})")
        contacts = []
        for raw in reader:
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
            try:
                number = normalize_number(row[column])
            except ValueError:
                number = ""
            contacts.append(Contact(number, row, row.get("timezone", "")))
    return contacts


@dataclass(frozen=True)
class CallingHours:
    start: clock_time
    end: clock_time

    @classmethod
    def parse(cls, text: str) -> CallingHours:
        """`09:00-21:00` (local time of the callee); ValueError otherwise."""
        try:
            start, end = (clock_time.fromisoformat(p.strip()) for p in text.split("-"))
        except ValueError:
            raise ValueError(f"calling hours {text!r} must look like 09:00-21:00") from None
        return cls(start, end)

    def next_open(self, now: datetime, zone: ZoneInfo) -> datetime:
        """`now` if the callee's clock is within the hours, else when they next open (UTC-aware)."""
        local = now.astimezone(zone)
        if self.start <= local.time() < self.end:
            return now
        opens = local.replace(
            hour=self.start.hour, minute=self.start.minute, second=0, microsecond=0
        )
        if local.time() >= self.end:
            opens += timedelta(days=1)
        return opens


@dataclass
class CampaignOptions:
    rate: int = 200  # Exotel requests ...
    per: float = 60.0  # ... in any window of this many seconds
    concurrency: int = 10
    retries: int = 2
    retry_delay: float = 600.0
    retry_on: tuple[str, ...] = ("no-answer", "busy")
    hours: CallingHours = field(default_factory=lambda: CallingHours.parse("09:00-21:00"))
    timezone: str = "Asia/Kolkata"
    poll: float = 2.0  # seconds between outcome checks
    call_timeout: float = 1800.0  # no final status by then: outcome "unknown"
    exit_when_waiting: bool = False  # stop once only contacts outside their hours remain


class Dialer(Protocol):
    async def dial(self, number: str, context: dict[str, str]) -> str:
        """Place one call; its call sid. Raises DialRejected or DialUnavailable."""

    async def outcome(self, call_sid: str) -> dict[str, Any] | None:
        """The dial's record (status, outcome, duration_secs, record_path), if known."""


class DialRejected(Exception):
    """This contact cannot be dialled (a bad number, a refused request): not retried."""


class DialUnavailable(Exception):
    """Dialling failed for now (rate limit, outage): the contact is tried again later."""


class Campaign:
    """Runs one campaign to the end (or to a stop); `run()` returns the outcome counts."""

    def __init__(
        self,
        contacts: list[Contact],
        state: CampaignState,
        dialer: Dialer,
        results: str | os.PathLike,
        options: CampaignOptions,
    ):
        self.contacts = {c.number or f"invalid:{i}": c for i, c in enumerate(contacts)}
        self.state, self.dialer, self.options = state, dialer, options
        self.results = Path(results)
        self.entries: dict[str, dict[str, Any]] = {}
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._limit = limits.RateLimitItemPerSecond(options.rate, max(1, round(options.per)))

    async def run(self) -> dict[str, int]:
        await self.state.resume()
        saved = await self.state.entries()
        for key, contact in self.contacts.items():
            entry = saved.get(key) or {"status": "pending", "attempts": 0, "next_at": 0.0}
            if not contact.number:
                entry |= {"status": "done", "outcome": "invalid-number"}
            elif entry["status"] == "claimed":  # killed between the claim and Exotel's answer
                entry |= {"status": "done", "outcome": "unknown"}
                await self.state.save(key, entry)
            self.entries[key] = entry
        checked_stop = 0.0
        while True:
            now = time.time()
            if now - checked_stop >= 1.0:
                checked_stop = now
                if await self.state.stopping():
                    logger.info("Campaign stopped; run it again to resume")
                    break
            await self._check_calls(now)
            await self._start_calls()
            if self._finished():
                break
            await asyncio.sleep(self.options.poll)
        self.write_results()
        counts: dict[str, int] = {}
        for entry in self.entries.values():
            key = entry.get("outcome") or entry["status"]
            counts[key] = counts.get(key, 0) + 1
        return counts

    def _finished(self) -> bool:
        left = [e for e in self.entries.values() if e["status"] != "done"]
        if not left:
            return True
        waiting = all(e["status"] == "pending" and e.get("outside_hours") for e in left)
        return self.options.exit_when_waiting and waiting

    async def _check_calls(self, now: float) -> None:
        for key, entry in self.entries.items():
            if entry["status"] != "calling":
                continue
            try:
                record = await self.dialer.outcome(entry["call_sid"])
            except DialUnavailable:
                record = None
            if record and record.get("status") in TERMINAL_STATUSES:
                await self._finish(key, entry, record)
            elif now - entry["dialled_at"] > self.options.call_timeout:
                await self._finish(key, entry, {"outcome": "unknown"})

    async def _finish(self, key: str, entry: dict[str, Any], record: dict[str, Any]) -> None:
        outcome = record.get("outcome") or record.get("status") or "unknown"
        entry |= {
            "outcome": outcome,
            "call_status": record.get("status", ""),
            "duration_secs": record.get("duration_secs"),
            "record_path": record.get("record_path", ""),
        }
        retry = outcome in self.options.retry_on and entry["attempts"] <= self.options.retries
        if retry:
            entry |= {"status": "pending", "next_at": time.time() + self.options.retry_delay}
        else:
            entry["status"] = "done"
        await self.state.save(key, entry)
        logger.info(
            f"{key}: {outcome} (attempt {entry['attempts']}{', retrying' if retry else ''})"
        )
        self.write_results()

    async def _start_calls(self) -> None:
        active = sum(e["status"] == "calling" for e in self.entries.values())
        for key, entry in self.entries.items():
            if active >= self.options.concurrency:
                return
            if entry["status"] != "pending" or entry["next_at"] > time.time():
                continue
            contact = self.contacts[key]
            zone = ZoneInfo(contact.timezone or self.options.timezone)
            now = datetime.now(zone)
            opens = self.options.hours.next_open(now, zone)
            entry["outside_hours"] = opens > now
            if opens > now:
                entry["next_at"] = opens.timestamp()
                continue
            await self._wait_for_rate()
            if await self._dial(key, entry, contact):
                active += 1

    async def _wait_for_rate(self) -> None:
        while not await self._limiter.hit(self._limit, "exotel-api"):
            stats = await self._limiter.get_window_stats(self._limit, "exotel-api")
            await asyncio.sleep(max(0.01, stats.reset_time - time.time()))

    async def _dial(self, key: str, entry: dict[str, Any], contact: Contact) -> bool:
        attempt = entry["attempts"] + 1
        entry["attempts"] = attempt
        if not await self.state.claim(key, attempt):  # dialled before a restart
            entry |= {"status": "done", "outcome": "unknown"}
            await self.state.save(key, entry)
            return False
        entry["status"] = "claimed"
        await self.state.save(key, entry)
        try:
            call_sid = await self.dialer.dial(contact.number, contact.context)
        except DialRejected as e:
            entry |= {"status": "done", "outcome": "rejected", "error": str(e)[:200]}
            await self.state.save(key, entry)
            return False
        except DialUnavailable as e:
            logger.warning(f"{key}: not dialled now ({e}); trying again later")
            entry |= {"status": "pending", "next_at": time.time() + self.options.retry_delay}
            await self.state.save(key, entry)
            return False
        entry |= {"status": "calling", "call_sid": call_sid, "dialled_at": time.time()}
        await self.state.save(key, entry)
        return True

    def write_results(self) -> None:
        """The results CSV: the contact's columns, then outcome, attempts, duration, record."""
        columns = list(dict.fromkeys(k for c in self.contacts.values() for k in c.row))
        temp = self.results.with_name(f".{self.results.name}.tmp")
        with temp.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(columns + RESULT_COLUMNS)
            for key, contact in self.contacts.items():
                entry = self.entries.get(key, {})
                outcome = entry.get("outcome", "")
                if entry.get("status") == "pending" and entry.get("outside_hours"):
                    outcome = outcome or "waiting: calling hours"
                writer.writerow(
                    [contact.row.get(c, "") for c in columns]
                    + [outcome, entry.get("status", "pending"), entry.get("attempts", 0)]
                    + [entry.get("call_sid", ""), entry.get("duration_secs") or ""]
                    + [entry.get("record_path", "")]
                )
        os.replace(temp, self.results)
