"""Call state that must outlive one process: dials, transfer decisions, the running-call count.

One `Stores` holds all of it, chosen once per process from the settings:

- `REDIS_URL` unset: this process's memory (`stores/memory.py`). Right for one `server.py`,
  which runs the bot, `/dialout` and the Passthru endpoint itself.
- `REDIS_URL` set: Redis (`stores/redis_stores.py`), so several workers, hosts, a `--control`
  process and bots on Pipecat Cloud see the same dials, decisions and call count.

Code asks for the process's stores with `stores()` each time (never binds them at import),
so `use_stores()` at start-up (server.py's lifespan, a test) swaps every store at once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from loguru import logger

from exotel_bot.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from exotel_bot.stores.dials import DialStore


class StoreUnavailable(Exception):
    """The shared store cannot be reached right now (Redis down); the message says why."""


class TransferDecisions(Protocol):
    """Where the bot leaves its transfer decision for the Passthru applet to pick up."""

    async def set(self, call_sid: str, decision: str) -> None:
        """Keep `decision` ("transfer") for `call_sid` for an hour. Raises StoreUnavailable."""

    async def get(self, call_sid: str) -> str | None:
        """The decision for `call_sid`, or None. Raises StoreUnavailable."""


@dataclass(frozen=True)
class Slot:
    """The answer to a request for a call slot: admitted or not, and the count it saw."""

    admitted: bool
    running: int  # calls running across all workers (this one included, if admitted)
    limit: int  # the cap that applied (0 = none)


class CallSlots(Protocol):
    """Running calls across every worker that shares the store, behind MAX_CONCURRENT_CALLS."""

    async def acquire(self, session_id: str) -> Slot:
        """Take a slot for this websocket if the cap allows. Never raises: with the shared
        store down, a worker admits up to its own share (CALLS_PER_WORKER) by itself."""

    async def release(self, session_id: str) -> None:
        """Give the slot back. Raises StoreUnavailable (the slot's lease then runs out)."""

    async def running(self) -> int:
        """Calls running across all workers. Raises StoreUnavailable."""

    def local(self) -> int:
        """Calls this process holds a slot for (no I/O; never raises)."""


@dataclass
class Stores:
    """Every store of one process; `kind` is "memory" or "redis"."""

    kind: str
    dials: DialStore
    transfers: TransferDecisions
    slots: CallSlots

    async def check(self) -> None:
        """Raise StoreUnavailable if the store cannot be reached (memory: never)."""

    async def start(self) -> None:
        """Begin background upkeep (Redis: renewing this worker's call leases)."""

    async def close(self) -> None:
        """Stop upkeep and release connections."""


def build_stores(settings: Settings, *, takes_calls: bool = True) -> Stores:
    """The stores the settings ask for: Redis with REDIS_URL, else memory. No I/O yet.

    `takes_calls=False` (the control plane) keeps the process out of the worker count the
    default call cap is computed from.
    """
    if settings.redis_url:
        from exotel_bot.stores.redis_stores import redis_stores

        return redis_stores(settings, takes_calls=takes_calls)
    from exotel_bot.stores.memory import memory_stores

    return memory_stores(settings)


async def open_stores(settings: Settings, *, takes_calls: bool = True) -> Stores:
    """Build the stores, check they answer and start their upkeep; install them for `stores()`.

    Raises ConfigError naming REDIS_URL when Redis cannot be reached at start-up.
    """
    built = build_stores(settings, takes_calls=takes_calls)
    try:
        await built.check()
    except StoreUnavailable as e:
        await built.close()
        raise ConfigError(
            f"Cannot reach Redis at REDIS_URL ({e}). Start Redis or fix REDIS_URL."
        ) from None
    await built.start()
    use_stores(built)
    logger.info(f"Call state store: {built.kind}")
    return built


_current: Stores | None = None


def stores() -> Stores:
    """This process's stores. Built from the settings on first use when nothing installed
    them (bot() on Pipecat Cloud, where server.py does not run)."""
    global _current
    if _current is None:
        _current = build_stores(load_settings(require_keys=False))
    return _current


def use_stores(new: Stores | None) -> None:
    """Install `new` as this process's stores (None: build them from settings on next use)."""
    global _current
    _current = new


def check_redis_now(settings: Settings) -> None:
    """At start-up, before workers fork: ConfigError if REDIS_URL is set and does not answer."""
    if not settings.redis_url:
        return

    async def ping() -> None:
        built = build_stores(settings, takes_calls=False)
        try:
            await built.check()
        except StoreUnavailable as e:
            raise ConfigError(
                f"Cannot reach Redis at REDIS_URL ({e}). Start Redis or fix REDIS_URL."
            ) from None
        finally:
            await built.close()

    asyncio.run(ping())
