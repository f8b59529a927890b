"""A call's record as written to `record.json`: the call, how it ended, what it used, and when.

`CallRecord` holds what the call recorder learns besides the turns (records/transcript.py):
how the call ended (the strongest evidence wins), token and character usage, keypad presses,
tool calls and other events, and errors. `to_dict()` lays it all out with the turns; the keys
are the record's format (version `RECORD_VERSION`, described in docs/records.md);
`turn_summary()` and `call_summary()` are the fields of the `call_turn` and `call_end` log lines.
Times are seconds from the moment Exotel's `start` message arrived.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from pipecat.metrics.metrics import LLMUsageMetricsData, STTUsageMetricsData, TTSUsageMetricsData

from exotel_bot.causes import CallEnd, Ending, Evidence
from exotel_bot.records.turns import Turn, round_secs
from exotel_bot.wire.handshake import ExotelCall

RECORD_VERSION = 1


class CallRecord:
    """Everything in one call's record but its turns; `started_at` is the call's time zero.

    `ending` is the call's `Ending` (shared with call control, which decides most ends).
    """

    def __init__(self, call: ExotelCall, started_at: datetime, ending: Ending | None = None):
        self.call = call
        self.started_at = started_at
        self.usage = {
            "llm_prompt_tokens": 0,
            "llm_completion_tokens": 0,
            "tts_characters": 0,
            "stt_audio_secs": 0.0,
        }
        self.events: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.ending = ending if ending is not None else Ending()

    # --- What happened ------------------------------------------------------------------------

    def add_usage(self, item: Any) -> None:
        """Count one of pipecat's usage metrics (LLM tokens, TTS characters, STT seconds)."""
        if isinstance(item, LLMUsageMetricsData):
            self.usage["llm_prompt_tokens"] += item.value.prompt_tokens
            self.usage["llm_completion_tokens"] += item.value.completion_tokens
        elif isinstance(item, TTSUsageMetricsData):
            self.usage["tts_characters"] += item.value
        elif isinstance(item, STTUsageMetricsData):
            self.usage["stt_audio_secs"] += item.value.audio_seconds

    def event(self, now: float, kind: str, detail: str) -> None:
        """Something worth a line in the record: "dtmf", "tool_call", "cancelled"."""
        self.events.append({"at": round_secs(now), "kind": kind, "detail": detail})

    def error(self, now: float, source: str, error: Any, fatal: bool) -> None:
        """An error a processor reported; a fatal one ends the call with reason "error"."""
        self.errors.append(
            {
                "at": round_secs(now),
                "source": source,
                "error": str(error)[:500],
                "fatal": fatal,
            }
        )
        if fatal:
            self.ending.note(Evidence.FAILURE, CallEnd.ERROR, str(error)[:200])

    # --- The record ---------------------------------------------------------------------------

    def to_dict(
        self, turns: list[Turn], end: float, greeting_latency: float | None
    ) -> dict[str, Any]:
        """The JSON-ready record; `end` is when the call ended (seconds since it started)."""
        reason, detail = self.ending.reason.value, self.ending.detail
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
            "started_at": self.started_at.isoformat(timespec="milliseconds"),
            "ended_at": _iso(self.started_at.timestamp() + end),
            "duration_secs": round_secs(end),
            "end": {"reason": reason, "detail": detail},
            "greeting_latency_secs": greeting_latency,
            "turns": [t.to_dict() for t in turns],
            "usage": {
                k: round_secs(v) if isinstance(v, float) else v for k, v in self.usage.items()
            },
            "events": self.events,
            "errors": self.errors,
            "recording": None,
        }


def turn_summary(turn: Turn) -> dict[str, Any]:
    """A bot turn in one log line's fields: when, how long, cut off or not, its latency."""
    return {
        "turn": turn.index,
        "reply_to": turn.reply_to,
        "start": round_secs(turn.start),
        "duration": round_secs((turn.end or turn.start) - turn.start),
        "interrupted": turn.interrupted,
        "latency": turn.latency,
    }


def call_summary(record: dict[str, Any]) -> dict[str, Any]:
    """A finished call's record in one log line's fields: length, end, reply latency, usage."""
    replies = [t["latency"]["total"] for t in record["turns"] if t.get("reply_to") is not None]
    return {
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


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")
