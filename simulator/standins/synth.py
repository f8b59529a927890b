"""A cheap, deterministic, speech-like signal for the TTS stand-in.

Silence would hide bugs (a VAD, an energy meter or a human listening to a recording
could not tell audio from none), so the stand-in speaks a buzzy vowel-like tone that
rises and falls at a syllable rate.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

PEAK_DBFS = -10.0
F0_HZ = 180.0
SYLLABLE_HZ = 4.0
LOOP_SECONDS = 10  # whole periods of the 4 Hz envelope and the 0.7 Hz pitch wobble


@lru_cache(maxsize=8)
def _loop(sample_rate: int) -> np.ndarray:
    """Ten seconds of signal per sample rate, computed once and then sliced."""
    n = sample_rate * LOOP_SECONDS
    t = np.arange(n, dtype=np.float64) / sample_rate
    f0 = F0_HZ * (1.0 + 0.04 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    voiced = (
        np.sin(phase) + 0.6 * np.sin(2 * phase) + 0.35 * np.sin(3 * phase) + 0.2 * np.sin(4 * phase)
    )
    envelope = (0.5 - 0.5 * np.cos(2 * np.pi * SYLLABLE_HZ * t)) ** 1.5
    wave = voiced * (0.08 + 0.92 * envelope)
    peak = 32767 * 10 ** (PEAK_DBFS / 20)
    wave *= peak / np.max(np.abs(wave))
    samples = wave.astype(np.int16)
    samples.flags.writeable = False
    return samples


def speech_pcm(sample_rate: int, n_samples: int) -> bytes:
    """``n_samples`` of 16-bit little-endian mono speech-like audio, faded at the end."""
    if n_samples <= 0:
        return b""
    loop = _loop(sample_rate)
    reps = -(-n_samples // len(loop))
    samples = np.tile(loop, reps)[:n_samples] if reps > 1 else loop[:n_samples].copy()
    fade = min(n_samples, sample_rate // 200)  # 5 ms, so the cut does not click
    if fade:
        samples[-fade:] = (samples[-fade:] * np.linspace(1.0, 0.0, fade)).astype(np.int16)
    return samples.astype("<i2", copy=False).tobytes()
