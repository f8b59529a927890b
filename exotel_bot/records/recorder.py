"""Call records: what was said, how it sounded, and where the bot was slow, for every call.

`CallRecorder` is a pipecat observer: it watches the frames of one call go by (never in the
audio path: pipecat hands observers their frames on a queue of their own) and builds

- the transcript: caller and bot turns with start/end times, barge-ins and interruptions marked;
- per reply, the latency from the moment the caller stopped speaking to the bot's first audio,
  split along the wait's critical path (VAD, final transcript, turn decision, LLM first token,
  TTS first byte, the rest), with pipecat's time-to-first-byte metrics of each service;
- every other kind of bot turn too (the greeting, keypad replies, silence check-ins, the time
  limit's goodbye, answers after a tool result, apologies), each with its `cause` and its
  latency from the event that caused it (frames carry the cause in `metadata[TURN_CAUSE]`);
- token and character usage, tool calls, keypad presses, errors, and how the call ended (the
  call's `Ending`, exotel_bot/causes.py: call control decides most ends, the recorder notes
  what it sees for itself: the pipeline ending, a fatal error, the call's task failing);
- optionally a stereo recording, caller left and bot right, on one timeline.

The recorder reads the frames; the turn list is built in `Transcript` (records/transcript.py),
the rest of the record in `CallRecord` (records/call_record.py), the recording in
`StereoRecording` (records/audio.py). When the call is over, `run_and_save()` hands the record
to a `RecordSink` in a worker thread (records/sinks.py). A failure to write is logged, never
raised, and a record is written even when the call fails. Times in the record are seconds from
the moment Exotel's `start` message arrived.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

from loguru import logger
from pipecat.frames.frames import (
    AggregatedTextFrame,
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    CancelFrame,
    EndFrame,
    EndWorkerFrame,
    ErrorFrame,
    FunctionCallInProgressFrame,
    FunctionCallResultFrame,
    InputAudioRawFrame,
    InputDTMFFrame,
    InterruptionFrame,
    LLMContextAssistantTurnFrame,
    LLMContextFrame,
    LLMContextUserTurnFrame,
    LLMFullResponseStartFrame,
    LLMMessagesAppendFrame,
    MetricsFrame,
    OutputAudioRawFrame,
    TranscriptionFrame,
    TTSSpeakFrame,
    TTSStartedFrame,
    TTSTextFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.metrics.metrics import TTFBMetricsData
from pipecat.observers.base_observer import BaseObserver, FramePushed
from pipecat.processors.aggregators.llm_response_universal import LLMUserAggregator
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.llm_service import LLMService
from pipecat.services.stt_service import STTService
from pipecat.services.tts_service import TTSService
from pipecat.transports.base_input import BaseInputTransport
from pipecat.transports.base_output import BaseOutputTransport

from exotel_bot.causes import TURN_CAUSE, CallEnd, Ending, Evidence
from exotel_bot.records.audio import CallerLevels, StereoRecording
from exotel_bot.records.call_record import CallRecord, call_summary, turn_summary
from exotel_bot.records.sinks import (
    WRITE_TIMEOUT_SECS,
    LocalDirectorySink,
    RecordSink,
    write_record,
)
from exotel_bot.records.transcript import Transcript
from exotel_bot.records.turns import Turn
from exotel_bot.settings import Settings
from exotel_bot.wire.handshake import ExotelCall
from exotel_bot.wire.playout import PLAYOUT_START


class CallRecorder(BaseObserver):
    """Builds the record of one call from its frames; pass it in `PipelineWorker(observers=...)`.

    `ending` is the call's `Ending`, shared with call control (which notes the hang-ups,
    transfers and Exotel's `stop`); the recorder notes what it sees for itself (the bot ending
    the pipeline, a fatal error, the call failing).
    """

    def __init__(
        self,
        call: ExotelCall,
        settings: Settings,
        *,
        ending: Ending | None = None,
        sink: RecordSink | None = None,
        record_audio: bool | None = None,
    ):
        super().__init__(observe_every_push=False)
        self.call = call
        self._t0 = time.monotonic()
        started_at = datetime.now(UTC)
        self._clock_origin: float | None = None
        if sink is None and settings.call_records_dir:
            sink = LocalDirectorySink(settings.call_records_dir)
        self._sink = sink
        if record_audio is None:
            record_audio = settings.record_audio
        self._recording = StereoRecording(call.sample_rate) if record_audio else None
        self._levels = CallerLevels()
        self._transcript = Transcript(self._levels, on_bot_turn=self._log_turn)
        self._record = CallRecord(call, started_at, ending)
        self.ending = self._record.ending
        self._ended_at: float | None = None
        self._saved = False
        self.saved_record: dict[str, Any] | None = None  # the record as written, once saved
        self.saved_to: str | None = None  # where the sink put it

    @property
    def turns(self) -> list[Turn]:
        """The call's turns so far, caller's and bot's, in order."""
        return self._transcript.turns

    def note(self, kind: str, detail: str) -> None:
        """A line in the record's events, e.g. `note("answer", "voicemail: heard a beep")`."""
        self._record.event(time.monotonic() - self._t0, kind, detail)

    # --- Frames -----------------------------------------------------------------------------

    def _now(self, data: FramePushed) -> float:
        """Seconds since the call started, for the moment `data`'s frame was pushed."""
        if self._clock_origin is None:
            try:
                clock_now = data.source.get_clock().get_time()
            except Exception:
                clock_now = data.timestamp
            self._clock_origin = time.monotonic() - clock_now / 1e9
        return self._clock_origin + data.timestamp / 1e9 - self._t0

    async def on_push_frame(self, data: FramePushed):
        try:
            self._observe(data)
        except Exception as e:  # a recorder bug must never hurt the call
            logger.opt(exception=True).warning(f"Call recorder failed on {data.frame}: {e}")

    def _observe(self, data: FramePushed) -> None:
        frame, source = data.frame, data.source
        if isinstance(frame, InputAudioRawFrame):
            if isinstance(source, BaseInputTransport):
                self._levels.add(frame.audio, frame.sample_rate)
                if self._recording is not None:
                    self._recording.add_caller(frame.audio, frame.sample_rate)
            return
        if frame.broadcast_sibling_id is not None and data.direction == FrameDirection.UPSTREAM:
            return  # a broadcast frame goes both ways: count it once
        now = self._now(data)
        transcript, record = self._transcript, self._record
        if isinstance(frame, OutputAudioRawFrame):
            if isinstance(source, BaseOutputTransport):
                self._bot_audio(frame, now)
        elif isinstance(frame, VADUserStartedSpeakingFrame):
            transcript.vad_started(now - frame.start_secs)
        elif isinstance(frame, UserStartedSpeakingFrame):
            transcript.caller_starts(now)
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            transcript.vad_stopped(now - frame.stop_secs, now)
        elif isinstance(frame, TranscriptionFrame):
            transcript.transcribed(frame.text, now)
        elif isinstance(frame, LLMContextUserTurnFrame):
            transcript.caller_text(frame.text)
        elif isinstance(frame, LLMContextFrame):
            # The caller's turn went to the LLM: the turn is over for the bot, whenever
            # the UserStoppedSpeakingFrame that follows gets pushed.
            if isinstance(source, LLMUserAggregator) and not frame.speculation:
                transcript.caller_endpointed(now)
        elif isinstance(frame, UserStoppedSpeakingFrame):
            transcript.caller_stops(now)
        elif isinstance(frame, BotStartedSpeakingFrame):
            if isinstance(source, BaseOutputTransport):
                transcript.bot_starts(now)
        elif isinstance(frame, BotStoppedSpeakingFrame):
            if isinstance(source, BaseOutputTransport):
                transcript.bot_stops(now)
        elif isinstance(frame, InterruptionFrame):
            if transcript.interrupted(now) and self._recording is not None:
                self._recording.cut_bot(now)
        elif isinstance(frame, AggregatedTextFrame) and not isinstance(frame, TTSTextFrame):
            if isinstance(source, TTSService):
                transcript.bot_says(frame.text, getattr(frame, "context_id", None))
        elif isinstance(frame, LLMContextAssistantTurnFrame):
            transcript.bot_text(frame.text)
        elif isinstance(frame, MetricsFrame):
            self._metrics(frame, source, now)
        elif isinstance(frame, InputDTMFFrame):
            record.event(now, "dtmf", frame.button.value)
        elif isinstance(frame, TTSSpeakFrame | LLMMessagesAppendFrame | TTSStartedFrame):
            self._turn_cause(frame, now)
            if isinstance(frame, TTSStartedFrame) and isinstance(source, TTSService):
                transcript.tts_started(frame.context_id, getattr(frame, "interruptible", True))
        elif isinstance(frame, LLMFullResponseStartFrame):
            if isinstance(source, LLMService):
                transcript.llm_run_started()
        elif isinstance(frame, FunctionCallResultFrame):
            if frame.run_llm is not False and (
                frame.properties is None or frame.properties.run_llm is not False
            ):
                transcript.tool_result(now)
        elif isinstance(frame, FunctionCallInProgressFrame):
            arguments = json.dumps(frame.arguments, ensure_ascii=False)[:300]
            record.event(now, "tool_call", f"{frame.function_name} {arguments}")
        elif isinstance(frame, ErrorFrame):
            source_name = frame.processor.name if frame.processor is not None else ""
            record.error(now, source_name, frame.error, frame.fatal)
        elif isinstance(frame, EndWorkerFrame | EndFrame):
            self.ending.note(Evidence.PIPELINE_END, CallEnd.BOT_HUNG_UP, str(frame.reason or ""))
        elif isinstance(frame, CancelFrame) and frame.reason:
            record.event(now, "cancelled", str(frame.reason))

    def _turn_cause(self, frame, now: float) -> None:
        """A frame that will make the bot speak: remember why, and when, for its latency."""
        cause = frame.metadata.get(TURN_CAUSE)
        if cause is None and isinstance(frame, TTSStartedFrame):
            return  # the TTS starting a turn that was caused by something already noted
        if cause is None and isinstance(frame, LLMMessagesAppendFrame):
            return  # not ours: whoever appends messages says why, or it is not a turn
        self._transcript.bot_turn_coming(cause, now)

    def _bot_audio(self, frame: OutputAudioRawFrame, now: float) -> None:
        """Audio the transport sent, unless it was sent before a `clear` (Exotel dropped it)."""
        if self._recording is not None and not self._transcript.cleared:
            turn_start = self._transcript.bot_turn_start
            played_at = frame.metadata.get(PLAYOUT_START)  # monotonic, from the transport
            played_at = now if played_at is None else played_at - self._t0
            self._recording.add_bot(frame.audio, frame.sample_rate, played_at, turn_start)

    def _metrics(self, frame: MetricsFrame, source, now: float) -> None:
        for item in frame.data:
            if not isinstance(item, TTFBMetricsData):
                self._record.add_usage(item)
            elif item.value <= 0:
                continue
            elif isinstance(source, STTService):
                self._transcript.stt_ttfb(item.value)
            elif isinstance(source, LLMService):
                self._transcript.llm_first_byte(now, item.value)
            elif isinstance(source, TTSService):
                self._transcript.tts_first_byte(now, item.value)

    # --- Logs -------------------------------------------------------------------------------

    def _log_turn(self, turn: Turn) -> None:
        """One structured line per bot turn, for log-based dashboards."""
        logger.info(f"call_turn {json.dumps(turn_summary(turn))}")

    def _log_end(self, record: dict[str, Any]) -> None:
        logger.info(f"call_end {json.dumps(call_summary(record))}")

    # --- The record -------------------------------------------------------------------------

    def record(self) -> dict[str, Any]:
        """The call's record as a JSON-ready dict (open turns are closed at the end time)."""
        end = self._ended_at if self._ended_at is not None else time.monotonic() - self._t0
        self._transcript.end_open_turns(end)
        return self._record.to_dict(self.turns, end, self._transcript.greeting_latency)

    def _finish(self) -> None:
        self._ended_at = time.monotonic() - self._t0
        self._transcript.bot_stops(self._ended_at)

    async def run_and_save(self, call: Awaitable[Any]) -> Any:
        """Run the call (e.g. `runner.run()`), then save its record whatever happened."""
        try:
            return await call
        except BaseException as e:
            if not isinstance(e, asyncio.CancelledError):
                detail = f"{e.__class__.__name__}: {e}"[:200]
                self.ending.note(Evidence.FAILURE, CallEnd.ERROR, detail)
            raise
        finally:
            await self.save()

    async def save(self) -> None:
        """Write the record (and recording) through the sink, off the event loop; never raises."""
        if self._saved:
            return
        self._saved = True
        try:
            self._finish()
            record = self.record()
            self.saved_record = record
            self._log_end(record)
            if self._sink is None:
                return  # CALL_RECORDS_DIR is empty: the log lines above are all we keep
            where = await write_record(self._sink, record, self._recording)
            self.saved_to = where
            logger.info(f"Call record written to {where}")
        except TimeoutError:  # the same class from Python 3.11 on
            logger.error(f"Writing the call record took over {WRITE_TIMEOUT_SECS:.0f} s; gave up")
        except Exception as e:
            logger.error(f"Could not write the call record: {e.__class__.__name__}: {e}")

    async def rewrite(self) -> None:
        """Write `saved_record` again, after post-call steps added to it (the outcome, the
        webhook's delivery); for sinks that can (`update`). Never raises."""
        record, where = self.saved_record, self.saved_to
        if record is None or where is None or not hasattr(self._sink, "update"):
            return
        try:
            await asyncio.wait_for(
                asyncio.to_thread(self._sink.update, where, record), WRITE_TIMEOUT_SECS
            )
        except Exception as e:
            logger.error(f"Could not update the call record: {e.__class__.__name__}: {e}")
