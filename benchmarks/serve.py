"""Serve one bot for the benchmark: ours (bot.py) or the baseline, through server.py's /ws.

    python -m benchmarks.serve ours --port 7861 [--no-timings]
    python -m benchmarks.serve baseline --port 7862
    python -m benchmarks.serve baseline-prompt --port 7863

Exactly `python server.py` (same FastAPI app, same websocket handoff, same uvicorn settings)
except that `baseline` swaps in `benchmarks/baseline_bot.py` as the `bot` module and leaves out
our after-call memory release (the official example has none), and every call's pipeline
worker gets the benchmark's `TurnTimings` observer, whose BENCH_TIMING log lines let the
benchmark split each reply into its parts.
"""

from __future__ import annotations

import importlib
import sys
import types

# Bot name -> (module, entry point function).
BOTS = {
    "ours": ("bot", "bot"),
    "baseline": ("benchmarks.baseline_bot", "bot"),
    "baseline-prompt": ("benchmarks.baseline_bot", "bot_prompt"),
}


def add_timings_observer() -> None:
    """Give every PipelineWorker created from now on a TurnTimings observer."""
    from pipecat.pipeline.worker import PipelineWorker

    from benchmarks.timings import TurnTimings

    original_init = PipelineWorker.__init__

    def init(self, *args, observers=None, **kwargs):
        original_init(self, *args, observers=[*(observers or []), TurnTimings()], **kwargs)

    PipelineWorker.__init__ = init


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in BOTS:
        sys.exit(f"usage: python -m benchmarks.serve {{{','.join(BOTS)}}} [server.py options]")
    which = args.pop(0)
    timings = "--no-timings" not in args
    args = [a for a in args if a != "--no-timings"]

    # server.create_app() runs `from bot import bot`: point that name at the chosen bot.
    module_name, entry = BOTS[which]
    module = importlib.import_module(module_name)
    if entry != "bot":
        module = types.SimpleNamespace(bot=getattr(module, entry))
    sys.modules["bot"] = module
    if timings:
        add_timings_observer()

    import server

    if which.startswith("baseline"):
        server.release_call_memory = lambda: None
    sys.argv = ["server.py", *args]
    server.main()


if __name__ == "__main__":
    main()
