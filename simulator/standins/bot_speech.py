"""What the TTS stand-ins spoke lately, so the STT stand-in can hear the bot's own voice.

A real Deepgram transcribes whatever voice dominates the audio it gets. When the bot's voice
comes back in the caller's audio (echo, or a line that mixes both tracks), Deepgram writes
the bot's own words. The STT stand-in does the same: `BotSpeech.echo_words()` looks for the
start of an utterance's audio inside the audio the TTS stand-ins recently produced (normalized
cross-correlation; delay, level and mu-law do not hide it) and, when it is found, returns the
words the bot was speaking from there. A caller talking over the echo is louder than it, the
match is weak, and the utterance is the caller's.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np

MEMORY_SECS = 30.0
# A correlation this strong means the utterance is the bot's voice (0-1).
ECHO_CORRELATION = 0.6


class BotSpeech:
    """The recent (time, sample rate, PCM16, text) produced by the TTS stand-ins."""

    def __init__(self) -> None:
        self._spoken: deque[tuple[float, int, np.ndarray, str]] = deque()
        self._lock = threading.Lock()

    def add(self, sample_rate: int, pcm: bytes, text: str) -> None:
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
        now = time.monotonic()
        with self._lock:
            self._spoken.append((now, sample_rate, samples, text))
            while self._spoken and self._spoken[0][0] < now - MEMORY_SECS:
                self._spoken.popleft()

    def reset(self) -> None:
        with self._lock:
            self._spoken.clear()

    def recent(self) -> bool:
        with self._lock:
            return bool(self._spoken) and self._spoken[-1][0] > time.monotonic() - MEMORY_SECS

    def echo_words(self, audio: np.ndarray, sample_rate: int) -> str | None:
        """The bot's words that `audio` (the start of an utterance) repeats, or None."""
        x = audio.astype(np.float64)
        x -= x.mean()
        energy = float(np.dot(x, x))
        if len(x) < sample_rate // 20 or energy <= 0:
            return None
        with self._lock:
            spoken = list(self._spoken)
        for _, rate, samples, text in reversed(spoken):
            if rate != sample_rate:
                n = round(len(samples) * sample_rate / rate)
                samples = np.interp(
                    np.arange(n) * rate / sample_rate, np.arange(len(samples)), samples
                )
            if len(samples) < len(x):
                continue
            position = _best_match(samples, x, energy)
            if position is not None:
                words = text.split()
                first = min(len(words) - 1, int(len(words) * position / len(samples)))
                return " ".join(words[max(0, first) :])
        return None


def _best_match(b: np.ndarray, x: np.ndarray, x_energy: float) -> int | None:
    """Where in `b` the signal `x` best matches, if the normalized correlation is strong."""
    size = 1 << int(np.ceil(np.log2(len(b) + len(x))))
    corr = np.fft.irfft(np.fft.rfft(b, size) * np.conj(np.fft.rfft(x, size)), size)[
        : len(b) - len(x) + 1
    ]
    power = np.concatenate([[0.0], np.cumsum(b * b)])
    window = power[len(x) :] - power[: len(b) - len(x) + 1]
    ncc = corr / np.sqrt(np.maximum(window, 1e-9) * x_energy)
    best = int(np.argmax(ncc))
    return best if ncc[best] >= ECHO_CORRELATION else None
