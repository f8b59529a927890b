"""Noise filtering of the caller's audio, before the VAD and the STT hear it: `NOISE_FILTER`.

- `krisp` (the default): Krisp VIVA, where the running image provides it. Pipecat Cloud's base
  image ships Krisp's SDK (`krisp_audio`, not on PyPI) and, with `[krisp_viva] audio_filter =
  "tel"` in pcc-deploy.toml, the telephony voice-isolation model (its path in
  `KRISP_VIVA_FILTER_MODEL_PATH`); the transport then runs pipecat's `KrispVivaFilter`.
  Anywhere else (a laptop, CI) the SDK is absent: the bot says so once in its log and runs
  without a filter. Source: docs.pipecat.ai, "Krisp VIVA" guide (base image >= 0.1.8).
- `rnnoise`: pipecat's `RNNoiseFilter` (`pipecat-ai[rnnoise]`, i.e. `pyrnnoise`): no key, its
  weights are compiled into the wheel, nothing is downloaded at run time; for a laptop or a
  VM. It removes steady noise (fans, traffic, hiss), not background voices.
- `none`: the caller's audio as it arrives.

Each call gets its own filter (a filter keeps per-stream state). A filter that cannot start is
logged once and the call runs unfiltered: a noise filter never costs a call.
"""

from __future__ import annotations

import importlib.util
from functools import cache

from loguru import logger
from pipecat.audio.filters.base_audio_filter import BaseAudioFilter

_failed: set[str] = set()


@cache
def krisp_available() -> bool:
    """Whether Krisp's SDK can be imported here (checked once; logged once when it cannot)."""
    if importlib.util.find_spec("krisp_audio") is None:
        logger.info(
            "Krisp noise filter: not available here (no krisp_audio; Pipecat Cloud's image has "
            "it); running without it"
        )
        return False
    return True


def _failed_once(kind: str, error: Exception) -> None:
    if kind not in _failed:
        _failed.add(kind)
        logger.warning(f"{kind} noise filter could not start ({error}); running without it")


def krisp_filter() -> BaseAudioFilter | None:
    """A new `KrispVivaFilter`, or None where Krisp is unavailable or cannot start."""
    if not krisp_available():
        return None
    try:
        from pipecat.audio.filters.krisp_viva_filter import KrispVivaFilter

        return KrispVivaFilter()
    except Exception as e:  # any SDK or model problem must not cost the call
        _failed_once("Krisp", e)
        return None


def rnnoise_filter() -> BaseAudioFilter | None:
    """A new `RNNoiseFilter`, or None if `pyrnnoise` is missing (logged once)."""
    try:
        from pipecat.audio.filters.rnnoise_filter import RNNoiseFilter

        return RNNoiseFilter()
    except Exception as e:  # ImportError without pyrnnoise; anything else from its library
        _failed_once("RNNoise", e)
        return None


def noise_filter(kind: str) -> BaseAudioFilter | None:
    """The caller-audio filter for one call: `kind` is one of settings.NOISE_FILTERS."""
    if kind == "krisp":
        return krisp_filter()
    if kind == "rnnoise":
        return rnnoise_filter()
    return None
