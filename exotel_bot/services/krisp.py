"""Krisp VIVA noise filtering of the caller's audio, where the running image provides it.

Pipecat Cloud's base image ships Krisp's SDK (`krisp_audio`, not on PyPI) and, with
`[krisp_viva] audio_filter = "tel"` in pcc-deploy.toml, the telephony voice-isolation model
(its path in `KRISP_VIVA_FILTER_MODEL_PATH`). There the transport runs pipecat's
`KrispVivaFilter` on caller audio before the VAD and the STT hear it: fewer false barge-ins
from street noise and background voices. Anywhere else (a laptop, CI) the SDK is absent: the
bot says so once in its log and runs without a filter, exactly as before.

Source: docs.pipecat.ai, "Krisp VIVA" guide for Pipecat Cloud (base image >= 0.1.8).
"""

from __future__ import annotations

import importlib.util
from functools import cache

from loguru import logger
from pipecat.audio.filters.base_audio_filter import BaseAudioFilter


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


_failed_once = False


def krisp_filter() -> BaseAudioFilter | None:
    """A new `KrispVivaFilter` for one call's input audio, or None where Krisp is unavailable.

    Each call gets its own filter (it keeps per-stream state). A filter that cannot start
    (no model path, no licence) is logged once and the call runs unfiltered.
    """
    global _failed_once
    if not krisp_available():
        return None
    try:
        from pipecat.audio.filters.krisp_viva_filter import KrispVivaFilter

        return KrispVivaFilter()
    except Exception as e:  # any SDK or model problem must not cost the call
        if not _failed_once:
            _failed_once = True
            logger.warning(f"Krisp noise filter could not start ({e}); running without it")
        return None
