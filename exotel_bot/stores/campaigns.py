"""Where a campaign keeps its progress, so a restart calls nobody twice.

Each contact has one entry (JSON): its status, attempts, call sid, outcome and when it may be
dialled next. Before each dial the runner *claims* that attempt (`claim(number, attempt)`),
atomically and once: a claimed attempt is never dialled again, even by a runner that was
killed between the claim and Exotel's answer (that attempt's outcome is then "unknown").
`stop()` asks a running campaign to stop (it is resumed by running it again).

- `RedisCampaignState` (REDIS_URL): a hash of entries, a hash of claims (HSETNX), a stop key;
  keys `campaign:{id}:...` under REDIS_KEY_PREFIX, kept 30 days.
- `FileCampaignState`: an append-only JSON-lines journal beside the results file, each line
  flushed and fsync'd before the dial it allows; replayed on start.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Protocol

from redis.exceptions import RedisError

from exotel_bot.stores.redis_keys import RedisKeys

KEEP_SECS = 30 * 24 * 3600


class CampaignState(Protocol):
    async def entries(self) -> dict[str, dict[str, Any]]:
        """Every contact's entry, by number."""

    async def save(self, number: str, entry: dict[str, Any]) -> None:
        """Replace one contact's entry."""

    async def claim(self, number: str, attempt: int) -> bool:
        """True once per (number, attempt), ever: the right to dial that attempt."""

    async def stop(self) -> None:
        """Ask the running campaign to stop dialling."""

    async def stopping(self) -> bool:
        """Has a stop been asked for?"""

    async def resume(self) -> None:
        """Clear a stop request (a new run of the campaign)."""


class RedisCampaignState(RedisKeys):
    """Campaign progress in Redis; raises `StoreUnavailable` when Redis is down."""

    def __init__(self, client, prefix: str, url: str, campaign: str):
        super().__init__(client, prefix, url)
        self.campaign = campaign

    def _key(self, part: str) -> str:
        return self.key("campaign", self.campaign, part)

    async def _run(self, coroutine):
        try:
            return await coroutine
        except RedisError as e:
            raise self.unavailable(e) from None

    async def entries(self) -> dict[str, dict[str, Any]]:
        raw = await self._run(self.client.hgetall(self._key("contacts")))
        return {number: json.loads(value) for number, value in raw.items()}

    async def save(self, number: str, entry: dict[str, Any]) -> None:
        key = self._key("contacts")
        await self._run(self.client.hset(key, number, json.dumps(entry)))
        await self._run(self.client.expire(key, KEEP_SECS))

    async def claim(self, number: str, attempt: int) -> bool:
        key = self._key("claims")
        claimed = await self._run(self.client.hsetnx(key, f"{number}#{attempt}", 1))
        await self._run(self.client.expire(key, KEEP_SECS))
        return bool(claimed)

    async def stop(self) -> None:
        await self._run(self.client.set(self._key("stop"), 1, ex=KEEP_SECS))

    async def stopping(self) -> bool:
        return bool(await self._run(self.client.exists(self._key("stop"))))

    async def resume(self) -> None:
        await self._run(self.client.delete(self._key("stop")))


class FileCampaignState:
    """Campaign progress in a JSON-lines journal (one process runs the campaign at a time)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._entries: dict[str, dict[str, Any]] = {}
        self._claims: set[str] = set()
        self._stop = False
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    self._replay(json.loads(line))
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by a kill: its write never completed

    def _replay(self, item: dict[str, Any]) -> None:
        if "claim" in item:
            self._claims.add(item["claim"])
        elif "stop" in item:
            self._stop = bool(item["stop"])
        else:
            self._entries[item["number"]] = item["entry"]

    def _append(self, item: dict[str, Any]) -> None:
        with self.path.open("a") as journal:
            journal.write(json.dumps(item, ensure_ascii=False) + "\n")
            journal.flush()
            os.fsync(journal.fileno())
        self._replay(item)

    async def entries(self) -> dict[str, dict[str, Any]]:
        return {number: dict(entry) for number, entry in self._entries.items()}

    async def save(self, number: str, entry: dict[str, Any]) -> None:
        self._append({"number": number, "entry": entry})

    async def claim(self, number: str, attempt: int) -> bool:
        key = f"{number}#{attempt}"
        if key in self._claims:
            return False
        self._append({"claim": key})
        return True

    async def stop(self) -> None:
        self._append({"stop": True})

    async def stopping(self) -> bool:
        if self.path.exists():  # another process may have asked
            self.__init__(self.path)
        return self._stop

    async def resume(self) -> None:
        self._append({"stop": False})
