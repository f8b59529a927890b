"""Soak: waves of simultaneous calls for a while, zero failures and no memory kept per call.

CI runs a small soak (8 calls at a time for about 30 s). The full one, whose figures are in
docs/hardening.md:

    SOAK_CALLS=30 SOAK_SECS=300 python -m pytest tests/test_soak.py -s

Between waves the server is idle, so its resident memory then is what finished calls left
behind. A leak of anything per call (a pipeline, a buffer, a task) shows as growth per finished
call; it is compared with what one live call costs, measured in the same run.
"""

from __future__ import annotations

import asyncio
import os
import time

import numpy as np
import psutil

from simulator.caller import Hangup, Say, WaitForBot, WaitForGreeting
from simulator.load import run_load

SOAK_CALLS = int(os.environ.get("SOAK_CALLS", "8"))
SOAK_SECS = float(os.environ.get("SOAK_SECS", "30"))
# A call that leaked what it held would grow the idle server by about one live call's memory
# per call. The allocator also grows while it warms up (it levels off after a few dozen calls,
# at well under half a live call per call), so the bound is half a live call.
LEAK_SHARE_ALLOWED = 0.5
MB = 1024 * 1024

SCRIPT = [WaitForGreeting(), Say("yes"), WaitForBot(timeout=15), Hangup()]


async def idle_rss(server, process: psutil.Process) -> tuple[int, int | None]:
    """Resident memory and task count once the calls of a wave are over and cleaned up."""
    health = await asyncio.to_thread(server.wait_for_no_calls, 30)
    assert health["active_calls"] == 0, health
    # Records written, sockets closed: the server's task count settles.
    counts = [server.health().get("tasks")]
    while len(counts) < 3 or len(set(counts[-3:])) > 1:
        await asyncio.sleep(0.2)
        counts.append(server.health().get("tasks"))
        assert len(counts) < 100, f"the server's tasks never settled: {counts[-5:]}"
    return process.memory_info().rss, counts[-1]


def slope(x: list[int], y: list[int]) -> float:
    """Least-squares growth of y per unit of x (0 with fewer than two points)."""
    return float(np.polyfit(x, y, 1)[0]) if len(x) >= 2 else 0.0


async def test_soak(server_factory, stand_ins):
    server = server_factory(MAX_CONCURRENT_CALLS=str(SOAK_CALLS))
    process = psutil.Process(server.process.pid)

    # Warm-up wave: models load and caches fill; not counted.
    warm = await run_load(server.ws_url, SOAK_CALLS, script=SCRIPT)
    assert not warm.failed, warm.summary()
    rss, tasks = await idle_rss(server, process)
    finished, idle, idle_tasks, failures, replies, peaks = [0], [rss], [tasks], [], [], []
    cpu_start = sum(process.cpu_times()[:2])
    started = time.monotonic()
    while time.monotonic() - started < SOAK_SECS:
        wave = await run_load(server.ws_url, SOAK_CALLS, script=SCRIPT, server_pid=process.pid)
        failures += wave.failures + [f"unanswered: {wave.unanswered}"] * bool(wave.unanswered)
        replies += wave.reply_latencies
        peaks.append(wave.server.rss_peak - idle[-1])
        rss, tasks = await idle_rss(server, process)
        finished.append(finished[-1] + SOAK_CALLS)
        idle.append(rss)
        idle_tasks.append(tasks)
    wall = time.monotonic() - started
    cpu = sum(process.cpu_times()[:2]) - cpu_start

    growth_per_call = slope(finished, idle)
    half = len(idle) // 2
    late_growth = slope(finished[half:], idle[half:])
    live_call = float(np.median(peaks)) / SOAK_CALLS  # memory of one call while it runs
    print(
        f"\nSoak: {finished[-1]} calls, {SOAK_CALLS} at a time, in {wall:.0f} s"
        f" | failed {len(failures)}"
        f" | reply p50 {np.percentile(replies, 50):.3f} s p95 {np.percentile(replies, 95):.3f} s"
        f"\n  server CPU {cpu:.1f} s ({cpu / finished[-1]:.2f} s per call)"
        f" | one live call {live_call / MB:.1f} MB"
        f" | idle RSS per wave {' '.join(f'{r / MB:.0f}' for r in idle)} MB"
        f" | growth {growth_per_call / 1024:.0f} KB per finished call"
        f" (last half of the run: {late_growth / 1024:.0f} KB)"
        f" | tasks when idle {idle_tasks}"
    )
    assert not failures, failures
    assert growth_per_call < LEAK_SHARE_ALLOWED * live_call
    if None not in idle_tasks:  # every call's tasks are gone once it ends
        assert max(idle_tasks) <= idle_tasks[0] + 2, idle_tasks
