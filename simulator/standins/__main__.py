"""Run the stand-ins as a process: ``python -m simulator.standins --port 9100``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex

from .app import StandIns


def _parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m simulator.standins",
        description="Serve local Deepgram, OpenAI and Cartesia stand-ins on one port.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100, help="0 picks a free port")
    parser.add_argument("--stt-delay", type=float, default=0.0, help="seconds before a final")
    parser.add_argument("--llm-delay", type=float, default=0.0, help="seconds to first token")
    parser.add_argument("--tts-delay", type=float, default=0.0, help="seconds to first audio")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    standins = StandIns(host=args.host, port=args.port)
    standins.config.stt.final_delay = args.stt_delay
    standins.config.llm.first_token_delay = args.llm_delay
    standins.config.tts.first_byte_delay = args.tts_delay
    async with standins:
        for key, value in standins.env().items():
            print(f"export {key}={shlex.quote(value)}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
