"""An answering machine's beep, heard in the call's audio.

A voicemail beep is one steady tone, typically 400-2000 Hz, for a few hundred milliseconds.
Speech is not: its energy spreads over many harmonics and its pitch moves. So the detector
cuts the audio into 20 ms blocks, finds each block's strongest frequency with an FFT
(Hann window), and calls a block "tone" when that peak (+/- 100 Hz) holds most of the
block's energy, is loud enough, lies in the band, and stays within 60 Hz of the previous
block's. `min_secs` of consecutive tone blocks, then a block that is not, is a beep.

    detector = BeepDetector(sample_rate=8000)
    if detector.feed(pcm16_bytes):  # True once, when a beep has just ended
        ...
"""

from __future__ import annotations

import numpy as np

BLOCK_SECS = 0.02
BAND_HZ = (400.0, 2000.0)
PEAK_WIDTH_HZ = 100.0  # the Hann window's main lobe over 20 ms is +/- 100 Hz
TONE_SHARE = 0.8  # of the block's energy (100 Hz and up) within the peak
MIN_LEVEL_DBFS = -40.0
MAX_DRIFT_HZ = 60.0


class BeepDetector:
    """Feed 16-bit mono PCM in any chunk size; `feed` is True when a beep has just ended."""

    def __init__(self, sample_rate: int, *, min_secs: float = 0.2):
        self.sample_rate = sample_rate
        self._block = int(sample_rate * BLOCK_SECS)
        self._min_blocks = max(1, round(min_secs / BLOCK_SECS))
        self._pending = np.zeros(0, dtype=np.float32)
        self._window = np.hanning(self._block).astype(np.float32)
        n_fft = 4 * self._block  # zero padding: a finer grid for the peak, same resolution
        self._freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
        self._n_fft = n_fft
        self._run = 0  # consecutive tone blocks
        self._last_peak: float | None = None
        self.beeps = 0  # beeps heard so far
        self.last_tone_hz: float | None = None  # the frequency of the last beep

    def feed(self, pcm: bytes) -> bool:
        samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float32)
        self._pending = np.concatenate([self._pending, samples / 32768.0])
        ended = False
        while len(self._pending) >= self._block:
            block, self._pending = self._pending[: self._block], self._pending[self._block :]
            ended = self._step(self._tone(block)) or ended
        return ended

    def _tone(self, block: np.ndarray) -> float | None:
        """The block's tone frequency, or None if the block is not a steady tone."""
        rms = float(np.sqrt(np.mean(block**2)))
        if rms <= 0 or 20 * np.log10(rms) < MIN_LEVEL_DBFS:
            return None
        power = np.abs(np.fft.rfft(block * self._window, self._n_fft)) ** 2
        audible = self._freqs >= 100.0
        total = float(power[audible].sum())
        peak = int(np.argmax(np.where(audible, power, 0.0)))
        peak_hz = float(self._freqs[peak])
        if not BAND_HZ[0] <= peak_hz <= BAND_HZ[1] or total <= 0:
            return None
        near = np.abs(self._freqs - peak_hz) <= PEAK_WIDTH_HZ
        if float(power[near].sum()) / total < TONE_SHARE:
            return None
        return peak_hz

    def _step(self, tone_hz: float | None) -> bool:
        steady = (
            tone_hz is not None
            and self._last_peak is not None
            and abs(tone_hz - self._last_peak) <= MAX_DRIFT_HZ
        )
        if tone_hz is not None and (self._run == 0 or steady):
            self._run += 1
            self._last_peak = tone_hz
            return False
        beep = self._run >= self._min_blocks
        if beep:
            self.beeps += 1
            self.last_tone_hz = self._last_peak
        self._run = 1 if tone_hz is not None else 0
        self._last_peak = tone_hz
        return beep

    @property
    def in_tone(self) -> bool:
        """A tone long enough to be a beep is sounding right now."""
        return self._run >= self._min_blocks
