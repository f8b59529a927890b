"""The call cap across workers, in Redis: each running call is a lease in one sorted set.

    calls      sorted set: worker/session -> lease expiry (ms, Redis's clock)
    workers    sorted set: worker -> lease expiry; the default cap is CALLS_PER_WORKER x these

A call's slot is a lease its worker renews every LEASE_SECS / 3: a worker that crashes stops
renewing and its slots free themselves within LEASE_SECS. Renewal re-adds what a restarted
Redis lost, so the count heals by itself. Checking the count and taking a slot is one Lua
script, so two workers can never both take the last slot.
"""

from __future__ import annotations

from loguru import logger
from redis.exceptions import RedisError

from exotel_bot.stores import Slot
from exotel_bot.stores.redis_keys import RedisKeys

LEASE_SECS = 15.0  # a crashed worker's calls leave the count within this
# KEYS: calls, workers. ARGV: member, worker, lease_ms, limit (-1: per_worker x workers),
# per_worker. Returns {admitted 0/1, running, limit}.
ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], now + lease, ARGV[2])
redis.call('PEXPIRE', KEYS[2], lease * 2)
local limit = tonumber(ARGV[4])
if limit < 0 then limit = tonumber(ARGV[5]) * redis.call('ZCARD', KEYS[2]) end
local running = redis.call('ZCARD', KEYS[1])
if limit > 0 and running >= limit then return {0, running, limit} end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease * 2)
return {1, running + 1, limit}
"""

# KEYS: calls, workers. ARGV: lease_ms, worker or "" (not a call worker), members...
RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
if ARGV[2] ~= '' then
  redis.call('ZADD', KEYS[2], now + lease, ARGV[2])
  redis.call('PEXPIRE', KEYS[2], lease * 2)
end
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], now + lease, ARGV[i]) end
if #ARGV >= 3 then redis.call('PEXPIRE', KEYS[1], lease * 2) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
"""


class RedisSlots(RedisKeys):
    """Call slots across every worker: leases in a sorted set, taken by one Lua script."""

    def __init__(self, client, prefix, url, *, limit: int | None, per_worker: int, worker: str):
        super().__init__(client, prefix, url)
        self.limit = limit  # None: per_worker x live workers
        self.per_worker = per_worker
        self.worker = worker  # "" for a process that takes no calls
        self._sessions: set[str] = set()
        self._acquire = client.register_script(ACQUIRE)
        self._renew = client.register_script(RENEW)

    def _member(self, session_id: str) -> str:
        return f"{self.worker}/{session_id}"

    @property
    def _keys(self) -> list[str]:
        return [self.key("calls"), self.key("workers")]

    async def acquire(self, session_id: str) -> Slot:
        lease_ms = int(LEASE_SECS * 1000)
        limit = -1 if self.limit is None else self.limit
        args = [self._member(session_id), self.worker, lease_ms, limit, self.per_worker]
        try:
            admitted, running, cap = await self._acquire(keys=self._keys, args=args)
        except RedisError as e:  # calls keep coming: count this worker's own, up to its share
            share = self.per_worker if self.limit is None else self.limit
            admitted, running, cap = not share or len(self._sessions) < share, None, share
            logger.warning(
                f"Cannot count calls in {self.unavailable(e)}; admitting by this worker's own "
                f"count ({len(self._sessions)} of {share or 'no limit'})"
            )
            running = len(self._sessions) + (1 if admitted else 0)
        if admitted:
            self._sessions.add(session_id)
        return Slot(bool(admitted), int(running), int(cap))

    async def release(self, session_id: str) -> None:
        self._sessions.discard(session_id)
        try:
            await self.client.zrem(self.key("calls"), self._member(session_id))
        except RedisError as e:
            raise self.unavailable(e) from None

    async def running(self) -> int:
        try:
            return int(await self._renew(keys=self._keys, args=[int(LEASE_SECS * 1000), ""]))
        except RedisError as e:
            raise self.unavailable(e) from None

    def local(self) -> int:
        return len(self._sessions)

    async def renew(self) -> None:
        """Extend this worker's lease and its calls' leases (re-adding any Redis lost)."""
        members = [self._member(s) for s in self._sessions]
        try:
            await self._renew(keys=self._keys, args=[int(LEASE_SECS * 1000), self.worker, *members])
        except RedisError as e:
            raise self.unavailable(e) from None
