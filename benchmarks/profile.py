"""Profile a bot under load with py-spy: where does the server's CPU go?

    pip install py-spy
    python -m benchmarks.profile ours --calls 20          # or: baseline

Starts the vendor stand-ins and the bot (as `python -m benchmarks.serve`), runs `--calls`
simultaneous simulated calls (instant stand-ins) while `py-spy record` samples the server, then
prints the share of samples spent in each area (inclusive) and the hottest functions (self).
The raw collapsed stacks are kept in out/profiles/ for flame-graph tools.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from benchmarks.run import INSTANT, ROOT, BotProcess, StandInsProcess
from simulator.load import run_load

# Where a sample's time goes: its stack is read from the innermost frame outwards and the first
# frame that matches an area's needles decides the area, so the areas do not overlap.
AREAS = {
    "Smart Turn model": ("smart_turn",),
    "model loading": ("_create_inference_session", "InferenceSession.__init__"),
    "Silero VAD model": ("silero.py",),
    "volume (loudness)": ("calculate_audio_volume", "volume.py"),
    "VAD bookkeeping": ("vad_analyzer.py", "vad_controller.py"),
    "call records (observer)": ("exotel_bot/records/",),
    "benchmark timings (observer)": ("benchmarks/timings.py",),
    "observers (pipecat)": ("observer",),
    "websocket masking (vendor sockets)": ("randbytes", "urandom"),
    "websocket compression": ("deflate", "zlib", "compress"),
    "TLS contexts": ("ssl.py",),
    "resampling": ("resampl", "soxr"),
    "JSON": ("json/",),
    "base64": ("base64",),
    "Deepgram client": ("deepgram",),
    "OpenAI client": ("openai/", "httpx", "httpcore"),
    "Cartesia client": ("cartesia",),
    "Exotel serializer": ("serializer",),
    "transport (pipecat)": ("transports/",),
    "websocket server (uvicorn)": ("uvicorn", "starlette", "websockets/"),
    "logging": ("loguru",),
    "thread pools": ("concurrent/futures",),
    "pipecat frame processing": ("pipecat/",),
    "asyncio": ("asyncio/",),
}
# Samples of threads waiting for work, which py-spy cannot always tell from busy ones.
IDLE_LEAVES = ("_worker (concurrent/futures/thread.py:81)",)


def _area(frames: list[str]) -> str:
    for frame in reversed(frames):
        lowered = frame.lower()
        for area, needles in AREAS.items():
            if any(needle.lower() in lowered for needle in needles):
                return area
    return "other"


def summarize(collapsed: Path, top: int = 25) -> str:
    """Area shares and the hottest functions (self time) from py-spy's raw output."""
    areas: Counter[str] = Counter()
    selfs: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not count.isdigit() or frames[-1] in IDLE_LEAVES:
            continue
        n = int(count)
        total += n
        areas[_area(frames)] += n
        selfs[frames[-1]] += n
    if not total:
        return "no samples"
    lines = [f"{total} busy samples", "", "where the time goes (innermost match wins):"]
    lines += [f"  {100 * n / total:5.1f}%  {area}" for area, n in areas.most_common()]
    lines += ["", f"top {top} functions by self time:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in selfs.most_common(top)]
    return "\n".join(lines)


def start_py_spy(pid: int, output: Path, idle: bool) -> subprocess.Popen:
    """`py-spy record` on `pid`, writing collapsed stacks to `output` when interrupted."""
    cmd = ["py-spy", "record", "--pid", str(pid), "--format", "raw", "--rate", "200"]
    cmd += ["--output", str(output), "--nonblocking", *(["--idle"] if idle else [])]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def profile(args: argparse.Namespace) -> Path:
    out = ROOT / "out" / "profiles" / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    stand_ins = StandInsProcess(out).start()
    server = BotProcess(args.bot, out, stand_ins.env()).start()
    collapsed = out / f"{args.bot}-{args.calls}calls.txt"
    try:
        stand_ins.configure(INSTANT)
        spy = start_py_spy(server.pid, collapsed, args.idle)
        await asyncio.sleep(1.0)
        report = await run_load(server.ws_url, args.calls, server_pid=server.pid)
        print(report.summary())
        spy.send_signal(signal.SIGINT)
        spy.wait(30)
    finally:
        server.stop()
        stand_ins.stop()
    return collapsed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    p.add_argument("bot", choices=("ours", "baseline"))
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--idle", action="store_true", help="also sample idle threads")
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args(argv)
    if shutil.which("py-spy") is None:
        print("py-spy is not installed: pip install py-spy", file=sys.stderr)
        return 2
    collapsed = asyncio.run(profile(args))
    print()
    print(summarize(collapsed, args.top))
    print(f"\nCollapsed stacks: {collapsed.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
