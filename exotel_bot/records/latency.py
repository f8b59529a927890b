"""Where a reply's wait went: caller stopped speaking -> first bot audio, split in parts."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from exotel_bot.records.turns import Turn, round_secs


@dataclass(frozen=True)
class FirstByte:
    """A service's first token or audio byte: when it came, and how long after the request."""

    at: float
    ttfb: float


def last_before(firsts: deque[FirstByte], since: float, until: float) -> FirstByte | None:
    """The service's last first byte in [since, until]: the run whose output was spoken."""
    return next((f for f in reversed(firsts) if since <= f.at <= until), None)


def reply_latency(
    asked: Turn, first_audio: float, llm: FirstByte | None, tts: FirstByte | None
) -> dict[str, float | None]:
    """Caller stopped speaking -> first bot audio sent, and what that wait was spent on.

    The parts follow the wait's critical path, from one moment to the next, so they never
    overlap and add up to `total`: the VAD's silence, the final transcript (when it came after
    the VAD), the turn decision, the LLM's first token and the TTS's first byte (each only
    for the time it kept the caller waiting: a speculative LLM run can hide in the turn
    decision), and the rest. The services' own time-to-first-byte figures come alongside.
    """
    # A turn endpointed before its speech was seen to stop (keypad input cut it short) ends
    # where it was endpointed.
    end = asked.end if asked.end is not None else (asked.endpointed_at or first_audio)
    end = min(end, first_audio)
    decided = min(asked.endpointed_at or end, first_audio)
    moments = [end]
    for moment, limit in (
        (asked.vad_stopped_at, decided),
        (asked.transcribed_at, decided),
        (decided, decided),
        (llm.at if llm else None, first_audio),
        (tts.at if tts else None, first_audio),
    ):
        previous = moments[-1]
        moments.append(
            previous if moment is None else min(max(moment, previous), max(limit, previous))
        )
    moments.append(first_audio)
    vad, stt, turn, llm_part, tts_part, other = np.diff(moments).tolist()
    return {
        "total": round_secs(first_audio - end),
        "vad": round_secs(vad),
        "stt": round_secs(stt),
        "turn": round_secs(turn),
        "llm": round_secs(llm_part),
        "tts": round_secs(tts_part),
        "other": round_secs(other),
        "stt_ttfb": round_secs(asked.stt),
        "llm_ttfb": round_secs(llm.ttfb) if llm else None,
        "tts_ttfb": round_secs(tts.ttfb) if tts else None,
    }
