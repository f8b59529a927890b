"""One observer per call for the template's own watchers (the call record, vendor fallbacks),
and a worker observer that hands observers only the events they handle.

pipecat gives every observer a queue and a task of its own and hands it every frame pushed;
one observer that passes each frame to both watchers costs half of two. It sees each frame
once, where it was first pushed (`observe_every_push=False`): the processor that made it.

pipecat also hands every observer every frame *processed* by every processor
(`on_process_frame`): about as many events again, each a queue put and a task switch, even for
an observer that ignores them (none of ours reads them). `CallWorkerObserver` hands those only
to observers whose class implements `on_process_frame`.
"""

from __future__ import annotations

from pipecat.observers.base_observer import BaseObserver, FrameProcessed, FramePushed
from pipecat.pipeline.worker import PipelineWorker
from pipecat.pipeline.worker_observer import WorkerObserver


class CallObserver(BaseObserver):
    """Hands each frame, once, to each of `watchers` (their `on_push_frame`), in order."""

    def __init__(self, *watchers: BaseObserver):
        super().__init__(observe_every_push=False)
        self._watchers = watchers

    async def on_push_frame(self, data: FramePushed):
        for watcher in self._watchers:
            await watcher.on_push_frame(data)


def handles_processed_frames(observer: BaseObserver) -> bool:
    """Whether `observer`'s class does something with `on_process_frame`."""
    return type(observer).on_process_frame is not BaseObserver.on_process_frame


class CallWorkerObserver(WorkerObserver):
    """pipecat's `WorkerObserver`, handing `on_process_frame` events only to the observers
    that implement it. Everything else (pushes, setup, pipeline started) is pipecat's."""

    async def on_process_frame(self, data: FrameProcessed):
        for proxy in (self._proxies or {}).values():
            if handles_processed_frames(proxy.observer):
                await proxy.queue.put(data)

    @classmethod
    def install(cls, worker: PipelineWorker) -> CallWorkerObserver:
        """Give `worker` (not yet running) this observer in place of pipecat's, with the
        observers it already has. pipecat builds its own inside `PipelineWorker` and has no
        argument for another (docs/pipecat-internals.md)."""
        observer = cls(observers=list(worker._observer._observers))
        worker._observer = observer
        return observer
