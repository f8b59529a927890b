"""One observer per call for the template's own watchers (the call record, vendor fallbacks).

pipecat gives every observer a queue and a task of its own and hands it every frame pushed;
one observer that passes each frame to both watchers costs half of two. It sees each frame
once, where it was first pushed (`observe_every_push=False`): the processor that made it.
"""

from __future__ import annotations

from pipecat.observers.base_observer import BaseObserver, FramePushed


class CallObserver(BaseObserver):
    """Hands each frame, once, to each of `watchers` (their `on_push_frame`), in order."""

    def __init__(self, *watchers: BaseObserver):
        super().__init__(observe_every_push=False)
        self._watchers = watchers

    async def on_push_frame(self, data: FramePushed):
        for watcher in self._watchers:
            await watcher.on_push_frame(data)
