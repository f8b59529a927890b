"""Our bot at two commits, side by side in one run: server CPU, failures and latency under load.

    git worktree add /path/to/other <commit>
    python -m benchmarks.side_by_side /path/to/other --levels 50,100 --rounds 2

Starts one set of vendor stand-ins (instant answers, in their own process) and two servers,
this checkout's bot and the other checkout's (`python -m benchmarks.serve ours --no-timings`,
one worker each), then runs `simulator.load` against them in turn: for each level, round after
round, this one then the other (the order alternating each round), so the machine's other load
falls on both alike. Prints each run and, per level, the medians and their ratio (this / other).
Writes everything as JSON to out/benchmarks/side-by-side-*.json. Timing is never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

import psutil

from benchmarks.run import INSTANT, OUT_DIR, BotProcess, StandInsProcess
from simulator.load import run_load

ROOT = Path(__file__).resolve().parent.parent


class CheckoutBot(BotProcess):
    """`benchmarks.serve ours --no-timings` run from `root` (a checkout of some commit)."""

    def __init__(self, name: str, root: Path, out: Path, env: dict[str, str]):
        super().__init__("ours", out, env)
        self.name = name
        self.root = root
        self.log = out / f"server-{name}.log"

    def start(self) -> CheckoutBot:
        import subprocess

        from benchmarks.run import wait_for_http

        cmd = [sys.executable, "-m", "benchmarks.serve", "ours", "--no-timings"]
        env = {**self.env, "PYTHONPATH": str(self.root)}
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=log, stderr=log)
        wait_for_http(f"http://127.0.0.1:{self.port}/health", self.process, 120, self.log)
        return self


def _median(values: list[float | None]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


async def main_async(args: argparse.Namespace) -> int:
    out = OUT_DIR / time.strftime("side-by-side-%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    stand_ins = StandInsProcess(out).start()
    env = {**stand_ins.env(), "CALL_RECORDS_DIR": str(out / "calls")}
    bots = [
        CheckoutBot("this", ROOT, out, env).start(),
        CheckoutBot("other", args.other, out, env).start(),
    ]
    runs: list[dict] = []
    try:
        stand_ins.configure(INSTANT)
        await asyncio.sleep(2.0)
        for calls in args.levels:
            for round_ in range(args.rounds):
                order = bots if round_ % 2 == 0 else bots[::-1]
                for bot in order:
                    bot.wait_for_no_calls(60)
                    await asyncio.sleep(1.0)
                    load = os.getloadavg()[0]
                    busy = psutil.cpu_percent(interval=1.0)
                    report = await run_load(bot.ws_url, calls, server_pid=bot.pid)
                    stats = report.stats()
                    stats.update(bot=bot.name, round=round_, load_1min=load, machine_cpu=busy)
                    runs.append(stats)
                    print(
                        f"{calls:>4} calls  {bot.name:<5} round {round_}  "
                        f"failed {stats['failed']:>3}  cpu/call-min "
                        f"{stats['cpu_per_call_minute'] or 0:.3f} s  "
                        f"reply p50 {stats['reply_p50'] or 0:.3f} s p95 "
                        f"{stats['reply_p95'] or 0:.3f} s  greeting p50 "
                        f"{stats['greeting_p50'] or 0:.3f} s  (load {load:.1f}, "
                        f"machine {busy:.0f}% busy before)",
                        flush=True,
                    )
    finally:
        for bot in bots:
            bot.stop()
        stand_ins.stop()

    print("\nlevel  figure                 this      other     this/other")
    summary = {}
    for calls in args.levels:
        for key in ("cpu_per_call_minute", "reply_p50", "reply_p95", "greeting_p50", "failed"):
            mine = _median([r[key] for r in runs if r["calls"] == calls and r["bot"] == "this"])
            theirs = _median([r[key] for r in runs if r["calls"] == calls and r["bot"] == "other"])
            ratio = mine / theirs if mine is not None and theirs else None
            summary[f"{calls}:{key}"] = {"this": mine, "other": theirs, "ratio": ratio}
            print(f"{calls:>5}  {key:<20} {_fmt(mine):>8}  {_fmt(theirs):>8}  {_fmt(ratio):>8}")
    (out / "results.json").write_text(json.dumps({"runs": runs, "summary": summary}, indent=1))
    print(f"\nJSON: {out / 'results.json'}")
    return 0


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.side_by_side", description=__doc__)
    p.add_argument("other", help="a checkout of the commit to compare with (git worktree add)")
    p.add_argument("--levels", default="50,100", help="simultaneous calls, e.g. 50,100")
    p.add_argument("--rounds", type=int, default=2, help="runs per bot per level (default 2)")
    args = p.parse_args(argv)
    args.levels = [int(x) for x in args.levels.split(",") if x.strip()]
    args.other = Path(args.other).resolve()
    return args


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
