"""The caller's and the bot's audio on the call's timeline: for recordings, and for finding
where the caller's speech really began and ended.

Exotel streams the caller's line without pause (silence included) from its `start` message on,
so the caller's n-th sample is at n / rate seconds into the call. Bot audio is placed where the
transport sent it.
"""

from __future__ import annotations

import io
import wave

import numpy as np

# Where the caller's speech really began and ended: the VAD decides after `start_secs` of
# speech / `stop_secs` of silence, and Silero keeps "hearing" speech for a little while after
# it stops, so look back from the VAD's estimate for the 20 ms frames of audio that were
# louder than the line's noise.
LEVEL_FRAME_SECS = 0.02
LEVEL_HISTORY_SECS = 5.0
SPEECH_LOOKBACK_SECS = 1.0  # the VAD's decision can come late on a busy machine
VOICED_MIN_DBFS = -50.0
VOICED_ABOVE_NOISE_DB = 12.0
HISTORY_FRAMES = round(LEVEL_HISTORY_SECS / LEVEL_FRAME_SECS)
TRIM_FRAMES = 50  # audio kept beyond the history before a trim (1 s)


class CallerLevels:
    """The loudness of the caller's last few seconds, 20 ms at a time, on the call's timeline.

    Only the audio is kept as it arrives (the last LEVEL_HISTORY_SECS and a little more); the
    levels are measured when asked, a few times per caller turn, not for every 100 ms that
    comes in.
    """

    def __init__(self):
        self._audio = bytearray()  # the caller's recent 16-bit samples
        self._start = 0  # the call's sample index of the first one kept (a frame boundary)
        self._rate = 0

    def add(self, audio: bytes, sample_rate: int) -> None:
        if sample_rate != self._rate:  # a new rate: the call's timeline restarts here
            self._audio, self._start, self._rate = bytearray(), 0, sample_rate
        self._audio += audio[: len(audio) // 2 * 2]
        size = self._frame_size
        surplus = len(self._audio) // 2 - (HISTORY_FRAMES + TRIM_FRAMES) * size
        if surplus >= 0:  # trimmed now and then, whole frames at a time
            drop = (surplus // size + TRIM_FRAMES) * size
            del self._audio[: drop * 2]
            self._start += drop

    @property
    def _frame_size(self) -> int:
        return round(self._rate * LEVEL_FRAME_SECS)

    def _levels(self) -> tuple[int, np.ndarray]:
        """(index since the call started of the first frame, dBFS of each whole frame) for
        the last HISTORY_FRAMES frames."""
        size = self._frame_size
        samples = np.frombuffer(self._audio, dtype="<i2")
        count = len(samples) // size
        skip = max(0, count - HISTORY_FRAMES)
        frames = samples[skip * size : count * size].astype(np.float32).reshape(-1, size)
        rms = np.sqrt(np.mean((frames / 32768.0) ** 2, axis=1))
        return self._start // size + skip, 20 * np.log10(np.maximum(rms, 1e-5))

    def _voiced(self, since: float, until: float) -> tuple[int, np.ndarray] | None:
        """(index of the first frame, voiced or not per frame) for frames in [since, until)."""
        if not self._rate:
            return None
        first, levels = self._levels()  # first: index of levels[0] since the call started
        if not len(levels):
            return None
        threshold = max(VOICED_MIN_DBFS, float(np.percentile(levels, 10)) + VOICED_ABOVE_NOISE_DB)
        lo = max(first, int(since / LEVEL_FRAME_SECS))
        hi = min(first + len(levels), int(until / LEVEL_FRAME_SECS))
        if hi <= lo:
            return None
        return lo, levels[lo - first : hi - first] >= threshold

    def speech_start(self, vad_estimate: float, max_pause: float) -> float:
        """Where the speech the VAD reacted to began: the first voiced frame after a pause of
        `max_pause` (a shorter pause does not end speech for the VAD either); its estimate if
        no voiced frame fits."""
        found = self._voiced(vad_estimate - SPEECH_LOOKBACK_SECS, vad_estimate)
        if found is None or not found[1].any():
            return vad_estimate
        lo, voiced = found
        frames = np.flatnonzero(voiced)
        pauses = np.flatnonzero(np.diff(frames) * LEVEL_FRAME_SECS > max_pause)
        first = frames[pauses[-1] + 1] if len(pauses) else frames[0]
        return (lo + int(first)) * LEVEL_FRAME_SECS

    def speech_end(self, vad_estimate: float, decided_at: float) -> float:
        """The end of the last voiced frame before the VAD decided; its estimate if none fits."""
        found = self._voiced(vad_estimate - SPEECH_LOOKBACK_SECS, decided_at)
        if found is None or not found[1].any():
            return vad_estimate
        lo, voiced = found
        end = (lo + int(np.flatnonzero(voiced)[-1]) + 1) * LEVEL_FRAME_SECS
        return min(end, vad_estimate)


class StereoRecording:
    """Caller and bot audio on one timeline, kept in memory until the call ends.

    The caller's audio goes by its sample count. Bot audio goes where it was sent, one chunk
    after the other within a bot turn; an interruption cuts it where Exotel's `clear` did.
    """

    def __init__(self, rate: int):
        self.rate = rate
        self.caller = bytearray()
        self.caller_rate = rate
        self.bot: list[tuple[int, bytes]] = []  # (first sample, 16-bit PCM at `rate`)
        self.bot_end = 0

    def add_caller(self, audio: bytes, sample_rate: int) -> None:
        self.caller_rate = sample_rate
        self.caller += audio

    def add_bot(self, audio: bytes, sample_rate: int, played_at: float, turn_start: float) -> None:
        if sample_rate != self.rate:
            return  # the output transport always sends at the stream's rate
        samples = len(audio) // 2
        # `played_at`: when the caller starts hearing it (wire/playout.py); right after the
        # audio before it unless the caller's playback ran dry in between.
        start = round(max(played_at, turn_start) * self.rate)
        if start < self.bot_end + self.rate // 100:  # within 10 ms: back to back
            start = self.bot_end
        self.bot.append((start, bytes(audio[: samples * 2])))
        self.bot_end = start + samples

    def cut_bot(self, at: float) -> None:
        """Drop bot audio from `at` on: Exotel discards what it had not played yet."""
        cut = round(at * self.rate)
        while self.bot and self.bot[-1][0] >= cut:
            self.bot.pop()
        if self.bot:
            start, audio = self.bot[-1]
            self.bot[-1] = (start, audio[: max(0, cut - start) * 2])
        self.bot_end = min(self.bot_end, cut)

    def to_wav(self, duration: float) -> bytes:
        """A stereo 16-bit WAV: caller left, bot right. Runs in a worker thread."""
        caller = np.frombuffer(bytes(self.caller), dtype="<i2")
        if self.caller_rate != self.rate and len(caller):
            import soxr  # a pipecat dependency

            caller = soxr.resample(caller, self.caller_rate, self.rate)
        length = max(len(caller), self.bot_end, round(duration * self.rate))
        stereo = np.zeros((length, 2), dtype="<i2")
        stereo[: len(caller), 0] = caller
        for start, audio in self.bot:
            samples = np.frombuffer(audio, dtype="<i2")
            stereo[start : start + len(samples), 1] = samples
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as wav:
            wav.setnchannels(2)
            wav.setsampwidth(2)
            wav.setframerate(self.rate)
            wav.writeframes(stereo.tobytes())
        return buffer.getvalue()
