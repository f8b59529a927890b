"""Does voicemail detection delay the first reply to a person? One run, both ways, same machine.

    python -m benchmarks.voicemail_delay [--calls 10]

Starts the vendor stand-ins and `server.py` twice (VOICEMAIL_DETECTION=true and false),
places `--calls` outbound calls on each, alternating (the flow URL's `direction=outbound`), in
which a person says "Hello? Who is this?" after the greeting, and prints the caller-side latency
of the bot's first reply (end of the person's speech -> first bot audio) for each, and their ratio.
Figures are from whatever machine runs it (shared machines vary); nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

from simulator.caller import Hangup, Say, WaitForBot, WaitForGreeting, run_call
from simulator.demo import ROOT, _free_port, demo_env, start_server
from simulator.standins import StandIns


async def first_reply_latency(port: int) -> float | None:
    report = await run_call(
        f"ws://127.0.0.1:{port}/ws",
        [WaitForGreeting(15), Say("hello"), WaitForBot(15), Hangup()],
        custom_parameters={"direction": "outbound"},
    )
    return report.replies[0].latency if report.ok and report.replies else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10, help="calls per setting")
    args = parser.parse_args()

    stand_ins = StandIns(host="127.0.0.1", port=0).start()
    servers, ports = {}, {}
    for detection in ("true", "false"):
        ports[detection] = port = _free_port()
        log = ROOT / "out" / f"voicemail-delay-{detection}.log"
        env = {
            **demo_env(stand_ins, ROOT / "out" / "calls"),
            "VOICEMAIL_DETECTION": detection,
            "LOG_LEVEL": "WARNING",
        }
        servers[detection] = start_server(port, env, Path(log))
    latencies: dict[str, list[float]] = {"true": [], "false": []}
    try:
        for _ in range(args.calls):
            for detection in ("true", "false"):
                latency = asyncio.run(first_reply_latency(ports[detection]))
                if latency is not None:
                    latencies[detection].append(latency)
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(10)
        stand_ins.stop()

    print(f"First reply to a person on an outbound call, {args.calls} calls each (shared machine):")
    for detection, values in latencies.items():
        if values:
            print(
                f"  VOICEMAIL_DETECTION={detection:5}  median {statistics.median(values):.3f} s"
                f"  max {max(values):.3f} s  ({len(values)} calls)"
            )
    if latencies["true"] and latencies["false"]:
        ratio = statistics.median(latencies["true"]) / statistics.median(latencies["false"])
        print(f"  ratio (on / off): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
