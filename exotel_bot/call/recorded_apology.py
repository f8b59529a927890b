"""The pre-rendered apology the caller hears when the TTS itself is down.

One WAV per language and rate in `exotel_bot/assets/` (`tts_down_{language}_{8,16,24}k.wav`,
16-bit mono PCM), made by `python -m exotel_bot.assets.make_fallback_audio`. They must reach
the deployment: the cloud build context keeps them (see `.dockerignore`).
"""

from __future__ import annotations

import wave
from functools import lru_cache
from pathlib import Path

import numpy as np
import soxr

ASSETS = Path(__file__).resolve().parent.parent / "assets"  # exotel_bot/assets


def recorded_apology_path(language: str, sample_rate: int) -> Path:
    return ASSETS / f"tts_down_{language}_{sample_rate // 1000}k.wav"


@lru_cache(maxsize=16)
def recorded_apology(language: str, sample_rate: int) -> bytes:
    """The pre-rendered apology as 16-bit mono PCM at `sample_rate`.

    A language may ship only its 8 kHz rendering (phone quality, a tenth of the size): it is
    resampled (soxr, pipecat's own resampler library). English when the language has none.
    """
    for path in (
        recorded_apology_path(language, sample_rate),
        recorded_apology_path(language, 8000),
        recorded_apology_path("en", sample_rate),
    ):
        if path.exists():
            break
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        if (wav.getnchannels(), wav.getsampwidth()) != (1, 2) or rate not in (8000, sample_rate):
            raise ValueError(f"{path} is not 16-bit mono PCM at 8000 or {sample_rate} Hz")
        pcm = wav.readframes(wav.getnframes())
    if rate == sample_rate:
        return pcm
    samples = soxr.resample(np.frombuffer(pcm, dtype="<i2"), rate, sample_rate)
    return samples.astype("<i2").tobytes()
