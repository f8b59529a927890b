"""One mutable settings object shared by the three stand-ins.

Tests flip these fields from another thread between calls, so every handler reads
them at the moment it needs them instead of copying them at connection time.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any

STT_FAIL_MODES = (None, "drop_after_first_final", "drop_mid_utterance", "reject")
LLM_FAIL_MODES = (None, "500", "429", "hang")
TTS_FAIL_MODES = (None, "error", "close")


@dataclass
class SttConfig:
    """Deepgram stand-in behaviour: the transcript script, timing and faults."""

    transcripts: list[str] = field(default_factory=list)
    default_transcript: str = "I would like to know the status of my order."
    final_delay: float = 0.0
    interim_interval: float = 0.3
    endpointing_ms: int = 300
    endpointing_finals: bool = True
    energy_threshold_dbfs: float = -40.0
    min_speech_ms: int = 60
    words_per_second: float = 3.0
    max_audio_seconds: float = 600.0
    fail_mode: str | None = None
    fail_count: int = 0
    # drop_mid_utterance: close with 1011 (Deepgram's internal error) once an utterance has
    # been loud this long; the connection that follows waits reconnect_delay s to be accepted.
    drop_after_ms: int = 400
    reconnect_delay: float = 0.0


@dataclass
class LlmConfig:
    """OpenAI stand-in behaviour: reply rules, streaming pace and faults."""

    rules: list[dict[str, Any]] = field(default_factory=list)
    default_reply: str = "You said: {user}. How else can I help?"
    greeting_reply: str = "Hello! How can I help you today?"
    after_tool_reply: str = "Okay."
    first_token_delay: float = 0.0
    token_interval: float = 0.0
    words_per_chunk: int = 3
    models: list[str] = field(default_factory=lambda: ["gpt-4o-mini", "gpt-4o", "gpt-4.1"])
    hang_max_seconds: float = 120.0
    fail_mode: str | None = None
    fail_count: int = 0
    # Structured-output requests (a call's outcome): a scripted answer (it must fit the
    # request's schema, as OpenAI's would), else one filled by rules from the transcript;
    # structured_fail_mode ("500", "429", "hang") fails every such request.
    structured_answer: dict[str, Any] | None = None
    structured_fail_mode: str | None = None


@dataclass
class TtsConfig:
    """Cartesia stand-in behaviour: how much audio, how fast, and faults."""

    first_byte_delay: float = 0.0
    chunk_ms: int = 40
    realtime_factor: float | None = None
    ms_per_char: float = 55.0
    min_ms: float = 200.0
    send_timestamps: bool = True
    # "tone": a speech-like buzz (cheap, deterministic: tests and benchmarks); "espeak": real
    # words from espeak-ng (the keyless demo), falling back to the tone where it cannot load.
    voice: str = "tone"
    fail_mode: str | None = None
    fail_count: int = 0


_SECTIONS = {"stt": SttConfig, "llm": LlmConfig, "tts": TtsConfig}
_FAIL_MODES = {"stt": STT_FAIL_MODES, "llm": LLM_FAIL_MODES, "tts": TTS_FAIL_MODES}


@dataclass
class StandInConfig:
    """All three sections, plus the lock that makes script and fault counters atomic."""

    stt: SttConfig = field(default_factory=SttConfig)
    llm: LlmConfig = field(default_factory=LlmConfig)
    tts: TtsConfig = field(default_factory=TtsConfig)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def reset(self) -> None:
        """Restore defaults in place so references to the sections stay valid."""
        with self._lock:
            for name, cls in _SECTIONS.items():
                section, defaults = getattr(self, name), cls()
                for f in fields(defaults):
                    setattr(section, f.name, getattr(defaults, f.name))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready copy of every section."""
        with self._lock:
            return {name: asdict(getattr(self, name)) for name in _SECTIONS}

    def apply_patch(self, patch: dict[str, Any]) -> None:
        """Set fields from ``{"stt": {"final_delay": 0.2}, ...}``; unknown names raise."""
        checked: list[tuple[object, str, Any]] = []
        for name, values in patch.items():
            if name not in _SECTIONS or not isinstance(values, dict):
                raise ValueError(f"unknown config section: {name!r}")
            section = getattr(self, name)
            known = {f.name for f in fields(section)}
            for key, value in values.items():
                if key not in known:
                    raise ValueError(f"unknown config field: {name}.{key}")
                if key == "fail_mode" and value not in _FAIL_MODES[name]:
                    raise ValueError(f"{name}.fail_mode must be one of {_FAIL_MODES[name]}")
                checked.append((section, key, value))
        with self._lock:
            for section, key, value in checked:
                setattr(section, key, value)

    def take_transcript(self) -> str:
        """Pop the next scripted transcript, shared by every connection, in order."""
        with self._lock:
            if self.stt.transcripts:
                return self.stt.transcripts.pop(0)
            return self.stt.default_transcript

    def should_fail(self, name: str) -> str | None:
        """Return the active fail mode of a section, spending one of its ``fail_count``."""
        with self._lock:
            section = getattr(self, name)
            mode = section.fail_mode
            if mode is None:
                return None
            if section.fail_count > 0:
                section.fail_count -= 1
                if section.fail_count == 0:
                    section.fail_mode = None
            return mode
