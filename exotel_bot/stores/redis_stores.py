"""The shared stores: Redis (REDIS_URL), through redis-py's asyncio client, one pool a process.

Keys (every one expires; `REDIS_KEY_PREFIX`, default `exotel-bot:`, comes first):

    dial:{dial_id}          the DialRecord as JSON                   6 h (KEEP_SECS)
    dial-sid:{call_sid}     -> dial_id (Exotel's and the websocket's sid)   6 h
    dial-ref:{ref}          -> dial_id (the voicebot-url `dial` parameter)  6 h
    dial-number:{e164}      sorted set of dial_ids by creation time   6 h
    transfer:{call_sid}     the Passthru decision ("transfer")       1 h
    calls                   sorted set: worker/session -> lease expiry (ms, Redis's clock)
    workers                 sorted set: worker -> lease expiry; sizes the default cap

The call slots (`calls`, `workers`) are leases this process renews: see `redis_slots.py`.
Every Redis error becomes `StoreUnavailable`, whose message names the server (not its password).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import time
import uuid

import redis.asyncio as redis
from loguru import logger
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from exotel_bot.settings import Settings
from exotel_bot.stores import Stores, StoreUnavailable, redis_slots
from exotel_bot.stores.dials import KEEP_SECS, MATCH_WINDOW_SECS, DialRecord
from exotel_bot.stores.memory import TRANSFER_KEEP_SECS
from exotel_bot.stores.redis_keys import RedisKeys
from exotel_bot.stores.redis_slots import RedisSlots

# A call must not wait long on a Redis that has gone away: short timeouts, one quick retry.
TIMEOUT_SECS = 1.0


class RedisDialStore(RedisKeys):
    """DialStore over Redis: one JSON value per dial, indexes by sid, ref and number."""

    keep = KEEP_SECS
    match_window = MATCH_WINDOW_SECS

    async def save(self, record: DialRecord) -> None:
        ttl = int(self.keep)
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.set(
                    self.key("dial", record.dial_id), json.dumps(dataclasses.asdict(record)), ex=ttl
                )
                pipe.set(self.key("dial-ref", record.ref), record.dial_id, ex=ttl)
                for sid in {record.call_sid, record.websocket_call_sid} - {""}:
                    pipe.set(self.key("dial-sid", sid), record.dial_id, ex=ttl)
                by_number = self.key("dial-number", record.to)
                pipe.zadd(by_number, {record.dial_id: record.created_at})
                pipe.zremrangebyscore(by_number, "-inf", time.time() - self.keep)
                pipe.expire(by_number, ttl)
                await pipe.execute()
        except RedisError as e:
            raise self.unavailable(e) from None

    async def _load(self, dial_id: str | None) -> DialRecord | None:
        if not dial_id:
            return None
        raw = await self.client.get(self.key("dial", dial_id))
        return _record(raw)

    async def by_call_sid(self, call_sid: str) -> DialRecord | None:
        try:
            return await self._load(await self.client.get(self.key("dial-sid", call_sid)))
        except RedisError as e:
            raise self.unavailable(e) from None

    async def by_ref(self, ref: str) -> DialRecord | None:
        try:
            return await self._load(await self.client.get(self.key("dial-ref", ref)))
        except RedisError as e:
            raise self.unavailable(e) from None

    async def by_number(self, number: str) -> list[DialRecord]:
        since = time.time() - self.match_window
        try:
            ids = await self.client.zrangebyscore(self.key("dial-number", number), since, "+inf")
            raws = await self.client.mget([self.key("dial", i) for i in ids]) if ids else []
        except RedisError as e:
            raise self.unavailable(e) from None
        records = [_record(raw) for raw in raws]
        return [r for r in records if r is not None and r.created_at >= since]


def _record(raw: str | None) -> DialRecord | None:
    """A DialRecord from its JSON; None for a value this version cannot read."""
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        known = {f.name for f in dataclasses.fields(DialRecord)}
        return DialRecord(**{k: v for k, v in data.items() if k in known})
    except (ValueError, TypeError) as e:
        logger.warning(f"Ignoring a dial record Redis holds that is not readable: {e}")
        return None


class RedisTransfers(RedisKeys):
    """Transfer decisions, one key per call sid, kept an hour."""

    async def set(self, call_sid: str, decision: str) -> None:
        try:
            await self.client.set(
                self.key("transfer", call_sid), decision, ex=int(TRANSFER_KEEP_SECS)
            )
        except RedisError as e:
            raise self.unavailable(e) from None

    async def get(self, call_sid: str) -> str | None:
        try:
            return await self.client.get(self.key("transfer", call_sid))
        except RedisError as e:
            raise self.unavailable(e) from None


@dataclasses.dataclass
class RedisStores(Stores):
    """The Redis stores of one process: one client (one connection pool) for all of them."""

    client: redis.Redis | None = None
    _upkeep: asyncio.Task | None = None
    _down_since: float | None = None

    async def check(self) -> None:
        try:
            await self.client.ping()
        except RedisError as e:
            raise self.slots.unavailable(e) from None

    async def start(self) -> None:
        await self._renew_once()
        self._upkeep = asyncio.create_task(self._renew_forever(), name="redis-call-leases")

    async def _renew_once(self) -> None:
        try:
            await self.slots.renew()
        except StoreUnavailable as e:
            if self._down_since is None:
                self._down_since = time.monotonic()
                logger.error(f"Cannot renew call leases ({e}); calls go on, retrying")
            return
        if self._down_since is not None:
            down = time.monotonic() - self._down_since
            logger.info(f"Redis is back after {down:.1f} s; call leases renewed")
            self._down_since = None

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(redis_slots.LEASE_SECS / 3)
            await self._renew_once()

    async def close(self) -> None:
        if self._upkeep is not None:
            self._upkeep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._upkeep
        with contextlib.suppress(RedisError, OSError):
            await self.client.aclose()


def redis_stores(settings: Settings, *, takes_calls: bool = True) -> RedisStores:
    """Stores over the REDIS_URL server, keys under REDIS_KEY_PREFIX. No I/O until used."""
    url = str(settings.redis_url)
    client = redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=TIMEOUT_SECS,
        socket_connect_timeout=TIMEOUT_SECS,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), retries=1),
        health_check_interval=10,
    )
    prefix = settings.redis_key_prefix
    worker = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:6]}" if takes_calls else ""
    slots = RedisSlots(
        client,
        prefix,
        url,
        limit=settings.max_concurrent_calls,
        per_worker=settings.calls_per_worker,
        worker=worker,
    )
    return RedisStores(
        "redis",
        RedisDialStore(client, prefix, url),
        RedisTransfers(client, prefix, url),
        slots,
        client=client,
    )
