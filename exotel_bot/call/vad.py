"""The voice-activity model, loaded once per process and shared by every call.

Pipecat's `SileroVADAnalyzer` loads its own ONNX session for every call: about 35 ms of CPU
on the event loop while the caller waits for the greeting, and memory that stays with the call.
An ONNX session keeps no state between runs, so calls can share one; what belongs to a call
(Silero's recurrent state, its audio context, the VAD state machine) stays in `PhoneVAD`,
one per call. `warm_up()` loads and runs the model at startup, so the first call is as quick
as the tenth.

Background noise. Silero calls any voice speech, so a TV or other people talking behind the
caller (babble at -30 dBFS) would keep the VAD "speaking" and the caller's turn open for as
long as the background lasts. `PhoneVAD` therefore also measures the background: the
`BACKGROUND_PERCENTILE`th percentile of the last `BACKGROUND_SECS` of window levels (speech
has gaps between words, where the background shows). A window counts as speech only when it
is louder than that background by its spread plus a margin (`ABOVE_BACKGROUND_DB`: 6 dB over
steady hiss, up to 10 dB over babble). On a quiet line the background
is far below speech and nothing changes; over noise, the caller's own words still stand out
and the turn ends when they end. And no speech runs longer than `MAX_SPEECH_SECS`: sound that
goes on that long without a gap is background, and the VAD takes its level as the new floor.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections import deque
from importlib import resources

import numpy as np
import onnxruntime
from pipecat.audio.utils import exp_smoothing
from pipecat.audio.vad.silero import SileroOnnxModel, SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADAnalyzer, VADParams, VADState
from pipecat.audio.volume import VOLUME_WINDOW_SECS

from exotel_bot.garbage_collection import freeze_startup_objects

# Pipecat resets Silero's state every 2 s of quiet audio, so the quiet windows skipped since the
# last reset are at most about that many; the bound is a safety net.
MAX_SKIPPED_WINDOWS = 256

# A window this quiet (RMS, dB below full scale) is not speech to Silero; see PhoneVAD.
QUIET_WINDOW_DBFS = -50.0
# Audio this quiet (RMS, dBFS) in every window of the volume's 0.4 s is below BS.1770's
# absolute gate (-70 LUFS) even after K-weighting's +4 dB: pipecat's loudness reads 0 there.
SILENT_WINDOW_DBFS = -80.0
_SILENT_POWER = 32768.0**2 * 10 ** (SILENT_WINDOW_DBFS / 10)
# The background level: this percentile of the window levels of the last BACKGROUND_SECS.
BACKGROUND_SECS = 6.0
BACKGROUND_PERCENTILE = 10
# A window is speech only this many dB above the background (never below QUIET_WINDOW_DBFS):
# the background's own spread (median minus floor) plus a margin, within these bounds. Steady
# hiss needs little; babble, which rises and falls, needs more.
ABOVE_BACKGROUND_DB = (6.0, 10.0)
BACKGROUND_SPREAD_MARGIN_DB = 5.0
# Speech without a gap for longer than this is background: its level becomes the floor.
MAX_SPEECH_SECS = 12.0

_lock = threading.Lock()
_silero: onnxruntime.InferenceSession | None = None


def silero_session() -> onnxruntime.InferenceSession:
    """The process's Silero VAD session (pipecat's bundled model), loaded on first use."""
    global _silero
    with _lock:
        if _silero is None:
            options = onnxruntime.SessionOptions()
            options.inter_op_num_threads = 1
            options.intra_op_num_threads = 1
            path = resources.files("pipecat.audio.vad.data").joinpath("silero_vad.onnx")
            _silero = onnxruntime.InferenceSession(
                str(path), providers=["CPUExecutionProvider"], sess_options=options
            )
        return _silero


class _SharedSilero(SileroOnnxModel):
    """Pipecat's Silero wrapper over the shared session, with one call's recurrent state.

    `model(window, rate)` scores one window (float32 in [-1, 1]: 256 samples at 8 kHz, 512 at
    16 kHz) and returns the speech probability as a (1, 1) array, as pipecat's does. It keeps
    Silero's inputs ready between windows (the state, the audio context, the rate tensor)
    instead of validating and rebuilding them each time: a third less work per window, and
    the same numbers (tests/test_models.py compares every decision with pipecat's analyzer).
    """

    def __init__(self, session: onnxruntime.InferenceSession):  # no super(): it loads a session
        self.session = session
        self.sample_rates = [8000, 16000]
        self.reset_states()

    def reset_states(self, batch_size: int = 1):
        """Forget what was heard: zero state and context (pipecat calls this on its resets)."""
        self._rate = 0  # the next window sets up state and context for its rate

    def __call__(self, x: np.ndarray, sr: int) -> np.ndarray:
        if sr != self._rate:
            if sr not in _RATE_TENSORS:
                raise ValueError(f"Silero VAD takes 8000 or 16000 Hz audio, not {sr}")
            self._rate = sr
            self._rnn_state = np.zeros((2, 1, 128), dtype=np.float32)
            self._audio_context = np.zeros((1, _CONTEXT_SAMPLES[sr]), dtype=np.float32)
        window = np.concatenate((self._audio_context, x.reshape(1, -1)), axis=1)
        inputs = {"input": window, "state": self._rnn_state, "sr": _RATE_TENSORS[sr]}
        out, self._rnn_state = self.session.run(None, inputs)
        self._audio_context = window[:, -_CONTEXT_SAMPLES[sr] :]
        return out


# Silero's inputs besides the window: its rate as a tensor, and the samples of context it is
# given from the window before (as pipecat's wrapper and Silero's own do).
_RATE_TENSORS = {rate: np.array(rate, dtype=np.int64) for rate in (8000, 16000)}
_CONTEXT_SAMPLES = {8000: 32, 16000: 64}


class PhoneVAD(SileroVADAnalyzer):
    """Silero VAD for one call: the shared model, pipecat's decisions, less work.

    Same decisions as `SileroVADAnalyzer` (tests/test_models.py checks it on the fixtures),
    with three savings:

    - it runs inline: one 32 ms window costs about 0.2 ms, less than handing it to a thread;
    - it skips the model on quiet audio. Pipecat calls a window speech only when the model is
      confident *and* the smoothed volume reaches `min_volume`, so while the caller is silent
      and the volume is below that, the model's verdict cannot matter (most of a phone call:
      the caller listens while the bot talks). Skipped windows count as silence for pipecat's
      periodic model reset, which keeps the model's state in step;
    - it skips measuring the loudness of 0.4 s of digital silence (every window below
      SILENT_WINDOW_DBFS: a muted or silence-suppressed line), which pipecat measures as 0.
    """

    def __init__(
        self,
        *,
        sample_rate: int | None = None,
        params: VADParams | None = None,
        background_gate: bool = True,
    ):
        """`background_gate=False` decides exactly as pipecat's `SileroVADAnalyzer` does."""
        VADAnalyzer.__init__(self, sample_rate=sample_rate, params=params)
        self._background_gate = background_gate
        self._model = _SharedSilero(silero_session())
        self._windows_since_reset = 0
        self._low_confidence_windows = 0
        self._window_volume = 0.0
        self._recent_powers: deque[float] = deque()  # mean squares of the windows in 0.4 s
        self._skipped: deque[bytes] = deque(maxlen=MAX_SKIPPED_WINDOWS)
        self.skipped_windows = 0
        self._levels: deque[float] = deque()  # dBFS of the recent windows (BACKGROUND_SECS)
        self._sorted_levels: list[float] = []  # the same levels, in order of loudness
        self._floor_db = QUIET_WINDOW_DBFS  # the level of the background, dBFS
        self._above_db = ABOVE_BACKGROUND_DB[1]  # how far above it speech must be, dB
        self._speech_windows = 0  # windows of speech in a row
        self.background_windows = 0  # loud windows not counted as speech (over the background)

    @property
    def state(self) -> VADState:
        """Where the caller is, as of the last audio analyzed: QUIET, STARTING, SPEAKING, or
        STOPPING (silent after speech, inside the stop window)."""
        return self._vad_state

    def set_params(self, params: VADParams):
        super().set_params(params)
        self._usual_stop_frames = self._vad_stop_frames  # what stop_sooner() departs from
        # The windows that cover the volume's 0.4 s (the rate is known by now).
        covering = math.ceil(VOLUME_WINDOW_SECS * self.sample_rate / self._vad_frames)
        self._recent_powers = deque(maxlen=covering)

    async def analyze_audio(self, buffer: bytes) -> VADState:
        state = self._run_analyzer(buffer)
        if state in (VADState.QUIET, VADState.SPEAKING):
            self._vad_stop_frames = self._usual_stop_frames
        return state

    def stop_sooner(self, stop_secs: float) -> None:
        """For the current pause only, call the speech over after `stop_secs` of silence
        (instead of `params.stop_secs`). The audio analyzed next decides; speech resuming, or
        the stop, restores the usual window. Used when the words already say the caller is
        done (exotel_bot/call/turns.py)."""
        windows = max(1, round(stop_secs * self.sample_rate / self._vad_frames))
        self._vad_stop_frames = min(self._vad_stop_frames, windows)

    @property
    def background_dbfs(self) -> float:
        """The background level the caller's speech must rise above, dBFS."""
        return self._floor_db

    def _track_background(self, level: float) -> None:
        """Keep the last BACKGROUND_SECS of window levels and the floor they make.

        The levels are also kept sorted (an insert and a removal per window), so the floor and
        the median are read off directly instead of sorting 6 s of levels every 32 ms."""
        windows = max(1, round(BACKGROUND_SECS * self.sample_rate / self._vad_frames))
        self._levels.append(level)
        bisect.insort(self._sorted_levels, level)
        while len(self._levels) > windows:
            oldest = self._levels.popleft()
            del self._sorted_levels[bisect.bisect_left(self._sorted_levels, oldest)]
        floor = _percentile(self._sorted_levels, BACKGROUND_PERCENTILE)
        median = _percentile(self._sorted_levels, 50)
        self._floor_db = max(QUIET_WINDOW_DBFS, floor)
        low, high = ABOVE_BACKGROUND_DB
        spread = median - floor + BACKGROUND_SPREAD_MARGIN_DB
        self._above_db = min(high, max(low, spread))

    def _over_background(self, level: float) -> bool:
        """Loud enough above the background to be the caller (and not too long to be)."""
        if level < self._floor_db + self._above_db:
            self._speech_windows = 0
            return False
        self._speech_windows += 1
        max_windows = MAX_SPEECH_SECS * self.sample_rate / self._vad_frames
        if self._speech_windows > max_windows:
            # No gap for MAX_SPEECH_SECS: this is the background now.
            self._floor_db = max(self._floor_db, level - self._above_db / 2)
            self._levels.clear()
            self._sorted_levels.clear()
            self._speech_windows = 0
            return False
        return True

    def voice_confidence(self, buffer: bytes) -> float:
        # The base class asks for the confidence, then the volume, of each window; the volume
        # comes first here (it is cheap) so a quiet window can skip the model.
        power = _mean_square(buffer)
        self._window_volume = self._smoothed_volume(buffer, power)
        level = 10 * math.log10(power / 32768.0**2 + 1e-12)
        if self._background_gate:
            self._track_background(level)
        if (
            self._background_gate
            and self._floor_db > QUIET_WINDOW_DBFS
            and not self._over_background(level)
        ):
            self.background_windows += self._window_volume >= self._params.min_volume
            self._skipped.append(buffer)  # the model's state stays in step (see _catch_up)
            self._maybe_reset_model(0.0)
            return 0.0
        if (
            self._vad_state == VADState.QUIET
            and self._window_volume < self._params.min_volume
            and level < QUIET_WINDOW_DBFS
        ):
            self.skipped_windows += 1
            self._skipped.append(buffer)
            self._maybe_reset_model(0.0)
            return 0.0
        if self._skipped:
            self._catch_up()
        return super().voice_confidence(buffer)

    def _catch_up(self) -> None:
        """Run the model over the quiet windows it skipped since its last reset.

        Its state is then what pipecat's would be: the same windows, from the same reset.
        """
        for window in self._skipped:
            samples = np.frombuffer(window, np.int16).astype(np.float32) / 32768.0
            self._model(samples, self.sample_rate)
        self._skipped.clear()

    def _maybe_reset_model(self, confidence: float):
        super()._maybe_reset_model(confidence)
        if self._windows_since_reset == 0:  # reset just now: what came before no longer counts
            self._skipped.clear()

    def _get_smoothed_volume(self, audio: bytes) -> float:
        return self._window_volume

    def _smoothed_volume(self, window: bytes, power: float) -> float:
        """pipecat's volume for this window (the BS.1770 loudness of the last 0.4 s, smoothed),
        without measuring a 0.4 s whose every window is below SILENT_WINDOW_DBFS: the
        loudness there is 0 (tests/test_models.py checks the two agree)."""
        powers = self._recent_powers
        powers.append(power)
        self._volume_tracker.update(window, self.sample_rate)
        silent = len(powers) == powers.maxlen and max(powers) < _SILENT_POWER
        loudness = 0.0 if silent else self._volume_tracker.volume
        return exp_smoothing(loudness, self._prev_volume, self._smoothing_factor)

    async def cleanup(self):
        """Nothing to release: the model is the process's, and no thread was started."""


def _percentile(ordered: list[float], percent: float) -> float:
    """numpy's default (linear) percentile of an already sorted, non-empty list."""
    at = (len(ordered) - 1) * percent / 100
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def _mean_square(window: bytes) -> float:
    """The mean square of 16-bit samples (full scale: 32768**2)."""
    samples = np.frombuffer(window, np.int16).astype(np.float32)
    return float(np.dot(samples, samples)) / max(1, len(samples))


def warm_up() -> None:
    """Get the process ready for calls: run the shared model once, then freeze startup objects.

    Call it once at startup (bot.py does, at import): the first call is then as quick as the
    tenth, and garbage collection after each call skips everything loaded up to here.
    """
    for rate in (8000, 16000):
        vad = PhoneVAD(params=VADParams(min_volume=0.0))
        vad.set_sample_rate(rate)
        window = np.zeros(vad.num_frames_required(), dtype=np.int16).tobytes()
        vad._run_analyzer(window * 20)
    freeze_startup_objects()
