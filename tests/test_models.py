"""The shared voice model: same decisions as pipecat's per-call Silero VAD, less work."""

from __future__ import annotations

import numpy as np
import pytest
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams

from exotel_bot.call.vad import PhoneVAD, silero_session
from simulator.audio import fixture, load_wav

FIXTURES = ["order_status", "pause_mid_sentence", "yes", "goodbye", "long_talk", "hindi"]


def phone_line(rate: int, noise: float = 0.0) -> np.ndarray:
    """Every fixture, each followed by 4 s of line silence (the bot talking), as a call sends it."""
    silence = np.zeros(rate * 4, dtype=np.int16)
    parts = [np.zeros(int(rate * 3.7), dtype=np.int16)]
    for name in FIXTURES:
        parts += [load_wav(fixture(name, rate), rate), silence]
    line = np.concatenate(parts).astype(np.float64)
    line += np.random.default_rng(7).normal(0, noise, len(line)) if noise else 0
    return np.clip(line, -32768, 32767).astype(np.int16)


def decisions(vad, audio: np.ndarray, rate: int) -> list[str]:
    """The VAD's state after each 100 ms chunk, the way Exotel's media arrive."""
    vad.set_sample_rate(rate)
    step = rate // 10
    return [
        vad._run_analyzer(audio[i : i + step].tobytes()).name for i in range(0, len(audio), step)
    ]


@pytest.mark.parametrize("rate", [8000, 16000])
@pytest.mark.parametrize("noise", [0.0, 30.0, 400.0], ids=["silent-line", "quiet-hiss", "noisy"])
def test_shared_vad_decides_exactly_like_pipecats(rate, noise):
    """The shared model decides as pipecat's own (the background gate, which departs from it
    on purpose over noise, is tested through calls in tests/test_lines.py)."""
    audio = phone_line(rate, noise)
    params = VADParams(stop_secs=0.2)
    ours = PhoneVAD(params=params, background_gate=noise < 100)
    theirs = decisions(SileroVADAnalyzer(params=params), audio, rate)
    assert decisions(ours, audio, rate) == theirs
    assert theirs.count("SPEAKING") > 50  # the fixtures were heard as speech
    if noise < 100:  # a quiet line: the model skipped the windows that could not matter
        assert ours.skipped_windows > 0.4 * len(audio) / ours.num_frames_required()
    else:  # a noisy line is never skipped, and decisions still match
        assert ours.skipped_windows < 0.05 * len(audio) / ours.num_frames_required()


def test_calls_share_one_model_but_keep_their_own_state():
    rate = 8000
    a = phone_line(rate)
    b = phone_line(rate, noise=30.0)[::-1].copy()  # different audio at the same moments
    alone_a = decisions(PhoneVAD(), a, rate)
    alone_b = decisions(PhoneVAD(), b, rate)

    vad_a, vad_b = PhoneVAD(), PhoneVAD()
    assert vad_a._model.session is vad_b._model.session is silero_session()
    vad_a.set_sample_rate(rate)
    vad_b.set_sample_rate(rate)
    together_a, together_b = [], []
    for i in range(0, len(a), rate // 10):  # interleaved, chunk by chunk, like two live calls
        together_a.append(vad_a._run_analyzer(a[i : i + rate // 10].tobytes()).name)
        together_b.append(vad_b._run_analyzer(b[i : i + rate // 10].tobytes()).name)
    assert together_a == alone_a
    assert together_b == alone_b


@pytest.mark.parametrize("rate", [8000, 16000])
def test_volume_skips_measuring_only_what_measures_zero(rate):
    """The volume of every window equals pipecat's, over digital silence, hiss just below and
    just above the silent level, and speech; and most of the silence is not measured at all."""
    rng = np.random.default_rng(3)
    quiet = [rng.normal(0, 32768 * 10 ** (db / 20), rate * 2) for db in (-95, -82, -76, -60)]
    parts = [np.zeros(rate * 2), *quiet, load_wav(fixture("yes", rate), rate), np.zeros(rate)]
    audio = np.clip(np.round(np.concatenate(parts)), -32768, 32767).astype(np.int16)

    ours, theirs = PhoneVAD(background_gate=False), SileroVADAnalyzer()
    unmeasured = 0  # windows whose 0.4 s was not measured (the loudness left unread)
    for vad in (ours, theirs):
        vad.set_sample_rate(rate)
    window = ours.num_frames_required()
    for i in range(0, len(audio) - window + 1, window):
        chunk = audio[i : i + window].tobytes()
        mine = ours._smoothed_volume(chunk, float(np.mean(audio[i : i + window] ** 2.0)))
        unmeasured += ours._volume_tracker._volume is None
        theirs_volume = theirs._get_smoothed_volume(chunk)
        assert mine == theirs_volume, (i / rate, mine, theirs_volume)
        ours._prev_volume, theirs._prev_volume = mine, theirs_volume
    # Skipped: the digital silence, -95 and -82 dBFS (6 s less the volume's first 0.4 s).
    assert unmeasured >= 5 * rate / window, unmeasured
