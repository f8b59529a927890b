"""Several workers: the same burst of simultaneous calls against 1 worker and against
`server.py --workers 2` with Redis beside it, in one run, so the two compare fairly.

    python -m benchmarks.workers             # 1 worker at 100 and 200
                                                                    # calls, 2 workers at 200
    python -m benchmarks.workers --levels 50 --workers 2            # a quick look

Each run starts a fresh server (and a fresh Redis for N > 1), lets it settle, and plays the
load script of `simulator.load` (greeting, two questions after random pauses, hang-up; calls
started 0.1 s apart) against vendor stand-ins in their own process that answer instantly.
It reports, per run: greeting and reply p50/p95, failed calls, unanswered replies, the peak
of calls running at once (from /health), CPU seconds per call-minute and memory per call of
the whole server (supervisor + workers, and Redis's own CPU beside it), and the per-worker
capacity: the most calls per worker with no failure and reply p95 under TARGET_P95_SECS,
the figure behind CALLS_PER_WORKER (greeting p95 under TARGET_GREETING_P95_SECS too: Exotel
gives up at 10 s). The CPU the load generator (this process: the simulated callers) and the
stand-ins' process used in each run is reported beside the server's, so a run whose callers
starved the server of a core shows it. Timing is never asserted; figures are this machine's,
now (a shared machine gives indicative figures only).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from benchmarks.run import (
    OUT_DIR,
    ROOT,
    StandInsProcess,
    free_port,
    machine_line,
    stop,
    wait_for_http,
)
from simulator.load import run_load

MB = 1024 * 1024
TARGET_P95_SECS = 0.6
TARGET_GREETING_P95_SECS = 2.0


class Tree:
    """CPU and memory of a process and its children (uvicorn's supervisor and its workers)."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)

    def processes(self) -> list[psutil.Process]:
        with contextlib.suppress(psutil.Error):
            return [self.root, *self.root.children(recursive=True)]
        return []

    def cpu(self) -> float:
        total = 0.0
        for p in self.processes():
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                total += t.user + t.system
        return total

    def rss(self) -> int:
        total = 0
        for p in self.processes():
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total


def start_redis(out: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed (apt-get install -y redis-server)")
    port = free_port()
    cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(cmd + ["--logfile", str(out / "redis.log")])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return process, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def start_server(workers: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "server.py", "--workers", str(workers)]
    with open(log, "w") as f:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=f, stderr=f)


async def one_run(workers: int, calls: int, stand_ins: StandInsProcess, out: Path) -> dict:
    """Start the server with `workers` workers, play `calls` calls, stop it; the figures."""
    redis, redis_url = start_redis(out) if workers > 1 else (None, "")
    port = free_port()
    log = out / f"server-{workers}w-{calls}.log"
    env = {
        **os.environ,
        **stand_ins.env(),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "MAX_CONCURRENT_CALLS": "0",  # no cap: the benchmark finds the limit
        "CALL_RECORDS_DIR": "",
        "REDIS_URL": redis_url,
        "DEEPGRAM_API_KEY": "benchmark",
        "OPENAI_API_KEY": "benchmark",
        "CARTESIA_API_KEY": "benchmark",
    }
    server = start_server(workers, env, log)
    try:
        health_url = f"http://127.0.0.1:{port}/health"
        wait_for_http(health_url, server, 180, log)
        tree = Tree(server.pid)
        while len(tree.processes()) < workers + (workers > 1) * 1:  # supervisor + workers
            await asyncio.sleep(0.2)
        await asyncio.sleep(5.0)  # every worker warmed and idle
        rss_idle, cpu_start = tree.rss(), tree.cpu()
        redis_cpu = Tree(redis.pid) if redis else None
        redis_start = redis_cpu.cpu() if redis_cpu else 0.0
        callers, vendors = Tree(os.getpid()), Tree(stand_ins.process.pid)
        callers_start, vendors_start = own_cpu(callers.root), vendors.cpu()
        wall_start = time.monotonic()
        peak = {"calls": 0, "rss": rss_idle}

        async def sample() -> None:
            async with httpx.AsyncClient(timeout=2) as client:
                while True:
                    with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                        running = (await client.get(health_url)).json()["active_calls"]
                        peak["calls"] = max(peak["calls"], running)
                    peak["rss"] = max(peak["rss"], tree.rss())
                    await asyncio.sleep(0.5)

        sampler = asyncio.create_task(sample())
        report = await run_load(f"ws://127.0.0.1:{port}/ws", calls)
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        stats = report.stats()
        cpu = tree.cpu() - cpu_start
        wall = time.monotonic() - wall_start
        stats |= {
            "workers": workers,
            "redis": bool(redis),
            "peak_running": peak["calls"],
            "cpu_seconds": round(cpu, 2),
            "cpu_per_call_minute": cpu / report.call_minutes if report.call_minutes else None,
            "redis_cpu_seconds": round(redis_cpu.cpu() - redis_start, 2) if redis_cpu else None,
            "wall_seconds": round(wall, 1),
            "load_generator_cpu_seconds": round(own_cpu(callers.root) - callers_start, 2),
            "stand_ins_cpu_seconds": round(vendors.cpu() - vendors_start, 2),
            "rss_idle": rss_idle,
            "rss_peak": peak["rss"],
            "rss_per_call": (peak["rss"] - rss_idle) / max(peak["calls"], 1),
        }
        return stats
    finally:
        stop(server)
        if redis:
            stop(redis)


def own_cpu(process: psutil.Process) -> float:
    """CPU seconds of `process` alone (not its children: those are the servers)."""
    t = process.cpu_times()
    return t.user + t.system


def per_worker_capacity(runs: list[dict]) -> int | None:
    """The most calls per worker that any run carried with 0 failed, reply p95 and greeting
    p95 in target."""
    fine = [
        r["calls"] / r["workers"]
        for r in runs
        if not r["failed"]
        and not r["unanswered"]
        and (r["reply_p95"] or 99) <= TARGET_P95_SECS
        and (r["greeting_p95"] or 99) <= TARGET_GREETING_P95_SECS
    ]
    return int(max(fine)) if fine else None


def table(runs: list[dict]) -> str:
    def s(v):
        return "-" if v is None else f"{v:.2f} s"

    lines = [
        "| workers | calls | peak at once | failed | unanswered | greeting p50 / p95 "
        "| reply p50 / p95 | CPU-s per call-min | MB per call | Redis CPU-s "
        "| CPU-s: server / callers / stand-ins (wall s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        cpm = "-" if r["cpu_per_call_minute"] is None else f"{r['cpu_per_call_minute']:.2f}"
        lines.append(
            f"| {r['workers']}{' + Redis' if r['redis'] else ''} | {r['calls']} "
            f"| {r['peak_running']} | {r['failed']} | {r['unanswered']} "
            f"| {s(r['greeting_p50'])} / {s(r['greeting_p95'])} "
            f"| {s(r['reply_p50'])} / {s(r['reply_p95'])} | {cpm} "
            f"| {r['rss_per_call'] / MB:.1f} | {r['redis_cpu_seconds'] or '-'} "
            f"| {r['cpu_seconds']} / {r.get('load_generator_cpu_seconds', '-')} "
            f"/ {r.get('stand_ins_cpu_seconds', '-')} ({r.get('wall_seconds', '-')}) |"
        )
    return "\n".join(lines)


async def bench_workers(out: Path, plan: list[tuple[int, int]], stand_ins=None) -> dict:
    """Each (workers, calls) of `plan` in turn; the runs and the per-worker capacity."""
    own = stand_ins is None
    stand_ins = stand_ins or StandInsProcess(out).start()
    try:
        from benchmarks.run import INSTANT

        stand_ins.configure(INSTANT)
        runs = []
        for workers, calls in plan:
            print(f"  {workers} worker(s), {calls} calls ...", flush=True)
            runs.append(await one_run(workers, calls, stand_ins, out))
            print("    " + table(runs[-1:]).splitlines()[-1], flush=True)
    finally:
        if own:
            stand_ins.stop()
    capacity = per_worker_capacity(runs)
    print("\n" + table(runs))
    print(
        f"\nPer-worker capacity (0 failed, reply p95 <= {TARGET_P95_SECS} s, greeting p95 <= "
        f"{TARGET_GREETING_P95_SECS} s): "
        f"{capacity if capacity is not None else 'none of the runs'} calls per worker"
    )
    return {"runs": runs, "calls_per_worker": capacity, "target_p95_secs": TARGET_P95_SECS}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.workers", description=__doc__.splitlines()[0]
    )
    p.add_argument("--levels", default="200", help="calls per run, comma-separated (200)")
    p.add_argument("--workers", default="1,2", help="worker counts, comma-separated (1,2)")
    args = p.parse_args(argv)
    levels = [int(n) for n in args.levels.split(",")]
    counts = [int(n) for n in args.workers.split(",")]
    plan = [(w, c) for w in counts for c in levels]
    out = OUT_DIR / ("workers-" + time.strftime("%Y%m%d-%H%M%S"))
    out.mkdir(parents=True, exist_ok=True)
    before = machine_line()
    print(f"Workers benchmark: {before} (a shared machine: figures are indicative)", flush=True)
    result = asyncio.run(bench_workers(out, plan))
    result |= {
        "command": "python -m benchmarks.workers "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "machine_before": before,
        "machine_after": machine_line(),
    }
    (out / "results.json").write_text(json.dumps(result, indent=2))
    print(f"Machine after: {result['machine_after']}\nResults: {out.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
