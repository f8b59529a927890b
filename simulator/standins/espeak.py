"""Real spoken words for the TTS stand-ins, offline: espeak-ng from the `espeakng-loader` wheel.

The wheel ships espeak-ng's shared library and voices; this module calls its C API through
ctypes (`espeak_Initialize` with synchronous output, a synth callback that collects 16-bit
mono PCM at 22.05 kHz, `espeak_SetVoiceByName`, `espeak_Synth`) and resamples with soxr.
espeak-ng keeps global state, so one lock serialises every synthesis in the process.

`speak(text, sample_rate, voice)` returns 16-bit little-endian mono PCM, or None when the
library cannot be loaded (the stand-ins then fall back to their tone, `synth.speech_pcm`).
"""

from __future__ import annotations

import ctypes
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_ESPEAK_CHARS_UTF8 = 1
_ESPEAK_RATE = 1  # espeak_PARAMETER: words per minute
_WORDS_PER_MINUTE = 165

_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)
_lock = threading.Lock()


class _Engine:
    """The loaded library, its native rate and the buffer the callback fills."""

    def __init__(self) -> None:
        import espeakng_loader  # optional: only the offline stand-ins need it

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.restype = ctypes.c_int
        data_dir = str(Path(espeakng_loader.get_data_path()).parent).encode()
        self.rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 200, data_dir, 0)
        if self.rate <= 0:
            raise OSError(f"espeak_Initialize failed ({self.rate})")
        self.chunks: list[bytes] = []
        self._callback = _CALLBACK(self._collect)  # kept referenced for the library's sake
        self.lib.espeak_SetSynthCallback(self._callback)
        self.lib.espeak_SetParameter(_ESPEAK_RATE, _WORDS_PER_MINUTE, 0)

    def _collect(self, wav, num_samples, _events) -> int:
        if wav and num_samples > 0:
            self.chunks.append(ctypes.string_at(wav, num_samples * 2))
        return 0  # go on synthesising

    def synth(self, text: str, voice: str) -> bytes:
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            self.lib.espeak_SetVoiceByName(b"en")
        self.chunks = []
        encoded = text.encode("utf-8") + b"\0"
        self.lib.espeak_Synth(
            encoded, len(encoded), 0, _POS_CHARACTER, 0, _ESPEAK_CHARS_UTF8, None, None
        )
        return b"".join(self.chunks)


@lru_cache(maxsize=1)
def _engine() -> _Engine | None:
    try:
        return _Engine()
    except (ImportError, OSError, AttributeError):
        return None


def available() -> bool:
    """True when espeak-ng could be loaded from the `espeakng-loader` wheel."""
    with _lock:
        return _engine() is not None


@lru_cache(maxsize=256)
def speak(text: str, sample_rate: int, voice: str = "en") -> bytes | None:
    """`text` spoken by espeak-ng's `voice` (e.g. "en", "hi", "ta"), as PCM16 at `sample_rate`."""
    with _lock:
        engine = _engine()
        if engine is None or not text.strip():
            return None
        pcm = engine.synth(text, voice)
        native_rate = engine.rate
    if not pcm:
        return None
    import soxr  # installed with the dev requirements, like the rest of the simulator

    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    resampled = soxr.resample(samples, native_rate, sample_rate)
    return (np.clip(resampled, -1.0, 1.0) * 32767).astype("<i2").tobytes()
