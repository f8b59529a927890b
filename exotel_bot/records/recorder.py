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
- token and character usage, tool calls, keypad presses, errors, and how the call ended;
- optionally a stereo recording, caller left and bot right, on one timeline.

When the call is over, `run_and_save()` hands the record to a `RecordSink` in a worker thread.
A failure to write is logged, never raised, and a record is written even when the call fails.
Times in the record are seconds from the moment Exotel's `start` message arrived.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

import numpy as np
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
    InputTransportMessageFrame,
    InterruptionFrame,
    LLMContextAssistantTurnFrame,
    LLMContextFrame,
    LLMContextUserTurnFrame,
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
from pipecat.metrics.metrics import (
    LLMUsageMetricsData,
    STTUsageMetricsData,
    TTFBMetricsData,
    TTSUsageMetricsData,
)
from pipecat.observers.base_observer import BaseObserver, FramePushed
from pipecat.processors.aggregators.llm_response_universal import LLMUserAggregator
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.llm_service import LLMService
from pipecat.services.stt_service import STTService
from pipecat.services.tts_service import TTSService
from pipecat.transports.base_input import BaseInputTransport
from pipecat.transports.base_output import BaseOutputTransport

from exotel_bot.call.turns import VAD_STOP_SECS
from exotel_bot.records.audio import CallerLevels, StereoRecording
from exotel_bot.records.latency import FirstByte, last_before, reply_latency
from exotel_bot.records.sinks import LocalDirectorySink, RecordSink
from exotel_bot.records.turns import (
    BOT_HUNG_UP,
    CALLER_HUNG_UP,
    ERROR,
    GREETING,
    REPLY,
    TOOL_RESULT,
    TURN_CAUSE,
    UNKNOWN,
    Turn,
    round_secs,
)
from exotel_bot.settings import Settings
from exotel_bot.wire.handshake import ExotelCall

RECORD_VERSION = 1
# How long the end of a call may wait for its record to be written before giving up on it.
WRITE_TIMEOUT_SECS = 30.0

# Which evidence of how a call ended wins when there are several: what call control says,
# then Exotel's `stop`, then a failure, then the bot ending the pipeline, then a closed socket.
_EXPLICIT, _STOP, _FAILURE, _PIPELINE_END, _SOCKET_CLOSED = 5, 4, 3, 2, 1


class CallRecorder(BaseObserver):
    """Builds the record of one call from its frames; pass it in `PipelineWorker(observers=...)`.

    Call control tells it how the call ended with `set_end_reason()`; what it can see for
    itself (Exotel's `stop`, a closed socket, the bot ending the pipeline, an error) it infers.
    """

    def __init__(
        self,
        call: ExotelCall,
        settings: Settings,
        transport=None,
        *,
        sink: RecordSink | None = None,
        record_audio: bool | None = None,
    ):
        super().__init__(observe_every_push=False)
        self.call = call
        self._t0 = time.monotonic()
        self._started_at = datetime.now(UTC)
        self._clock_origin: float | None = None
        if sink is None and settings.call_records_dir:
            sink = LocalDirectorySink(settings.call_records_dir)
        self._sink = sink
        if record_audio is None:
            record_audio = settings.record_audio
        self._recording = StereoRecording(call.sample_rate) if record_audio else None
        self._levels = CallerLevels()

        self.turns: list[Turn] = []
        self._caller: Turn | None = None  # the caller turn in progress
        self._bot: Turn | None = None  # the bot turn in progress
        self._reply: Turn | None = None  # a finished caller turn the bot has not answered yet
        self._cause: tuple[str, float] | None = None  # (why, when) the next bot turn comes
        self._llm_firsts: deque[FirstByte] = deque(maxlen=20)
        self._tts_firsts: deque[FirstByte] = deque(maxlen=20)
        self._vad_start: float | None = None
        self._cleared = False  # the caller cut the bot off: its audio in flight never played
        self._bot_text: list[str] = []  # sentences sent to TTS, not yet heard in a bot turn
        self._greeting_latency: float | None = None
        self._usage = {
            "llm_prompt_tokens": 0,
            "llm_completion_tokens": 0,
            "tts_characters": 0,
            "stt_audio_secs": 0.0,
        }
        self._events: list[dict[str, Any]] = []
        self._errors: list[dict[str, Any]] = []
        self._end: tuple[int, str, str] = (0, UNKNOWN, "")
        self._ended_at: float | None = None
        self._saved = False

        if transport is not None:
            transport.add_event_handler("on_client_disconnected", self._on_socket_closed)

    # --- What call control tells us ---------------------------------------------------------

    def set_end_reason(self, reason: str, detail: str = "") -> None:
        """How the call ended, e.g. `set_end_reason("transferred", detail="asked for a person")`.

        Wins over anything inferred; the first explicit reason is kept.
        """
        if self._end[0] < _EXPLICIT:
            self._end = (_EXPLICIT, reason, detail)

    def _infer_end(self, strength: int, reason: str, detail: str = "") -> None:
        if strength > self._end[0]:
            self._end = (strength, reason, detail)

    async def _on_socket_closed(self, transport, websocket) -> None:
        self._infer_end(_SOCKET_CLOSED, CALLER_HUNG_UP, "websocket closed without a stop message")

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
        if isinstance(frame, OutputAudioRawFrame):
            if isinstance(source, BaseOutputTransport):
                self._bot_audio(frame, now)
        elif isinstance(frame, VADUserStartedSpeakingFrame):
            start = self._levels.speech_start(now - frame.start_secs, max_pause=VAD_STOP_SECS)
            if self._caller is None:
                self._vad_start = start
            else:  # words started the turn before the VAD did, or the caller paused
                self._caller.start = min(self._caller.start, start)
                self._caller.end = None
        elif isinstance(frame, UserStartedSpeakingFrame):
            self._caller_starts(now)
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            self._vad_start = None
            if self._caller is not None:
                self._caller.end = self._levels.speech_end(now - frame.stop_secs, now)
                self._caller.vad_stopped_at = now
        elif isinstance(frame, TranscriptionFrame):
            if self._caller is not None:
                self._caller.pieces.append(frame.text)
                self._caller.transcribed_at = now
        elif isinstance(frame, LLMContextUserTurnFrame):
            turn = self._caller or self._last("caller")
            if turn is not None:
                turn.text = frame.text
        elif isinstance(frame, LLMContextFrame):
            # The caller's turn went to the LLM: the turn is over for the bot, whenever
            # the UserStoppedSpeakingFrame that follows gets pushed.
            if isinstance(source, LLMUserAggregator) and not frame.speculation and self._caller:
                self._caller_endpointed(self._caller, now)
        elif isinstance(frame, UserStoppedSpeakingFrame):
            self._caller_stops(now)
        elif isinstance(frame, BotStartedSpeakingFrame):
            if isinstance(source, BaseOutputTransport):
                self._bot_starts(now)
        elif isinstance(frame, BotStoppedSpeakingFrame):
            if isinstance(source, BaseOutputTransport):
                self._bot_stops(now)
        elif isinstance(frame, InterruptionFrame):
            self._interrupted(now)
        elif isinstance(frame, AggregatedTextFrame) and not isinstance(frame, TTSTextFrame):
            if isinstance(source, TTSService):
                self._bot_says(frame.text)
        elif isinstance(frame, LLMContextAssistantTurnFrame):
            turn = self._last("bot")  # what the bot said, as it went into the LLM's context
            if turn is not None and not turn.text and frame.text:
                turn.text = frame.text
        elif isinstance(frame, MetricsFrame):
            self._metrics(frame, source, now)
        elif isinstance(frame, InputTransportMessageFrame):
            self._exotel_message(frame.message)
        elif isinstance(frame, InputDTMFFrame):
            self._event(now, "dtmf", frame.button.value)
        elif isinstance(frame, TTSSpeakFrame | LLMMessagesAppendFrame | TTSStartedFrame):
            self._turn_cause(frame, now)
        elif isinstance(frame, FunctionCallResultFrame):
            if frame.run_llm is not False and (
                frame.properties is None or frame.properties.run_llm is not False
            ):
                self._cause = (TOOL_RESULT, now)
        elif isinstance(frame, FunctionCallInProgressFrame):
            arguments = json.dumps(frame.arguments, ensure_ascii=False)[:300]
            self._event(now, "tool_call", f"{frame.function_name} {arguments}")
        elif isinstance(frame, ErrorFrame):
            self._error(now, frame)
        elif isinstance(frame, EndWorkerFrame | EndFrame):
            self._infer_end(_PIPELINE_END, BOT_HUNG_UP, str(frame.reason or ""))
        elif isinstance(frame, CancelFrame) and frame.reason:
            self._event(now, "cancelled", str(frame.reason))

    def _turn_cause(self, frame, now: float) -> None:
        """A frame that will make the bot speak: remember why, and when, for its latency."""
        cause = frame.metadata.get(TURN_CAUSE)
        if cause is None and isinstance(frame, TTSStartedFrame):
            return  # the TTS starting a turn that was caused by something already noted
        if cause is None and isinstance(frame, LLMMessagesAppendFrame):
            return  # not ours: whoever appends messages says why, or it is not a turn
        if cause is None:
            spoke = any(t.speaker == "bot" for t in self.turns) or self._bot is not None
            cause = GREETING if not spoke and not self.turns else "spoken"
        self._cause = (str(cause), 0.0 if cause == GREETING else now)

    def _last(self, speaker: str) -> Turn | None:
        return next((t for t in reversed(self.turns) if t.speaker == speaker), None)

    def _new_turn(self, speaker: str, start: float) -> Turn:
        turn = Turn(index=len(self.turns) + 1, speaker=speaker, start=start)
        self.turns.append(turn)
        return turn

    def _caller_starts(self, now: float) -> None:
        start = self._vad_start
        if start is None:  # the words came first (an interim transcript while the bot talks)
            start = self._levels.speech_start(now, max_pause=VAD_STOP_SECS)
        self._caller = self._new_turn("caller", min(start, now))
        self._caller.barge_in = self._bot is not None
        self._vad_start = None
        self._reply = None  # whatever the bot was about to say, it now answers this turn

    def _caller_endpointed(self, turn: Turn, now: float) -> None:
        """The bot decided the caller is done and set to work on an answer."""
        if turn.endpointed_at is None:
            turn.endpointed_at = now
            self._reply = turn

    def _caller_stops(self, now: float) -> None:
        turn, self._caller = self._caller, None
        if turn is None:
            return
        self._caller_endpointed(turn, now)
        if turn.end is None or turn.end > turn.endpointed_at:
            turn.end = turn.endpointed_at

    def _bot_starts(self, now: float) -> None:
        if self._bot is not None:
            self._close_bot(now)
        self._cleared = False
        turn = self._bot = self._new_turn("bot", now)
        turn.pieces, self._bot_text = self._bot_text, []
        if self._greeting_latency is None and not any(t.speaker == "caller" for t in self.turns):
            self._greeting_latency = round_secs(now)
        asked, self._reply = self._reply, None
        cause, self._cause = self._cause, None
        tool_answer = cause is not None and cause[0] == TOOL_RESULT and asked is not None
        later = cause is not None and (asked is None or cause[1] >= (asked.endpointed_at or 0.0))
        if later and not tool_answer:  # not an answer to the caller's speech
            turn.cause = cause[0]
            turn.latency = {"total": round_secs(max(0.0, now - cause[1]))}
            return
        if asked is not None:
            # A reply, perhaps after a tool: timed from the caller, like every reply.
            turn.reply_to = asked.index
            turn.cause = TOOL_RESULT if tool_answer else REPLY
            llm = last_before(self._llm_firsts, asked.start, now)
            tts = last_before(self._tts_firsts, asked.start, now)
            turn.latency = reply_latency(asked, now, llm, tts)
            if tool_answer:
                turn.latency["since_tool_result"] = round_secs(max(0.0, now - cause[1]))

    def _bot_audio(self, frame: OutputAudioRawFrame, now: float) -> None:
        """Audio the transport sent, unless it was sent before a `clear` (Exotel dropped it)."""
        if self._recording is not None and not self._cleared:
            turn_start = self._bot.start if self._bot is not None else 0.0
            self._recording.add_bot(frame.audio, frame.sample_rate, now, turn_start)

    def _bot_stops(self, now: float) -> None:
        if self._bot is not None:
            self._close_bot(now)

    def _close_bot(self, now: float) -> None:
        turn, self._bot = self._bot, None
        if turn.end is None:
            turn.end = now
        self._log_turn(turn)

    def _interrupted(self, now: float) -> None:
        self._bot_text.clear()  # sentences the bot will now never say
        turn = self._bot
        if turn is None or turn.interrupted:
            return
        turn.interrupted = True
        turn.end = now
        self._cleared = True  # until the next bot turn, audio still arriving was dropped
        if self._recording is not None:
            self._recording.cut_bot(now)

    def _bot_says(self, text: str) -> None:
        if self._bot is not None:
            self._bot.pieces.append(text)
        else:
            self._bot_text.append(text)

    def _metrics(self, frame: MetricsFrame, source, now: float) -> None:
        for item in frame.data:
            if isinstance(item, TTFBMetricsData) and item.value > 0:
                self._ttfb(source, item.value, now)
            elif isinstance(item, LLMUsageMetricsData):
                self._usage["llm_prompt_tokens"] += item.value.prompt_tokens
                self._usage["llm_completion_tokens"] += item.value.completion_tokens
            elif isinstance(item, TTSUsageMetricsData):
                self._usage["tts_characters"] += item.value
            elif isinstance(item, STTUsageMetricsData):
                self._usage["stt_audio_secs"] += item.value.audio_seconds

    def _ttfb(self, source, value: float, now: float) -> None:
        if isinstance(source, STTService):
            turn = self._caller or self._reply or self._last("caller")
            if turn is not None and turn.stt is None:
                turn.stt = value
                bot = self._answer_to(turn)  # pipecat may report it after the reply began
                if bot is not None and bot.latency is not None:
                    bot.latency["stt_ttfb"] = round_secs(value)
        elif isinstance(source, LLMService):
            self._llm_firsts.append(FirstByte(now, value))
        elif isinstance(source, TTSService):
            self._tts_firsts.append(FirstByte(now, value))

    def _answer_to(self, caller: Turn) -> Turn | None:
        return next((t for t in self.turns if t.reply_to == caller.index), None)

    def _exotel_message(self, message: Any) -> None:
        if isinstance(message, dict) and message.get("event") == "stop":
            stop = message.get("stop") if isinstance(message.get("stop"), dict) else {}
            self._infer_end(_STOP, CALLER_HUNG_UP, str(stop.get("reason") or "stop"))

    def _event(self, now: float, kind: str, detail: str) -> None:
        self._events.append({"at": round_secs(now), "kind": kind, "detail": detail})

    def _error(self, now: float, frame: ErrorFrame) -> None:
        source = frame.processor.name if frame.processor is not None else ""
        self._errors.append(
            {
                "at": round_secs(now),
                "source": source,
                "error": str(frame.error)[:500],
                "fatal": frame.fatal,
            }
        )
        if frame.fatal:
            self._infer_end(_FAILURE, ERROR, str(frame.error)[:200])

    # --- Logs -------------------------------------------------------------------------------

    def _log_turn(self, turn: Turn) -> None:
        """One structured line per bot turn, for log-based dashboards."""
        fields = {
            "turn": turn.index,
            "reply_to": turn.reply_to,
            "start": round_secs(turn.start),
            "duration": round_secs((turn.end or turn.start) - turn.start),
            "interrupted": turn.interrupted,
            "latency": turn.latency,
        }
        logger.info(f"call_turn {json.dumps(fields)}")

    def _log_end(self, record: dict[str, Any]) -> None:
        replies = [t["latency"]["total"] for t in record["turns"] if t.get("reply_to") is not None]
        fields = {
            "duration": record["duration_secs"],
            "end_reason": record["end"]["reason"],
            "end_detail": record["end"]["detail"],
            "turns": len(record["turns"]),
            "replies": len(replies),
            "latency_p50": round_secs(float(np.percentile(replies, 50))) if replies else None,
            "latency_max": round_secs(max(replies)) if replies else None,
            "greeting_latency": record["greeting_latency_secs"],
            "errors": len(record["errors"]),
            **record["usage"],
        }
        logger.info(f"call_end {json.dumps(fields)}")

    # --- The record -------------------------------------------------------------------------

    def record(self) -> dict[str, Any]:
        """The call's record as a JSON-ready dict (open turns are closed at the end time)."""
        end = self._ended_at if self._ended_at is not None else time.monotonic() - self._t0
        for turn in self.turns:
            if turn.end is None:
                turn.end = end
        _, reason, detail = self._end
        call = self.call
        params = call.custom_parameters
        return {
            "version": RECORD_VERSION,
            "call_sid": call.call_sid,
            "stream_sid": call.stream_sid,
            "account_sid": call.account_sid,
            "from": call.from_number,
            "to": call.to_number,
            # Exotel's start message does not say: calls the bot dialled out are marked so.
            "direction": getattr(call, "direction", None) or params.get("direction", "inbound"),
            "custom_parameters": params,
            "sample_rate": call.sample_rate,
            "started_at": self._started_at.isoformat(timespec="milliseconds"),
            "ended_at": _iso(self._started_at.timestamp() + end),
            "duration_secs": round_secs(end),
            "end": {"reason": reason, "detail": detail},
            "greeting_latency_secs": self._greeting_latency,
            "turns": [t.to_dict() for t in self.turns],
            "usage": {
                k: round_secs(v) if isinstance(v, float) else v for k, v in self._usage.items()
            },
            "events": self._events,
            "errors": self._errors,
            "recording": None,
        }

    def _finish(self) -> None:
        self._ended_at = time.monotonic() - self._t0
        if self._bot is not None:
            self._close_bot(self._ended_at)

    async def run_and_save(self, call: Awaitable[Any]) -> Any:
        """Run the call (e.g. `runner.run()`), then save its record whatever happened."""
        try:
            return await call
        except BaseException as e:
            if not isinstance(e, asyncio.CancelledError):
                self._infer_end(_FAILURE, ERROR, f"{e.__class__.__name__}: {e}"[:200])
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
            self._log_end(record)
            if self._sink is None:
                return  # CALL_RECORDS_DIR is empty: the log lines above are all we keep
            recording = self._recording
            if recording is not None:
                record["recording"] = {
                    "file": "recording.wav",
                    "sample_rate": recording.rate,
                    "channels": ["caller", "bot"],
                }
            write = asyncio.to_thread(_write, self._sink, record, recording)
            where = await asyncio.wait_for(asyncio.shield(write), WRITE_TIMEOUT_SECS)
            logger.info(f"Call record written to {where}")
        except TimeoutError:  # the same class from Python 3.11 on
            logger.error(f"Writing the call record took over {WRITE_TIMEOUT_SECS:.0f} s; gave up")
        except Exception as e:
            logger.error(f"Could not write the call record: {e.__class__.__name__}: {e}")


def _write(sink: RecordSink, record: dict[str, Any], recording: StereoRecording | None) -> str:
    wav = recording.to_wav(record["duration_secs"]) if recording is not None else None
    return sink.write(record, wav)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")
