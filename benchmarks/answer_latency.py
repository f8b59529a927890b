"""How soon does a person who answers an outbound call hear the bot after their "hello?"

    python -m benchmarks.answer_latency [--calls 10]

Starts the vendor stand-ins and `server.py` twice, answer supervision on and off
(VOICEMAIL_DETECTION), both waiting for the callee's hello (OUTBOUND_WAIT_FOR_HELLO=true), and
places `--calls` outbound calls on each, alternating (the URL's `direction=outbound`). In each
the person says only "Hello?" (fixture `hello_short`) and waits. It prints, per setting, the
time from the end of the spoken word (the fixture's 0.3 s of trailing line silence taken off)
to the bot's first audio as the caller hears it, and the ratio of the medians. The target is
at most 1 s. Figures are from whatever machine runs it, with instant stand-ins (the vendors'
own latency comes on top); nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path

from simulator.caller import Hangup, Say, WaitForBot, run_call
from simulator.demo import ROOT, _free_port, demo_env, start_server
from simulator.standins import StandIns

TRAILING_SILENCE_SECS = 0.3  # make_fixtures.sh pads each recording with this much after it


async def hello_to_bot(port: int) -> float | None:
    report = await run_call(
        f"ws://127.0.0.1:{port}/ws",
        [Say("hello_short"), WaitForBot(15), Hangup()],
        custom_parameters={"direction": "outbound"},
    )
    if not report.ok or report.greeting_latency is None or not report.replies:
        return None
    word_ends = report.replies[0].speech_end - TRAILING_SILENCE_SECS
    return report.greeting_latency - word_ends


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10, help="calls per setting")
    args = parser.parse_args()

    stand_ins = StandIns(host="127.0.0.1", port=0).start()
    stand_ins.config.stt.default_transcript = "Hello?"
    servers, ports = {}, {}
    for supervision in ("true", "false"):
        ports[supervision] = port = _free_port()
        log = ROOT / "out" / f"answer-latency-{supervision}.log"
        env = {
            **demo_env(stand_ins, ROOT / "out" / "calls"),
            "VOICEMAIL_DETECTION": supervision,
            "OUTBOUND_WAIT_FOR_HELLO": "true",
            "OUTBOUND_HELLO_TIMEOUT_SECS": "10",
            "LOG_LEVEL": "WARNING",
        }
        servers[supervision] = start_server(port, env, Path(log))
    results: dict[str, list[float]] = {"true": [], "false": []}
    try:
        for _ in range(args.calls):
            for supervision in ("true", "false"):
                latency = asyncio.run(hello_to_bot(ports[supervision]))
                if latency is not None:
                    results[supervision].append(latency)
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(10)
        stand_ins.stop()

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f'"Hello?" -> first bot audio, {args.calls} calls each (load average {load}):')
    for supervision, values in results.items():
        if values:
            print(
                f"  VOICEMAIL_DETECTION={supervision:5}  median {statistics.median(values):.3f} s"
                f"  max {max(values):.3f} s  ({len(values)} calls)"
            )
    if results["true"] and results["false"]:
        ratio = statistics.median(results["true"]) / statistics.median(results["false"])
        print(f"  ratio (on / off): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
