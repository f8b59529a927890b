"""Soak: a long call from a peer that never answers websocket pings stays up.

    python -m benchmarks.keepalive                 # a 10-minute call against server.py
    python -m benchmarks.keepalive --minutes 1     # shorter
    python -m benchmarks.keepalive --url ws://host:port/ws   # against a server you run

Starts the vendor stand-ins and `server.py` (a check-in every 45 s that never gives up, so the
bot has no reason to hang up), then holds one Exotel call open from `simulator.peers.DeafPeer`,
which streams the caller's silence in real time and never answers a ping. It prints whether
the call was still up at the end, how many pings reached the peer, and how the call ended
after its `stop`.
Uvicorn's default keepalive (a ping every 20 s, closed 20 s after one goes unanswered) would
drop this call at about 40 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from simulator.peers import DeafPeer
from simulator.standins import StandIns

ROOT = Path(__file__).resolve().parent.parent


def start_server(stand_ins: StandIns, port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        **stand_ins.env(),
        "DEEPGRAM_API_KEY": "soak",
        "OPENAI_API_KEY": "soak",
        "CARTESIA_API_KEY": "soak",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        # The caller stays silent: the bot checks in every 45 s and never gives up (a call
        # where nobody speaks for 5 minutes is ended by pipecat's idle timeout, whatever the
        # websocket does).
        "SILENCE_TIMEOUT_SECS": "45",
        "SILENCE_CHECK_INS": "1000",
        "MAX_CALL_SECS": "0",
        "CALL_RECORDS_DIR": "",
    }
    process = subprocess.Popen(
        [sys.executable, "server.py"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server.py exited; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.terminate()
    raise SystemExit(f"server.py did not start; see {log}")


async def soak(url: str, seconds: float) -> int:
    peer = await DeafPeer(url).open()
    await peer.start_call()
    started = time.monotonic()
    up = True
    for minute in range(int(seconds // 60) + 1):
        chunk = min(60.0, seconds - minute * 60)
        if chunk <= 0:
            break
        up = await peer.stream_silence(chunk)
        print(
            f"{time.monotonic() - started:7.1f} s: {'up' if up else 'CLOSED'}, "
            f"{peer.pings} ping(s) received, {peer.messages} message(s) from the bot",
            flush=True,
        )
        if not up:
            break
    await peer.hang_up()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(peer.closed.wait(), 10)
    await peer.close()
    held = time.monotonic() - started
    verdict = "PASS" if up else "FAIL"
    print(
        f"{verdict}: the call stayed up {held:.0f} s of {seconds:.0f} s; pings received: "
        f"{peer.pings}; closed after stop with code {peer.close_code}"
    )
    return 0 if up else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.keepalive", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--url", help="a running server's /ws (default: start server.py)")
    parser.add_argument("--port", type=int, default=7870)
    args = parser.parse_args(argv)
    if args.url:
        return asyncio.run(soak(args.url, args.minutes * 60))
    out = ROOT / "out" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    stand_ins = StandIns(host="127.0.0.1", port=0)
    stand_ins.start()
    log = out / "keepalive-server.log"
    server = start_server(stand_ins, args.port, log)
    try:
        return asyncio.run(soak(f"ws://127.0.0.1:{args.port}/ws", args.minutes * 60))
    finally:
        server.terminate()
        server.wait(10)
        stand_ins.stop()
        print(f"server log: {log.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
