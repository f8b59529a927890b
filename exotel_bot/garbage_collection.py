"""Give a finished call's memory back, so a long-running server stays flat.

A call's pipeline is a web of reference cycles (processors point at their neighbours, event
handlers close over the transport), so Python frees it only at a full garbage collection. The
collector schedules those by counting Python objects, not bytes: a call's sockets, buffers and
threads could wait many calls for one, and the process grew by megabytes per call. Hence:

- `freeze_startup_objects()`, once at startup: everything loaded so far (pipecat, the SDKs, the
  models) moves out of the collector's sight (`gc.freeze`), so a collection only walks what
  the calls created;
- `release_call_memory()`, after each call: collect the finished call's cycles, and ask glibc
  to return the freed pages to the system (`malloc_trim`). A collection walks every live call's
  objects (about 70 ms with 50 calls up), so it runs at most every RELEASE_EVERY_SECS: under
  load one collection serves all the calls that ended meanwhile.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import time
from functools import cache

from loguru import logger

RELEASE_EVERY_SECS = 5.0

_last_release = 0.0
_scheduled: asyncio.TimerHandle | None = None


@cache
def _malloc_trim():
    """glibc's malloc_trim, or None elsewhere (musl, macOS)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


def freeze_startup_objects() -> None:
    """Exempt what is loaded at startup from every later garbage collection."""
    gc.collect()
    gc.freeze()


def release_call_memory() -> None:
    """A call has ended: free its memory now, or soon if a collection ran moments ago."""
    global _scheduled
    wait = _last_release + RELEASE_EVERY_SECS - time.monotonic()
    if wait <= 0:
        _release()
        return
    loop = asyncio.get_running_loop()
    # A handle already due belongs to a loop that never ran it (an event loop that ended).
    if _scheduled is None or _scheduled.when() < loop.time():
        _scheduled = loop.call_later(wait, _release)


def _release() -> None:
    global _last_release, _scheduled
    started = time.perf_counter()
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
    _last_release, _scheduled = time.monotonic(), None
    took = time.perf_counter() - started
    logger.debug(f"Released finished calls' memory in {took * 1000:.1f} ms")
