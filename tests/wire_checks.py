"""Checks shared by the wire tests: what the caller heard, what Deepgram heard, what was sent."""

from __future__ import annotations

import numpy as np

from simulator.audio import fixture, load_wav
from simulator.caller import CallReport
from simulator.standins.synth import speech_pcm


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    a, b = a[:n].astype(np.float64), b[:n].astype(np.float64)
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))


def assert_heard_the_bot(report: CallReport, rate: int, turns: int) -> None:
    """At least `turns` bot turns, each decoding to the TTS stand-in's own signal.

    The stand-in speaks a deterministic waveform from its first sample each time; audio sent
    in the wrong encoding (PCM into a mu-law stream, or the reverse) decodes to noise. Each
    turn's opening is compared as the bot sent it (`CallReport.bot_turn_openings`, payloads
    joined in order), not on the call's timeline: a payload that arrives late on a busy
    machine leaves a stutter there, which is a matter of timing, not of encoding.
    """
    heard = [np.frombuffer(o, dtype="<i2") for o in report.bot_turn_openings]
    assert len(heard) >= turns, f"heard {len(heard)} bot turns, expected {turns}"
    for turn in heard[:turns]:
        n = min(len(turn), rate // 2)
        expected = np.frombuffer(speech_pcm(rate, n), dtype="<i2")
        assert correlation(turn[:n], expected) > 0.95


def best_match(haystack: np.ndarray, needle: np.ndarray) -> float:
    """The highest normalised correlation of `needle` anywhere in `haystack` (FFT)."""
    h, n = haystack.astype(np.float64), needle.astype(np.float64)
    if len(h) < len(n):
        return 0.0
    size = 1 << int(np.ceil(np.log2(len(h) + len(n))))
    dots = np.fft.irfft(np.fft.rfft(h, size) * np.conj(np.fft.rfft(n, size)), size)[
        : len(h) - len(n) + 1
    ]
    energy = np.convolve(h**2, np.ones(len(n)), "valid")
    needle_energy = float(np.dot(n, n))
    # Windows much quieter than the needle cannot hold it (and would divide by ~0).
    loud = energy > 0.1 * needle_energy
    if not loud.any():
        return 0.0
    scores = dots[loud] / (np.sqrt(energy[loud]) * np.sqrt(needle_energy))
    return float(scores.max())


def assert_deepgram_heard(audio: bytes, name: str, rate: int) -> None:
    """The caller's utterance `name` reached Deepgram intact (as 16-bit PCM at `rate`)."""
    samples = np.frombuffer(audio, dtype="<i2")
    spoken = load_wav(fixture(name, rate), rate)
    voiced = spoken[np.flatnonzero(np.abs(spoken) > 500)[0] :][: rate // 2]
    assert best_match(samples, voiced) > 0.9


def assert_sent_like_exotel(report: CallReport, *, key_style: str, step: int, size: int) -> None:
    """Bot messages in the call's dialect; media payloads by Exotel's rules, numbered in order."""
    camel = key_style == "camel"
    sid, other = ("streamSid", "stream_sid") if camel else ("stream_sid", "streamSid")
    seq = "sequenceNumber" if camel else "sequence_number"
    assert report.bot_keys.get(sid) == sum(report.events.values()), report.bot_keys
    assert report.bot_keys.get(seq) == sum(report.events.values()), report.bot_keys
    assert other not in report.bot_keys
    assert set(report.media_keys) == {"chunk", "timestamp", "payload"}
    sizes = report.media_payload_sizes
    assert sizes and all(s % step == 0 for s in sizes), sizes
    assert max(sizes, key=sizes.get) == size, sizes
    chunks = [int(c) for c, _ in report.media_chunks]
    assert chunks == list(range(1, len(chunks) + 1))
    stamps = [int(t) for _, t in report.media_chunks]
    assert stamps[0] == 0 and stamps == sorted(stamps)
