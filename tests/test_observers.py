"""The worker observer a phone call installs: every observer still sees every push, and only
observers that implement `on_process_frame` are handed the processed frames."""

from __future__ import annotations

from pipecat.frames.frames import EndFrame, TextFrame
from pipecat.observers.base_observer import BaseObserver, FrameProcessed, FramePushed
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineWorker
from pipecat.processors.filters.identity_filter import IdentityFilter
from pipecat.workers.runner import WorkerRunner

from exotel_bot.phone.observer import CallWorkerObserver, handles_processed_frames


class Pushes(BaseObserver):
    """Reads pushes only; counts what it is handed of either kind."""

    def __init__(self):
        super().__init__()
        self.pushed = self.processed = 0

    async def on_push_frame(self, data: FramePushed):
        self.pushed += isinstance(data.frame, TextFrame)


class Processing(Pushes):
    async def on_process_frame(self, data: FrameProcessed):
        self.processed += isinstance(data.frame, TextFrame)


async def test_processed_frames_reach_only_the_observers_that_read_them():
    before, reads_processing = Pushes(), Processing()
    worker = PipelineWorker(
        Pipeline([IdentityFilter(), IdentityFilter(), IdentityFilter()]), observers=[before]
    )
    pipecats = list(worker._observer._observers)  # the user's and pipecat's own
    observer = CallWorkerObserver.install(worker)
    worker.add_observer(reads_processing)
    handed = []

    async def counted(data):  # what the push-only observer would be handed, if anything
        handed.append(data)

    before.on_process_frame = counted
    assert worker._observer is observer
    assert observer._observers == [*pipecats, reads_processing]  # all kept, the new one added
    assert before in pipecats
    assert not handles_processed_frames(before) and handles_processed_frames(reads_processing)

    await worker.queue_frames([TextFrame("one"), TextFrame("two"), EndFrame()])
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    await runner.run()

    assert before.pushed == reads_processing.pushed > 0  # pushes: as pipecat hands them
    assert reads_processing.processed >= 6  # 2 frames x 3 processors, at least
    assert handed == []
