"""Many simulated Exotel calls at once: how the bot holds up under load.

Runs `calls` simulated callers against one websocket URL, started `ramp_secs` apart in all, and
reports what they experienced (greeting and reply latency percentiles, premature replies,
failures) and, given the server's pid, what it cost the server (CPU seconds per minute of call,
resident memory before, at peak and after). Loopback URLs only: this is a load generator.

    python -m simulator.load ws://127.0.0.1:7860/ws --calls 25 --pid 12345

The benchmarks (`python -m benchmarks.run`) and the soak test build on `run_load`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import psutil

from simulator.caller import (
    CallReport,
    Hangup,
    Say,
    Silence,
    Step,
    WaitForBot,
    WaitForGreeting,
    run_call,
)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MAX_CALLS = 500
MAX_FAILURES_KEPT = 20
SAMPLE_EVERY_SECS = 0.2
# A reply that takes longer than this counts as unanswered (the caller would have given up).
ANSWER_TIMEOUT_SECS = 10.0
# Calls start this far apart by default: 10 new calls a second, a harsh burst for a phone line.
RAMP_SECS_PER_CALL = 0.1
# Callers pause up to this long before each question, so simultaneous calls drift apart.
MAX_THINK_SECS = 4.0


def default_load_script(rng: random.Random | None = None) -> list[Step]:
    """Hear the greeting, ask about an order twice (two replies), hang up.

    With `rng`, the caller first thinks for 0-4 s before each question, so that many calls
    started together do not all speak in lockstep (real callers don't).
    """
    think = (lambda: [Silence(round(rng.uniform(0, MAX_THINK_SECS), 1))]) if rng else list
    return [
        WaitForGreeting(timeout=ANSWER_TIMEOUT_SECS),
        *think(),
        Say("order_status"),
        WaitForBot(timeout=ANSWER_TIMEOUT_SECS),
        *think(),
        Say("order_status"),
        WaitForBot(timeout=ANSWER_TIMEOUT_SECS),
        Hangup(),
    ]


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) of `values`, or None when there are none."""
    return float(np.percentile(values, q)) if values else None


@dataclass
class ServerUsage:
    """CPU and memory of the server process over a run (psutil, threads included)."""

    cpu_seconds: float = 0.0
    rss_before: int = 0
    rss_peak: int = 0
    rss_after: int = 0


@dataclass
class LoadReport:
    """What `calls` simultaneous callers experienced, and what they cost the server."""

    url: str
    calls: int
    ramp_secs: float
    wall_secs: float = 0.0
    reports: list[CallReport] = field(default_factory=list)
    server: ServerUsage | None = None

    @property
    def failed(self) -> list[CallReport]:
        """Calls that did not complete: no greeting, an error, or an unclean end."""
        return [r for r in self.reports if not r.ok]

    @property
    def failures(self) -> list[str]:
        """Why calls failed, one line each (at most MAX_FAILURES_KEPT)."""
        lines = []
        for r in self.failed[:MAX_FAILURES_KEPT]:
            why = r.error or (
                "no greeting" if r.greeting_latency is None else f"ended by {r.ended_by}"
            )
            lines.append(f"{r.call_sid}: {why}")
        return lines

    @property
    def greeting_latencies(self) -> list[float]:
        return [r.greeting_latency for r in self.reports if r.greeting_latency is not None]

    @property
    def reply_latencies(self) -> list[float]:
        return [lat for r in self.reports for lat in r.latencies]

    @property
    def replies_expected(self) -> int:
        return sum(len(r.replies) for r in self.reports)

    @property
    def unanswered(self) -> int:
        """Caller utterances the bot never answered (within the script's timeout)."""
        return self.replies_expected - len(self.reply_latencies)

    @property
    def premature(self) -> int:
        """Replies that started while the caller was still mid-utterance."""
        return sum(reply.premature for r in self.reports for reply in r.replies)

    @property
    def call_minutes(self) -> float:
        return sum(r.duration for r in self.reports) / 60

    @property
    def cpu_per_call_minute(self) -> float | None:
        """Server CPU seconds spent per minute of call."""
        if self.server is None or not self.call_minutes:
            return None
        return self.server.cpu_seconds / self.call_minutes

    @property
    def rss_per_call(self) -> float | None:
        """Peak memory above the idle server, per call, in bytes."""
        if self.server is None or not self.calls:
            return None
        return (self.server.rss_peak - self.server.rss_before) / self.calls

    def stats(self) -> dict:
        """The headline figures as a JSON-ready dict (seconds, bytes)."""
        greetings, replies = self.greeting_latencies, self.reply_latencies
        server = self.server
        return {
            "calls": self.calls,
            "ramp_secs": self.ramp_secs,
            "wall_secs": round(self.wall_secs, 2),
            "failed": len(self.failed),
            "greeting_p50": percentile(greetings, 50),
            "greeting_p95": percentile(greetings, 95),
            "reply_p50": percentile(replies, 50),
            "reply_p95": percentile(replies, 95),
            "replies": len(replies),
            "replies_expected": self.replies_expected,
            "unanswered": self.unanswered,
            "premature": self.premature,
            "call_minutes": round(self.call_minutes, 3),
            "cpu_seconds": server.cpu_seconds if server else None,
            "cpu_per_call_minute": self.cpu_per_call_minute,
            "rss_before": server.rss_before if server else None,
            "rss_peak": server.rss_peak if server else None,
            "rss_after": server.rss_after if server else None,
            "rss_per_call": self.rss_per_call,
            "failures": self.failures,
        }

    def summary(self) -> str:
        """A few readable lines: latencies, failures, server cost."""
        s = self.stats()
        lines = [
            f"{self.calls} calls to {self.url} (started over {self.ramp_secs:.1f} s, "
            f"{self.wall_secs:.1f} s in all)",
            f"  greeting p50 {_secs(s['greeting_p50'])} p95 {_secs(s['greeting_p95'])}"
            f" | reply p50 {_secs(s['reply_p50'])} p95 {_secs(s['reply_p95'])}",
            f"  failed {s['failed']} | replies {s['replies']}/{s['replies_expected']}"
            f" | premature {s['premature']}",
        ]
        if self.server is not None:
            mb = 1024 * 1024
            lines.append(
                f"  server CPU {self.server.cpu_seconds:.1f} s"
                f" = {_num(self.cpu_per_call_minute)} CPU-s per call-minute"
                f" | RSS {self.server.rss_before / mb:.0f} -> peak {self.server.rss_peak / mb:.0f}"
                f" -> {self.server.rss_after / mb:.0f} MB"
                f" ({_num(self.rss_per_call / mb if self.rss_per_call is not None else None)}"
                " MB per call)"
            )
        lines += [f"  failure: {line}" for line in self.failures]
        return "\n".join(lines)


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


class _Sampler:
    """Samples the server's RSS while the calls run, and its CPU time at both ends."""

    def __init__(self, pid: int):
        self.process = psutil.Process(pid)
        cpu = self.process.cpu_times()
        self.cpu_start = cpu.user + cpu.system
        rss = self.process.memory_info().rss
        self.usage = ServerUsage(rss_before=rss, rss_peak=rss)
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(SAMPLE_EVERY_SECS)

    def sample(self) -> None:
        with contextlib.suppress(psutil.Error):
            self.usage.rss_peak = max(self.usage.rss_peak, self.process.memory_info().rss)

    async def stop(self) -> ServerUsage:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        with contextlib.suppress(psutil.Error):
            self.sample()
            cpu = self.process.cpu_times()
            self.usage.cpu_seconds = cpu.user + cpu.system - self.cpu_start
            self.usage.rss_after = self.process.memory_info().rss
        return self.usage


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError(
            f"load tests run against this machine only (ws://127.0.0.1:...), not {url}"
        )


async def run_load(
    url: str,
    calls: int,
    *,
    script: Sequence[Step] | None = None,
    sample_rate: int = 8000,
    ramp_secs: float | None = None,
    server_pid: int | None = None,
    chunk_ms: int = 100,
    seed: int = 0,
) -> LoadReport:
    """Run `calls` simulated Exotel calls against `url`, started evenly over `ramp_secs`.

    Every call plays `script` (default: greeting, two questions after random 0-4 s pauses
    drawn from `seed`, hang-up). `ramp_secs` defaults to 0.1 s per call. With `server_pid`,
    the server's CPU time and resident memory are measured over the run. Raises ValueError
    for a non-loopback URL or a bad count.
    """
    _check_url(url)
    if not 1 <= calls <= MAX_CALLS:
        raise ValueError(f"calls must be between 1 and {MAX_CALLS}, not {calls}")
    rng = random.Random(seed)
    ramp = RAMP_SECS_PER_CALL * calls if ramp_secs is None else max(0.0, ramp_secs)
    gap = ramp / calls
    sampler = _Sampler(server_pid) if server_pid is not None else None
    if sampler:
        sampler.start()

    async def one_call(index: int) -> CallReport:
        steps = list(script) if script is not None else default_load_script(rng)
        await asyncio.sleep(index * gap)
        return await run_call(url, steps, sample_rate=sample_rate, chunk_ms=chunk_ms)

    started = time.monotonic()
    reports = await asyncio.gather(*(one_call(i) for i in range(calls)))
    report = LoadReport(url=url, calls=calls, ramp_secs=ramp, reports=list(reports))
    report.wall_secs = time.monotonic() - started
    if sampler:
        report.server = await sampler.stop()
    return report


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m simulator.load",
        description=(
            "Run many simulated Exotel calls at once against a local bot and print latency "
            "percentiles, failures and (with --pid) the server's CPU and memory per call."
        ),
    )
    p.add_argument("url", help="the bot's websocket, e.g. ws://127.0.0.1:7860/ws")
    p.add_argument("--calls", type=int, default=10, help="simultaneous calls (default 10)")
    p.add_argument("--ramp", type=float, help="seconds over which calls start (0.1 per call)")
    p.add_argument("--pid", type=int, help="the server's process id, to measure its CPU and RSS")
    p.add_argument("--sample-rate", type=int, default=8000, choices=(8000, 16000, 24000))
    p.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """0 when every call completed and every reply came, 1 otherwise, 2 for bad arguments."""
    args = parser().parse_args(argv)
    try:
        report = asyncio.run(
            run_load(
                args.url,
                args.calls,
                sample_rate=args.sample_rate,
                ramp_secs=args.ramp,
                server_pid=args.pid,
            )
        )
    except (ValueError, psutil.Error) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print(report.summary())
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report.stats(), indent=2))
    return 0 if not report.failed and not report.unanswered else 1


if __name__ == "__main__":
    sys.exit(main())
