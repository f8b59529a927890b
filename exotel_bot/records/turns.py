"""A call record's turns: who spoke when, and why the bot spoke (its causes: causes.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Turn:
    """One stretch of speech: the caller's (one user turn) or the bot's (one reply)."""

    index: int
    speaker: str  # "caller" or "bot"
    start: float
    end: float | None = None
    text: str = ""
    interrupted: bool = False  # bot: the caller talked over it and it stopped
    barge_in: bool = False  # caller: started while the bot was talking
    endpointed_at: float | None = None  # caller: when the bot decided the turn was over
    reply_to: int | None = None  # bot: the caller turn this answers
    cause: str | None = None  # bot: why it spoke (REPLY, GREETING, "keypad", ...)
    latency: dict[str, float | None] | None = None  # bot: where the wait before it went
    vad_stopped_at: float | None = None  # caller: when the VAD decided the speech had ended
    transcribed_at: float | None = None  # caller: when the last final transcript arrived
    stt: float | None = None  # caller: pipecat's STT time to final transcript
    pieces: list[str] = field(default_factory=list)  # text seen so far, until the final text

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "index": self.index,
            "speaker": self.speaker,
            "start": round_secs(self.start),
            "end": round_secs(self.end),
            "text": self.text or " ".join(self.pieces).strip(),
        }
        if self.speaker == "caller":
            data["barge_in"] = self.barge_in
            data["endpointed_at"] = round_secs(self.endpointed_at)
        else:
            data["interrupted"] = self.interrupted
            data["reply_to"] = self.reply_to
            data["cause"] = self.cause
            data["latency"] = self.latency
        return data


def round_secs(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
