"""Audio helpers for the simulated caller: load, resample, measure and write 16-bit mono PCM.

Everything is numpy on whole arrays: a benchmark runs a hundred simulated calls in one
process, so no per-sample Python loops.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

FIXTURES_DIR = Path(__file__).parent / "fixtures"
FIXTURE_RATES = (8000, 16000)

# Speech is "voiced" when a frame's RMS is above this level (dBFS), or 10 dB above the file's
# own noise floor (capped at -30 dBFS) when that is higher: a hissy recording must not count
# as one long word.
VOICED_THRESHOLD_DB = -45.0
NOISE_MARGIN_DB = 10.0
MAX_THRESHOLD_DB = -30.0
FRAME_MS = 20


def load_wav(path: str | Path, rate: int) -> np.ndarray:
    """A WAV file as int16 mono samples at `rate` (channels averaged, resampled with soxr)."""
    data, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    mono = data.mean(axis=1)
    if file_rate != rate:
        mono = soxr.resample(mono, file_rate, rate)
    return to_int16(mono)


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] as int16, clipped rather than wrapped."""
    return np.clip(np.round(samples * 32767.0), -32768, 32767).astype(np.int16)


def write_wav(path: str | Path, samples: np.ndarray, rate: int) -> Path:
    """Write int16 samples (1-D mono, or 2-D frames x channels) as 16-bit PCM; makes parent dirs."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.asarray(samples, dtype=np.int16), rate, subtype="PCM_16")
    return path


def rms_frames(samples: np.ndarray, rate: int, frame_ms: int = FRAME_MS) -> np.ndarray:
    """RMS level of each whole `frame_ms` frame, in dBFS (digital silence is -120)."""
    frame = max(1, rate * frame_ms // 1000)
    count = len(samples) // frame
    if count == 0:
        return np.zeros(0, dtype=np.float32)
    frames = samples[: count * frame].astype(np.float32).reshape(count, frame) / 32768.0
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    return (20.0 * np.log10(np.maximum(rms, 1e-6))).astype(np.float32)


def voiced_span(
    samples: np.ndarray,
    rate: int,
    threshold_db: float = VOICED_THRESHOLD_DB,
    frame_ms: int = FRAME_MS,
) -> tuple[float, float] | None:
    """(start, end) in seconds of the speech: first voiced frame's start, last one's end.

    The end is where the caller stops talking, not the end of the file: fixtures and real
    recordings carry trailing silence that must not count towards the bot's reply latency.
    None when nothing in the clip is loud enough to be speech.
    """
    levels = rms_frames(samples, rate, frame_ms)
    if levels.size == 0:
        return None
    noise_floor = float(np.percentile(levels, 10))
    threshold = max(threshold_db, min(noise_floor + NOISE_MARGIN_DB, MAX_THRESHOLD_DB))
    voiced = np.flatnonzero(levels > threshold)
    if voiced.size == 0:
        return None
    seconds_per_frame = frame_ms / 1000
    return float(voiced[0] * seconds_per_frame), float((voiced[-1] + 1) * seconds_per_frame)


def fixture_names() -> list[str]:
    """Names of the bundled speech fixtures (e.g. "order_status")."""
    return sorted({p.name.rsplit("_", 1)[0] for p in FIXTURES_DIR.glob("*_8k.wav")})


def fixture(name: str, rate: int = 8000) -> Path:
    """Path of a bundled fixture, at `rate` when generated for it, else the 16 kHz one.

    `load_wav` resamples, so a 24 kHz stream can use the 16 kHz file.
    """
    nearest = rate if rate in FIXTURE_RATES else max(FIXTURE_RATES)
    path = FIXTURES_DIR / f"{name}_{nearest // 1000}k.wav"
    if not path.exists():
        known = ", ".join(fixture_names()) or "none (run simulator/fixtures/make_fixtures.sh)"
        raise FileNotFoundError(f"no fixture named {name!r}; known fixtures: {known}")
    return path


def resolve_audio(name_or_path: str | Path, rate: int = 8000) -> Path:
    """A WAV path as given, or a fixture's path when given a bare fixture name."""
    path = Path(name_or_path)
    if path.exists():
        return path
    if path.suffix == "" and path.parent == Path("."):
        return fixture(str(path), rate)
    raise FileNotFoundError(f"audio file not found: {path}")
