"""Where a reply's time goes, seen from inside the server: one log line per bot turn.

`TurnTimings` is a pipecat observer the benchmark server adds to every call's worker. When the
bot starts speaking it logs `BENCH_TIMING {json}` with the wall-clock time (time.time()) of
each step that led there: the caller going quiet (our bot asks the STT to finalize then), VAD
stop, final transcript, turn decision, LLM request and first
token, TTS request and first audio, bot audio out. The benchmark lines these up with the
simulated caller's own clock to split each reply into its parts.

Benchmark-only: the product's per-call records are a separate thing.
"""

from __future__ import annotations

import json
import re
import time

from loguru import logger
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    LLMContextFrame,
    LLMTextFrame,
    MetricsFrame,
    StartFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.metrics.metrics import TTFBMetricsData
from pipecat.observers.base_observer import BaseObserver, FramePushed

from exotel_bot.frames import UserWentQuietFrame

LOG_PREFIX = "BENCH_TIMING "
# Which kind of service reported a metric: "DeepgramSTTService#0" -> STT.
_SERVICE = re.compile(r"(STT|LLM|TTS)Service")

_TIMED = (
    StartFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
    UserWentQuietFrame,
    TranscriptionFrame,
    UserStoppedSpeakingFrame,
    LLMContextFrame,
    LLMTextFrame,
    MetricsFrame,
    TTSAudioRawFrame,
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
)


class TurnTimings(BaseObserver):
    """Times each bot turn (greeting or reply) from the frames that produced it."""

    def __init__(self, **kwargs):
        super().__init__(observe_every_push=False, **kwargs)  # each frame once is enough
        self._started: float | None = None
        self._turns = 0
        self._cycle: dict = {}
        self._bot_speaking = False

    async def on_push_frame(self, data: FramePushed):
        frame = data.frame
        if not isinstance(frame, _TIMED):
            return
        # The push happened `lag` ago on the pipeline clock; observers run a little later.
        lag = (data.source.get_clock().get_time() - data.timestamp) / 1e9
        at = time.time() - max(0.0, lag)
        cycle = self._cycle

        if isinstance(frame, StartFrame):
            self._started = self._started or at
        elif isinstance(frame, VADUserStartedSpeakingFrame):
            self._cycle = {}  # the caller speaks (again): time from the next stop
        elif isinstance(frame, UserWentQuietFrame):
            if "vad_stop" not in cycle:
                cycle["quiet"] = at  # the last time before the VAD stop (pauses come first)
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            cycle.setdefault("vad_stop", at)
        elif isinstance(frame, TranscriptionFrame):
            cycle["final"] = at
        elif isinstance(frame, UserStoppedSpeakingFrame):
            cycle.setdefault("turn", at)
        elif isinstance(frame, LLMContextFrame):
            cycle.setdefault("llm_requests", []).append(at)
            if getattr(frame, "speculation", False):
                cycle["speculative"] = cycle.get("speculative", 0) + 1
        elif isinstance(frame, LLMTextFrame):
            cycle.setdefault("llm_text", at)
        elif isinstance(frame, MetricsFrame):
            self._metrics(frame, at)
        elif isinstance(frame, TTSAudioRawFrame):
            cycle.setdefault("tts_audio", at)
        elif isinstance(frame, BotStartedSpeakingFrame):
            if not self._bot_speaking:
                self._bot_speaking = True
                self._emit(at)
        elif isinstance(frame, BotStoppedSpeakingFrame):
            self._bot_speaking = False

    def _metrics(self, frame: MetricsFrame, at: float) -> None:
        for data in frame.data:
            if not isinstance(data, TTFBMetricsData) or not data.value:
                continue
            service = _SERVICE.search(data.processor)
            kind = service.group(1) if service else None
            if kind == "STT":
                self._cycle["stt_ttfb"] = data.value
            elif kind == "LLM":
                self._cycle["llm_ttfb"] = data.value
                self._cycle["llm_first_token"] = at
            elif kind == "TTS":
                self._cycle.setdefault("tts_ttfb", data.value)
                self._cycle.setdefault("tts_first_byte", at)

    def _emit(self, at: float) -> None:
        cycle, self._cycle = self._cycle, {}
        kind = "reply" if "turn" in cycle else "greeting" if self._turns == 0 else "other"
        self._turns += 1
        record = {"kind": kind, "started": self._started, "bot_started": at, **cycle}
        logger.info(LOG_PREFIX + json.dumps(record))


def parse_timings(log_text: str) -> dict[str, list[dict]]:
    """The BENCH_TIMING records in a server log, grouped by the call id on each line."""
    calls: dict[str, list[dict]] = {}
    for line in log_text.splitlines():
        head, sep, payload = line.partition(LOG_PREFIX)
        if not sep:
            continue
        parts = [p.strip() for p in head.split("|")]
        call_id = parts[2] if len(parts) > 2 else "-"
        try:
            calls.setdefault(call_id, []).append(json.loads(payload))
        except ValueError:
            continue
    return calls
