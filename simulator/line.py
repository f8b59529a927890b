"""Line conditions for the simulated caller: what a real phone line adds to the caller's audio.

A `Line` sits between the simulated caller and the websocket (simulator/caller.py calls it
for every chunk it sends):

- `echo_db`, `echo_delay`: the bot's audio, as the caller heard it, comes back in the
  caller's audio `echo_delay` seconds later at `echo_db` dB (a speakerphone, a handset or a
  line without echo cancelling; -20 dB of a bot at -20 dBFS is about -40 dBFS);
- `noise` ("white", "street", "babble", "tv") at `noise_dbfs` (RMS), from `noise_from` to
  `noise_until` seconds after `start`. Babble is six espeak-ng voices mixed, TV four under a
  broadcast compressor with a music bed (the project's own synthesis, no recordings
  downloaded); street is pink noise in the phone band with cars passing; white is white;
- `both_tracks`: Exotel's `tracks: both`. Each caller chunk says `"track": "inbound"`, and
  the bot's own audio, as played, follows it as `media` with `"track": "outbound"`;
- `jitter_ms`: each chunk leaves up to that much late (never reordered); `burst_every`: every
  that many chunks, the line stalls and delivers the held chunks at once.

Mu-law is the dialect's business (`Dialect(encoding="audio/x-mulaw")`): the line mixes in
16-bit PCM, the dialect encodes. `wordless_sound()` makes the short non-speech sounds (a
cough, a click, a "hmm") that a caller makes over the bot.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from simulator.audio import to_int16
from simulator.standins import espeak

NOISE_KINDS = ("white", "street", "babble", "tv")
SOUNDS = ("cough", "click", "hmm")
_LOOP_SECS = 12.0
# What a phone line carries (narrowband PSTN); synthetic noise is kept inside it.
PHONE_BAND_HZ = (300.0, 3400.0)
# Sentences for the background voices (babble, TV): none of the bot's or the caller's words.
_BACKGROUND_TEXT = (
    "The weather in the hills will stay cloudy with light rain through the weekend.",
    "Scientists have found a new species of frog in the forests of the western ghats.",
    "The match resumed after a short delay and the home side scored twice before tea.",
    "Prices of vegetables rose sharply this month after the heavy monsoon rains.",
    "A new bridge over the river will open to traffic early next year, officials said.",
)
_VOICES = ("en", "en-us", "en+f3", "en+m3", "hi")


@dataclass(frozen=True)
class LineConditions:
    """What the line does to the call (all off by default: a clean line)."""

    echo_db: float | None = None
    echo_delay: float = 0.2
    noise: str | None = None
    noise_dbfs: float = -30.0
    noise_from: float = 0.0
    noise_until: float | None = None
    both_tracks: bool = False
    jitter_ms: float = 0.0
    burst_every: int = 0
    seed: int = 1

    def __post_init__(self) -> None:
        if self.noise is not None and self.noise not in NOISE_KINDS:
            raise ValueError(f"noise must be one of {NOISE_KINDS}, not {self.noise!r}")
        if not 0 <= self.echo_delay <= 2:
            raise ValueError(f"echo_delay must be 0-2 s, not {self.echo_delay}")

    @property
    def keeps_bot_audio(self) -> bool:
        """The caller must keep what it heard of the bot (echo, the outbound track)."""
        return self.echo_db is not None or self.both_tracks


def _scaled(samples: np.ndarray, dbfs: float) -> np.ndarray:
    """`samples` at `dbfs` RMS, on the int16 scale (full scale = 32768)."""
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) or 1.0
    return samples * (32768.0 * 10 ** (dbfs / 20) / rms)


def _voices(rate: int, count: int, seed: int) -> np.ndarray:
    """`count` espeak-ng voices reading different sentences at once, as a float loop."""
    n = int(_LOOP_SECS * rate)
    out = np.zeros(n)
    rng = np.random.default_rng(seed)
    for i in range(count):
        text = " ".join(_BACKGROUND_TEXT[(i + k) % len(_BACKGROUND_TEXT)] for k in range(3))
        pcm = espeak.speak(text, rate, _VOICES[i % len(_VOICES)])
        if not pcm:
            raise RuntimeError("babble needs espeak-ng (the espeakng-loader wheel)")
        voice = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
        voice = np.resize(voice, n)  # loop it to the length
        out += np.roll(voice, int(rng.integers(0, n)))
    return out


@lru_cache(maxsize=16)
def noise_loop(kind: str, rate: int, dbfs: float, seed: int = 1) -> np.ndarray:
    """`_LOOP_SECS` of background `kind` at `dbfs` RMS (float samples, int16 scale)."""
    rng = np.random.default_rng(seed)
    n = int(_LOOP_SECS * rate)
    if kind == "white":
        wave = rng.standard_normal(n)
    elif kind == "street":  # traffic: pink noise in the phone band, cars passing
        spectrum = np.fft.rfft(rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1 / rate)
        band = (f >= PHONE_BAND_HZ[0]) & (f <= min(PHONE_BAND_HZ[1], rate / 2))
        rumble = np.fft.irfft(spectrum * band / np.sqrt(np.maximum(f, 1.0)), n)
        t = np.arange(n) / rate
        swell = 0.6 + 0.4 * np.sin(2 * np.pi * t / 4.0) ** 2
        wave = rumble * swell
    elif kind == "babble":
        wave = _voices(rate, 6, seed)
    elif kind == "tv":  # broadcast audio: voices under a TV's compressor, a music bed
        voices = _voices(rate, 4, seed)
        envelope = np.sqrt(np.convolve(voices**2, np.ones(rate // 10) / (rate // 10), "same"))
        compressed = voices / (envelope + 1e-3 * np.std(voices)) ** 0.7
        t = np.arange(n) / rate
        chord = sum(np.sin(2 * np.pi * f * t) for f in (220, 277, 330, 440))
        music = chord * (0.6 + 0.4 * np.sin(2 * np.pi * t / 3))
        wave = _scaled(compressed, -30) + 0.3 * _scaled(music, -30)
    else:
        raise ValueError(f"unknown noise {kind!r}")
    out = _scaled(wave, dbfs)
    out.flags.writeable = False
    return out


def wordless_sound(kind: str, rate: int, seconds: float = 0.5) -> np.ndarray:
    """A cough, a click or a "hmm": `seconds` long with silence around it, int16."""
    rng = np.random.default_rng(7)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    if kind == "cough":  # two bursts of broadband noise, sharp onset, quick decay
        env = np.exp(-((t % (seconds / 2)) * 18)) * (t % (seconds / 2) < seconds / 2.5)
        body = np.convolve(rng.standard_normal(n), np.ones(4) / 4, mode="same")
        sound = _scaled(body * env, -18.0)
    elif kind == "click":  # three sharp clicks (a handset knocked)
        sound = np.zeros(n)
        for at in (0.0, 0.2, 0.4):
            i = int(at * n / seconds)
            sound[i : i + 8] = 12000 * np.hanning(8)
    elif kind == "hmm":  # a hummed "mm": a low voiced tone under a smooth envelope
        f0 = 120 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))
        phase = 2 * np.pi * np.cumsum(f0) / rate
        voiced = np.sin(phase) + 0.4 * np.sin(2 * phase) + 0.15 * np.sin(3 * phase)
        sound = _scaled(voiced * np.sin(np.pi * t / seconds) ** 0.5, -20.0)
    else:
        raise ValueError(f"sound must be one of {SOUNDS}, not {kind!r}")
    quiet = np.zeros(int(0.3 * rate))
    return to_int16(np.concatenate([quiet, sound, quiet]) / 32768.0)


class Line:
    """One call's line: mixes echo and noise into each caller chunk, adds the bot's track."""

    def __init__(self, conditions: LineConditions, rate: int):
        self.conditions = conditions
        self.rate = rate
        self._noise = (
            noise_loop(conditions.noise, rate, conditions.noise_dbfs, conditions.seed)
            if conditions.noise
            else None
        )
        self._gain = None if conditions.echo_db is None else 10 ** (conditions.echo_db / 20)
        self._rng = random.Random(conditions.seed)
        self.outbound_chunks = 0

    def send_delay(self, index: int, chunk_s: float) -> float:
        """Extra seconds chunk `index` leaves late (jitter; a stall before each burst)."""
        c = self.conditions
        delay = self._rng.uniform(0, c.jitter_ms / 1000) if c.jitter_ms else 0.0
        if c.burst_every > 1:
            delay += (c.burst_every - 1 - index % c.burst_every) * chunk_s
        return delay

    def caller_chunk(self, samples: np.ndarray | None, start: int, n: int, playback) -> np.ndarray:
        """The `n` samples from `start` (on the call's timeline) as the line carries them."""
        mixed = np.zeros(n) if samples is None else samples[:n].astype(np.float64)
        if len(mixed) < n:
            mixed = np.concatenate([mixed, np.zeros(n - len(mixed))])
        if self._gain is not None:
            delay = round(self.conditions.echo_delay * self.rate)
            mixed += self._gain * bot_audio(playback, start - delay, n)
        if self._noise is not None and self._noise_on(start / self.rate):
            loop = self._noise
            idx = (np.arange(start, start + n)) % len(loop)
            mixed += loop[idx]
        return to_int16(mixed / 32768.0)

    def _noise_on(self, t: float) -> bool:
        c = self.conditions
        return t >= c.noise_from and (c.noise_until is None or t < c.noise_until)

    def outbound_chunk(self, start: int, n: int, playback) -> np.ndarray:
        """The bot's own track for the same span: what played to the caller."""
        self.outbound_chunks += 1
        return bot_audio(playback, start, n).astype(np.int16)


def bot_audio(playback, start: int, n: int) -> np.ndarray:
    """The bot audio the caller heard in samples [start, start + n) (zeros elsewhere).

    Reads the caller's `Playback` segments (kept when the line needs them); cleared audio was
    trimmed from them, so an interrupted sentence echoes only what was heard.
    """
    out = np.zeros(n)
    segments = playback._segments or []
    if start + n <= 0 or not segments:
        return out
    starts = [s for s, _ in segments]
    i = max(0, bisect.bisect_right(starts, start) - 1)
    for seg_start, data in segments[i:]:
        if seg_start >= start + n:
            break
        seg = np.frombuffer(data, dtype="<i2")
        lo, hi = max(start, seg_start), min(start + n, seg_start + len(seg))
        if hi > lo:
            out[lo - start : hi - start] = seg[lo - seg_start : hi - seg_start]
    return out
