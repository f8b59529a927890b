"""pipecat's own debuggers on a local call: Whisker or Tail (PIPECAT_DEBUGGER).

- `whisker` (package `pipecat-ai-whisker`): a real-time view of the pipeline and every frame,
  in the browser at https://whisker.pipecat.ai, connected to ws://localhost:9090;
- `tail` (package `pipecat-ai-tail`): a terminal dashboard of the conversation, metrics and
  logs; run `tail` in another terminal, it connects to the bot.

Both are pipecat observers added to the call's worker. Neither is installed with the template
(each pins its own websockets or rich versions): install the one you want
(docs/troubleshooting.md). Meant for one call on your laptop, never for production.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipecat.observers.base_observer import BaseObserver
from pipecat.workers.base_worker import BaseWorker

from exotel_bot.settings import ConfigError, Settings

PACKAGES = {"whisker": "pipecat-ai-whisker", "tail": "pipecat-ai-tail"}


@dataclass
class Debugger:
    """What a debugger adds to a call: observers on its worker, and workers beside it."""

    observers: list[BaseObserver] = field(default_factory=list)
    workers: list[BaseWorker] = field(default_factory=list)


def pipecat_debugger(settings: Settings, worker) -> Debugger:
    """The debugger PIPECAT_DEBUGGER asks for, watching `worker` (nothing if it is empty).

    Raises ConfigError naming the package to install when the debugger is not installed.
    """
    choice = settings.pipecat_debugger
    if not choice:
        return Debugger()
    try:
        if choice == "whisker":
            from pipecat_whisker import WhiskerServer

            sink = WhiskerServer()  # ws://localhost:9090, for https://whisker.pipecat.ai
            return Debugger(observers=[sink.create_observer(worker)], workers=[sink])
        from pipecat_tail.observer import TailObserver

        return Debugger(observers=[TailObserver()])  # ws://localhost:9292, for `tail`
    except ImportError as e:
        raise ConfigError(
            f"PIPECAT_DEBUGGER={choice} needs its package: pip install {PACKAGES[choice]} ({e})"
        ) from e
