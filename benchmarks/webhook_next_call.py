"""Does a post-call webhook that never answers delay the next call's greeting? Both ways, one run.

    python -m benchmarks.webhook_next_call [--calls 10]

Starts the vendor stand-ins, an HTTP receiver that accepts each webhook delivery and never
answers, and `server.py` twice: with POST_CALL_WEBHOOK_URL pointed at that receiver, and
without a webhook. In each round, on each server alternately, a caller asks about an order and
hangs up, and the next caller dials in at once, while the first call's delivery is still waiting
on the receiver; the script prints that next call's greeting latency (caller side: `start`
sent -> first bot audio) for each server, and their ratio. Nothing is asserted: the figures are
this machine's, now.
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
from simulator.webhook_receiver import WebhookReceiver


async def next_greeting(port: int) -> float | None:
    url = f"ws://127.0.0.1:{port}/ws"
    first = await run_call(url, [WaitForGreeting(), Say("order_status"), WaitForBot(15), Hangup()])
    if not first.ok:
        return None
    second = await run_call(url, [WaitForGreeting(), Hangup()])
    return second.greeting_latency if second.ok else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10, help="rounds per setting")
    args = parser.parse_args()

    stand_ins = StandIns(host="127.0.0.1", port=0).start()
    receiver = WebhookReceiver("benchmark-secret", _free_port())
    receiver.hang = True  # takes every delivery and never answers
    receiver.start()
    settings = {
        "silent webhook": {
            "POST_CALL_WEBHOOK_URL": receiver.url,
            "WEBHOOK_SECRET": receiver.secret,
            "WEBHOOK_TIMEOUT_SECS": "60",
        },
        "no webhook": {},
    }
    servers, ports = {}, {}
    for name, extra in settings.items():
        ports[name] = port = _free_port()
        slug = name.replace(" ", "-")
        env = {
            **demo_env(stand_ins, ROOT / "out" / f"calls-{slug}"),
            "LOG_LEVEL": "WARNING",
            **extra,
        }
        servers[name] = start_server(port, env, Path(ROOT / "out" / f"webhook-{slug}.log"))
    latencies: dict[str, list[float]] = {name: [] for name in settings}
    try:
        for _ in range(args.calls):
            for name in settings:
                latency = asyncio.run(next_greeting(ports[name]))
                if latency is not None:
                    latencies[name].append(latency)
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(10)
        receiver.stop()
        stand_ins.stop()

    print(f"Greeting of the call after one whose webhook hangs, {args.calls} rounds each:")
    print(f"  delivery attempts the silent receiver held: {len(receiver.requests)}")
    for name, values in latencies.items():
        if values:
            print(
                f"  {name:15} median {statistics.median(values):.3f} s"
                f"  max {max(values):.3f} s  ({len(values)} calls)"
            )
    if all(latencies.values()):
        ratio = statistics.median(latencies["silent webhook"]) / statistics.median(
            latencies["no webhook"]
        )
        print(f"  ratio (silent webhook / none): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
