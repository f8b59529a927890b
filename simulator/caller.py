"""A simulated Exotel caller: test the bot without a phone.

Plays one Exotel Voicebot call against any websocket URL (the local server, an ngrok tunnel,
Pipecat Cloud) the way Exotel does: `connected`, `start`, then caller audio streamed in real
time without pause, DTMF, `stop`. Bot audio is "played" on a real-time clock, so `clear` drops
what was not heard yet and `mark`s come back when their audio has played. The returned
`CallReport` measures greeting and reply latency from the caller's side.

Tests, the keyless demo and the benchmarks all drive calls through `run_call`; from a shell:

    python -m simulator.caller ws://127.0.0.1:7860/ws --say order_status --record out/call.wav
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import json
import math
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from simulator.audio import load_wav, resolve_audio, voiced_span, write_wav
from simulator.dialect import Dialect
from simulator.line import Line, LineConditions

SUPPORTED_SAMPLE_RATES = (8000, 16000, 24000)
CHUNK_MS_RANGE = (20, 2000)
DTMF_DIGITS = "0123456789*#"
DTMF_DURATION_MS = 100

# Heard silence longer than this between two bot payloads starts a new bot "turn".
BOT_TURN_GAP = 0.3
# How many payloads of each bot turn the report lists (CallReport.turn_first_payloads).
FIRST_PAYLOADS_KEPT = 8
# How much of each bot turn's audio the report keeps, as received (CallReport.bot_turn_openings).
TURN_OPENING_SECS = 1.0
# A clear this soon after the caller starts talking over the bot counts as a barge-in.
BARGE_IN_WINDOW = 2.0
CLOSE_TIMEOUT = 5.0
MAX_PROTOCOL_ERRORS_KEPT = 20
USER_AGENT = "pipecat-exotel-simulator"


# ---------------------------------------------------------------------------------------------
# The script of a call


@dataclass(frozen=True)
class Say:
    """The caller speaks a WAV file (or a bundled fixture name), streamed in real time."""

    audio: str | Path


@dataclass(frozen=True)
class Silence:
    """The caller stays quiet for `seconds` (the line still streams silence)."""

    seconds: float


@dataclass(frozen=True)
class WaitForGreeting:
    """Listen until the bot's first audio has finished playing (quiet for `quiet` seconds).

    `timeout` only bounds a greeting that never ends: a user's greeting may be long, and the
    call goes on the moment the greeting has played."""

    timeout: float = 60.0
    quiet: float = 0.6


@dataclass(frozen=True)
class WaitForBot:
    """Listen until the bot has answered the caller's last action and finished playing it."""

    timeout: float = 20.0
    quiet: float = 0.6


@dataclass(frozen=True)
class BargeIn:
    """Talk over the bot: once its audio has played for `after` seconds, speak `audio`."""

    audio: str | Path
    after: float = 0.5
    timeout: float = 20.0


@dataclass(frozen=True)
class Dtmf:
    """Press keys: one `dtmf` event per digit, `gap` seconds apart."""

    digits: str
    gap: float = 0.3

    def __post_init__(self) -> None:
        bad = [d for d in self.digits if d not in DTMF_DIGITS]
        if not self.digits or bad:
            raise ValueError(f"DTMF digits must be from {DTMF_DIGITS!r}, got {self.digits!r}")


@dataclass(frozen=True)
class Hangup:
    """The caller hangs up: `stop` with this reason, then the websocket closes."""

    reason: str = "callended"


@dataclass(frozen=True)
class ExpectClose:
    """Keep the line open until the bot closes the websocket (it hangs up), or `timeout`."""

    timeout: float = 10.0


Step = Say | Silence | WaitForGreeting | WaitForBot | BargeIn | Dtmf | Hangup | ExpectClose


def default_script(audio: str | Path = "order_status") -> list[Step]:
    """Hear the greeting, say one thing, hear the reply, hang up."""
    return [WaitForGreeting(), Say(audio), WaitForBot(), Hangup()]


# ---------------------------------------------------------------------------------------------
# What a call measured


@dataclass
class Reply:
    """One caller utterance (Say or BargeIn) and how the bot answered it.

    Times are seconds since `start` was sent. `speech_start`/`speech_end` are when the chunks
    carrying the first/last voiced sample were sent (trailing silence in the WAV is ignored).
    """

    index: int
    audio: str
    barge_in: bool = False
    speech_start: float | None = None
    speech_end: float | None = None
    first_audio: float | None = None
    premature_media: int = 0
    premature_at: float | None = None

    @property
    def latency(self) -> float | None:
        """Seconds from the end of the caller's speech to the bot's first reply audio."""
        if self.first_audio is None or self.speech_end is None:
            return None
        return self.first_audio - self.speech_end

    @property
    def premature(self) -> bool:
        """The bot started talking while the caller was mid-utterance (e.g. in a pause)."""
        return self.premature_media > 0

    def to_dict(self) -> dict:
        return {**asdict(self), "latency": self.latency, "premature": self.premature}


@dataclass
class MarkEcho:
    """A bot `mark` and when it came back: once the audio queued before it had played."""

    name: str
    received: float
    due: float
    echoed: float | None = None
    cleared: bool = False


@dataclass
class BargeInResult:
    """The caller talked over the bot: did a `clear` follow within BARGE_IN_WINDOW seconds?"""

    reply: int
    started: float
    clear_at: float | None = None

    @property
    def latency(self) -> float | None:
        """Seconds from the caller's first voiced chunk to the bot's `clear`."""
        return None if self.clear_at is None else self.clear_at - self.started

    @property
    def interrupted(self) -> bool:
        return self.clear_at is not None

    def to_dict(self) -> dict:
        return {**asdict(self), "latency": self.latency, "interrupted": self.interrupted}


@dataclass
class CallReport:
    """Everything one simulated call saw, timed from the moment `start` was sent."""

    url: str
    sample_rate: int
    chunk_ms: int
    call_sid: str
    stream_sid: str
    # Wall-clock time (time.time()) when `start` went out: lines the report up with server logs.
    started_at: float | None = None
    greeting_latency: float | None = None
    replies: list[Reply] = field(default_factory=list)
    clears: list[float] = field(default_factory=list)
    barge_ins: list[BargeInResult] = field(default_factory=list)
    marks: list[MarkEcho] = field(default_factory=list)
    events: dict[str, int] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)
    bot_audio_bytes_received: int = 0
    bot_audio_bytes_heard: int = 0
    bot_audio_bytes_cleared: int = 0
    media_payload_sizes: dict[int, int] = field(default_factory=dict)
    # The keys the bot used, counted over its messages (top level) and its `media` objects.
    bot_keys: dict[str, int] = field(default_factory=dict)
    media_keys: dict[str, int] = field(default_factory=dict)
    # The `media.chunk` / `media.timestamp` values of the bot's payloads, in arrival order.
    media_chunks: list[tuple[str, str]] = field(default_factory=list)
    dialect: str = ""
    # Bytes of the first payloads of each bot turn, in order (at most FIRST_PAYLOADS_KEPT).
    turn_first_payloads: list[list[int]] = field(default_factory=list)
    # Times the caller's playback ran dry inside a bot turn: audio arrived after what was
    # buffered had finished playing (a stutter), shorter than a turn gap.
    bot_audio_gaps: int = 0
    # Each bot turn as the caller heard it: (start, end) in seconds since `start` was sent,
    # from the first sample played to the last (a `clear` ends a turn where it cut it).
    bot_turns_heard: list[tuple[float, float]] = field(default_factory=list)
    # The most bot audio ever waiting to be played when a payload arrived, in seconds: how
    # far ahead of the caller's ear the bot sends (a bot sending at real time keeps it small).
    max_bot_audio_ahead: float = 0.0
    # The first TURN_OPENING_SECS of each bot turn's audio (16-bit PCM at the call's rate),
    # joined in arrival order: what the bot sent, whatever the stutters in playing it.
    bot_turn_openings: list[bytes] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str = ""
    ended_by: str | None = None
    duration: float = 0.0
    error: str | None = None
    protocol_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    max_send_lag: float = 0.0
    record_path: str | None = None
    timeline: list[tuple[float, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """The call completed: greeting heard, no error, and it ended cleanly."""
        return (
            self.greeting_latency is not None
            and self.error is None
            and (
                self.ended_by == "caller" or (self.ended_by == "server" and self.close_code == 1000)
            )
        )

    @property
    def latencies(self) -> list[float]:
        """Reply latencies of the utterances the bot answered."""
        return [r.latency for r in self.replies if r.latency is not None]

    def seconds_of_bot_audio(self, nbytes: int) -> float:
        return nbytes / (2 * self.sample_rate)

    def to_dict(self) -> dict:
        """A JSON-able dict (no raw audio) for saving or comparing runs."""
        data = asdict(self)
        data["replies"] = [r.to_dict() for r in self.replies]
        data["barge_ins"] = [b.to_dict() for b in self.barge_ins]
        data["timeline"] = [list(entry) for entry in self.timeline]
        data["ok"] = self.ok
        return data

    def summary(self) -> str:
        """A readable timeline of the call (warnings included) and a short verdict."""
        lines = [f"Exotel call {self.call_sid} -> {self.url}"]
        lines.append(f"  {self.sample_rate} Hz, {self.chunk_ms} ms caller chunks")
        lines += [f"  {t:+8.3f}s  {detail}" for t, _, detail in self.timeline]
        lines += [f"  protocol error: {e}" for e in self.protocol_errors]
        lines.append(self._verdict())
        return "\n".join(lines)

    def _verdict(self) -> str:
        status = "OK" if self.ok else "FAILED"
        ended = f"ended by {self.ended_by} ({self.close_code}) after {self.duration:.2f} s"
        replies = ", ".join(_secs(r.latency) for r in self.replies) or "none"
        interrupted = sum(b.interrupted for b in self.barge_ins)
        heard = self.seconds_of_bot_audio(self.bot_audio_bytes_heard)
        received = self.seconds_of_bot_audio(self.bot_audio_bytes_received)
        lines = [
            f"Result: {status}, {ended}",
            f"  greeting {_secs(self.greeting_latency)} | replies {replies}"
            f" | premature {sum(r.premature for r in self.replies)}",
            f"  clears {len(self.clears)} (barge-ins {interrupted}/{len(self.barge_ins)})"
            f" | marks {sum(m.echoed is not None for m in self.marks)}/{len(self.marks)} echoed"
            f" | bot audio heard {heard:.2f} of {received:.2f} s",
        ]
        if self.error is not None:
            lines.append(f"Error: {self.error}")
        return "\n".join(lines)


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s"


# ---------------------------------------------------------------------------------------------
# Exotel's side of the line: playing the bot's audio


class Playback:
    """Exotel's playback buffer: bot audio plays in real time, in arrival order.

    Computed lazily from arrival times, no ticking task. Positions are integer samples on the
    call's timeline (0 = `start` sent), so back-to-back payloads join without gaps. A bot
    "turn" is audio with no `clear` and no heard silence of `turn_gap` seconds or more: a bot
    pacing its sends in real time leaves tiny gaps that must not split its sentence.
    """

    def __init__(self, rate: int, keep_audio: bool = False, turn_gap: float = BOT_TURN_GAP):
        self.rate = rate
        self.turn_gap = round(turn_gap * rate)
        self.end = 0  # where the buffered audio finishes playing
        self.turn_start: int | None = None  # where the current bot turn began playing
        self.received_bytes = 0
        self.cleared_bytes = 0
        self.gaps = 0  # times the caller's playback ran dry inside a bot turn (a stutter)
        self.turns: list[list[int]] = []  # [start, end] of each bot turn as heard, in samples
        self.max_ahead = 0  # samples: the most audio ever queued unplayed (see CallReport)
        self._segments: list[tuple[int, bytes]] | None = [] if keep_audio else None
        # The first TURN_OPENING_SECS of each turn's audio, joined in arrival order whatever
        # the arrival times: what the bot sent, free of the stutters a busy machine adds.
        self.turn_openings: list[bytearray] = []
        self._opening_bytes = round(TURN_OPENING_SECS * rate) * 2

    def position(self, t: float) -> int:
        return round(t * self.rate)

    @property
    def end_time(self) -> float:
        return self.end / self.rate

    def add(self, t: float, payload: bytes) -> bool:
        """Queue audio that arrived at `t`; True when it starts a new bot turn."""
        now = self.position(t)
        start = max(now, self.end)
        new_turn = self.turn_start is None or now - self.end >= self.turn_gap
        if new_turn:
            self.turn_start = start
        elif now > self.end:
            self.gaps += 1
        samples = len(payload) // 2
        if new_turn:
            self.turn_openings.append(bytearray())
        opening = self.turn_openings[-1]
        opening += payload[: max(0, self._opening_bytes - len(opening)) // 2 * 2]
        if self._segments is not None and samples:
            self._segments.append((start, payload[: samples * 2]))
        self.end = start + samples
        if new_turn:
            self.turns.append([start, self.end])
        self.turns[-1][1] = self.end
        self.max_ahead = max(self.max_ahead, self.end - now)
        self.received_bytes += len(payload)
        return new_turn

    def clear(self, t: float) -> int:
        """Drop whatever was buffered but not played by `t`; returns the bytes dropped."""
        now = self.position(t)
        self.turn_start = None
        if self.end <= now:
            return 0
        dropped = (self.end - now) * 2
        self.end = now
        if self.turns:
            self.turns[-1][1] = min(self.turns[-1][1], now)
        self.cleared_bytes += dropped
        self._trim_segments(now)
        return dropped

    def _trim_segments(self, cut: int) -> None:
        segments = self._segments
        while segments and segments[-1][0] >= cut:
            segments.pop()
        if segments:
            start, data = segments[-1]
            if start + len(data) // 2 > cut:
                segments[-1] = (start, data[: (cut - start) * 2])

    @property
    def cleared(self) -> bool:
        """The last bot turn was cut short by a `clear`."""
        return self.turn_start is None and self.received_bytes > 0

    def playing_for(self, t: float) -> float:
        """Seconds the current bot turn has been playing at `t` (0 when the bot is quiet)."""
        now = self.position(t)
        if self.turn_start is None or now - self.end >= self.turn_gap:
            return 0.0
        return max(0, now - self.turn_start) / self.rate

    def quiet_for(self, t: float) -> float:
        """Seconds since the last bot audio finished playing (0 while it plays)."""
        return max(0, self.position(t) - self.end) / self.rate

    def heard_bytes(self, t: float) -> int:
        """Bytes of bot audio actually played by `t` (not cleared, not still queued)."""
        unplayed = max(0, self.end - self.position(t)) * 2
        return self.received_bytes - self.cleared_bytes - unplayed

    def render(self, length: int) -> np.ndarray:
        """The bot audio as heard: int16 samples on the call's timeline, silence elsewhere."""
        out = np.zeros(length, dtype=np.int16)
        for start, data in self._segments or ():
            if start >= length:
                break
            samples = np.frombuffer(data, dtype="<i2")[: length - start]
            out[start : start + len(samples)] = samples
        return out


# ---------------------------------------------------------------------------------------------
# One call


class _CallOver(Exception):
    """The websocket is closed: the script cannot go on."""


class _TimeIsUp(Exception):
    """`hangup_after` seconds have passed: the caller hangs up whatever it was doing."""


@dataclass(frozen=True)
class _Utterance:
    name: str
    samples: np.ndarray
    span: tuple[float, float] | None


@lru_cache(maxsize=64)
def _load_samples(path: str, rate: int, mtime_ns: int) -> tuple[np.ndarray, tuple | None]:
    samples = load_wav(path, rate).astype("<i2", copy=False)
    samples.flags.writeable = False
    return samples, voiced_span(samples, rate)


def load_utterance(audio: str | Path, rate: int) -> _Utterance:
    """A WAV or fixture name as caller audio at `rate`, cached: a benchmark loads it once."""
    path = resolve_audio(audio, rate)
    samples, span = _load_samples(str(path.resolve()), rate, path.stat().st_mtime_ns)
    return _Utterance(Path(audio).stem, samples, span)


class _Call:
    """The state of one simulated call. Two tasks: this one sends, `_receive` listens."""

    def __init__(
        self,
        report: CallReport,
        *,
        account_sid: str,
        record: bool,
        hangup_after: float | None,
        dialect: Dialect | None = None,
        line: LineConditions | None = None,
    ):
        self.report = report
        self.dialect = dialect or Dialect()
        self.account_sid = account_sid
        self.hangup_at: float | None = hangup_after
        rate, chunk_ms = report.sample_rate, report.chunk_ms
        self.rate = rate
        self.chunk_s = chunk_ms / 1000
        self.chunk_samples = rate * chunk_ms // 1000
        silence = np.zeros(self.chunk_samples, dtype=np.int16)
        self.silence_payload = base64.b64encode(self.dialect.encode(silence)).decode()
        self.line = Line(line, rate) if line is not None else None  # simulator/line.py
        self.playback = Playback(rate, keep_audio=record or bool(line and line.keeps_bot_audio))
        self.caller_audio: list[tuple[int, np.ndarray]] | None = [] if record else None
        self.loop = asyncio.get_running_loop()
        self.ws: ClientConnection | None = None
        self.t0 = self.loop.time()  # reset when `start` goes out
        self.sequence = 0
        self.chunks_sent = 0
        self.closed = False
        self.hanging_up = False
        self.pending_marks: list[MarkEcho] = []
        self.waker: asyncio.Future | None = None
        self.events: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        self.payload_sizes: Counter[int] = Counter()
        self.bot_keys: Counter[str] = Counter()
        self.media_keys: Counter[str] = Counter()
        self.protocol_error_count = 0
        self.speaking: Reply | None = None  # utterance whose voiced part is being sent
        self.caller_acted_at = 0.0  # last speech end or key press: what the bot answers
        self.last_bot_media: float | None = None
        self.turn_started: float | None = None

    # -- clock ----------------------------------------------------------------------------

    def now(self) -> float:
        return self.loop.time() - self.t0

    def note(self, t: float, event: str, detail: str) -> None:
        self.report.timeline.append((t, event, detail))

    def warn(self, message: str) -> None:
        self.report.warnings.append(message)
        self.note(self.now(), "warning", message)

    def wake(self) -> None:
        """Wake the sender early (a mark is due, a clear arrived, the line closed)."""
        if self.waker is not None and not self.waker.done():
            self.waker.set_result(None)

    async def sleep_until(self, when: float) -> None:
        """Sleep until loop time `when` or a `wake()`, whichever is first; no extra task."""
        self.waker = self.loop.create_future()
        timer = self.loop.call_at(when, self.wake)
        try:
            await self.waker
        finally:
            timer.cancel()
            self.waker = None

    # -- sending --------------------------------------------------------------------------

    def next_sequence(self) -> str:
        self.sequence += 1
        return str(self.sequence)

    async def send(self, message: dict) -> None:
        if self.closed:
            raise _CallOver
        try:
            await self.ws.send(json.dumps(message))
        except ConnectionClosed:
            raise _CallOver from None
        self.sent[message["event"]] += 1

    async def send_handshake(self, start: dict) -> None:
        """`connected` (unless the dialect skips it) then `start`; the clock starts at `start`."""
        if self.dialect.connected:
            await self.ws.send(json.dumps({"event": "connected"}))
            self.sent["connected"] += 1
        self.t0 = self.loop.time()
        self.report.started_at = time.time()
        self.next_sequence()  # "1": `connected` has none
        await self.ws.send(json.dumps(start))
        self.sent["start"] += 1
        self.note(0.0, "start", f"start sent ({self.rate} Hz)")

    async def tick(self, samples: np.ndarray | None = None) -> None:
        """Send the next chunk of the caller's line (speech or silence) on the real-time grid.

        Chunk k carries the audio captured in [k, k+1) * chunk and leaves when that audio
        has been "spoken", at t0 + (k+1) * chunk: deadlines come from the chunk count, so
        pacing never drifts, and a late loop catches up instead of slowing the line down.
        """
        deadline = self.t0 + (self.chunks_sent + 1) * self.chunk_s
        line, at = self.line, self.chunks_sent * self.chunk_samples
        if line is not None:
            deadline += line.send_delay(self.chunks_sent, self.chunk_s)
        await self.wait_until(deadline)
        if line is not None:  # mixed now: the echo's bot audio has played by now
            samples = line.caller_chunk(samples, at, self.chunk_samples, self.playback)
        if samples is None:
            payload = self.silence_payload
        else:
            payload = base64.b64encode(self.dialect.encode(samples)).decode()
            if self.caller_audio is not None:
                self.caller_audio.append((self.chunks_sent * self.chunk_samples, samples))
        self.chunks_sent += 1
        media = {
            "chunk": self.dialect.value(self.chunks_sent),
            "timestamp": self.dialect.value(round(self.chunks_sent * self.chunk_s * 1000)),
            "payload": payload,
        }
        if line is not None and line.conditions.both_tracks:
            await self.send(self.stream_event("media", media={**media, "track": "inbound"}))
            bot = line.outbound_chunk(at, self.chunk_samples, self.playback)
            outbound = base64.b64encode(self.dialect.encode(bot)).decode()
            media = {**media, "payload": outbound, "track": "outbound"}
        await self.send(self.stream_event("media", media=media))

    async def wait_until(self, deadline: float) -> None:
        """Sleep until `deadline`, echoing marks when their audio has played meanwhile."""
        while True:
            if self.closed:
                raise _CallOver
            await self.echo_due_marks()
            now = self.loop.time()
            if self.hangup_at is not None and now >= self.t0 + self.hangup_at:
                raise _TimeIsUp
            if now >= deadline:
                self.report.max_send_lag = max(self.report.max_send_lag, now - deadline)
                return
            due = [self.t0 + m.due for m in self.pending_marks]
            await self.sleep_until(min([deadline, *due]))

    async def echo_due_marks(self) -> None:
        now = self.now()
        while self.pending_marks and self.pending_marks[0].due <= now:
            mark = self.pending_marks.pop(0)
            await self.send(self.stream_event("mark", mark={"name": mark.name}))
            mark.echoed = self.now()
            self.note(mark.echoed, "mark_echo", f"mark {mark.name!r} echoed")

    def stream_event(self, event: str, **body: dict) -> dict:
        self.sequence += 1
        return self.dialect.stream_event(event, self.report.stream_sid, self.sequence, **body)

    # -- script steps ---------------------------------------------------------------------

    async def run_script(self, steps: Sequence[Step]) -> None:
        for step in steps:
            await self.run_step(step)
            if isinstance(step, Hangup):
                return
        # A script that just ends is a caller putting the phone down.
        await self.hangup(Hangup().reason)

    async def run_step(self, step: Step) -> None:
        match step:
            case Say():
                await self.say(step.audio)
            case Silence():
                await self.silence(step.seconds)
            case WaitForGreeting():
                await self.wait_for_bot(0.0, step.timeout, step.quiet, "greeting")
            case WaitForBot():
                await self.wait_for_bot(self.caller_acted_at, step.timeout, step.quiet, "reply")
            case BargeIn():
                await self.barge_in(step)
            case Dtmf():
                await self.press(step.digits, step.gap)
            case Hangup():
                await self.hangup(step.reason)
            case ExpectClose():
                await self.expect_close(step.timeout)
            case _:
                raise TypeError(f"not a call step: {step!r}")

    async def say(self, audio: str | Path, barge_in: bool = False) -> None:
        """Stream an utterance chunk by chunk, noting when its speech starts and ends."""
        utterance = load_utterance(audio, self.rate)
        reply = Reply(len(self.report.replies) + 1, utterance.name, barge_in=barge_in)
        self.report.replies.append(reply)
        first, last = self.voiced_chunks(utterance)
        if first is None:
            self.warn(f"no speech found in {utterance.name!r}; it is sent as silence")
        for index, chunk in enumerate(self.chunks(utterance.samples)):
            await self.tick(chunk)
            if index == first:
                self.speech_starts(reply)
            if index == last:
                self.speech_ends(reply)

    def voiced_chunks(self, utterance: _Utterance) -> tuple[int | None, int | None]:
        """Indexes of the chunks carrying the first and last voiced sample."""
        if utterance.span is None:
            return None, None
        start, end = utterance.span
        first = int(start * self.rate) // self.chunk_samples
        last = max(first, (math.ceil(round(end * self.rate, 6)) - 1) // self.chunk_samples)
        return first, last

    def chunks(self, samples: np.ndarray) -> list[np.ndarray]:
        """The samples in chunks, the last padded with silence (unless the dialect sends it
        ragged: then it is as long as what is left)."""
        pad = -len(samples) % self.chunk_samples
        if pad and self.dialect.pad_last:
            samples = np.concatenate([samples, np.zeros(pad, dtype=samples.dtype)])
        step = self.chunk_samples
        return [samples[i : i + step] for i in range(0, len(samples), step)]

    def speech_starts(self, reply: Reply) -> None:
        t = self.now()
        reply.speech_start = t
        self.speaking = reply
        kind = "barges in" if reply.barge_in else "speech starts"
        self.note(t, "speech_start", f"caller {kind} ({reply.audio})")
        if reply.barge_in:
            self.report.barge_ins.append(BargeInResult(reply.index, t))

    def speech_ends(self, reply: Reply) -> None:
        t = self.now()
        reply.speech_end = t
        self.speaking = None
        self.caller_acted_at = t
        self.note(t, "speech_end", f"caller speech ends ({reply.audio})")

    async def silence(self, seconds: float) -> None:
        for _ in range(math.ceil(seconds / self.chunk_s - 1e-9)):
            await self.tick()

    async def listen_until(self, condition, timeout: float, what: str) -> bool:
        """Stream silence until `condition()` holds; False (and a warning) on timeout."""
        deadline = self.now() + timeout
        while not condition():
            if self.now() >= deadline:
                self.warn(f"{what}: timed out after {timeout:g} s")
                return False
            await self.tick()
        return True

    async def wait_for_bot(self, since: float, timeout: float, quiet: float, what: str) -> None:
        """Listen until bot audio sent after `since` has played out and `quiet` s passed."""

        def done() -> bool:
            spoke = self.last_bot_media is not None and self.last_bot_media >= since
            return spoke and self.playback.quiet_for(self.now()) >= quiet

        await self.listen_until(done, timeout, f"waiting for the bot's {what}")

    async def barge_in(self, step: BargeIn) -> None:
        def bot_talking() -> bool:
            return self.playback.playing_for(self.now()) >= step.after

        await self.listen_until(bot_talking, step.timeout, "waiting for bot audio to barge into")
        await self.say(step.audio, barge_in=True)

    async def press(self, digits: str, gap: float) -> None:
        for digit in digits:
            dtmf = {"digit": digit, "duration": self.dialect.value(DTMF_DURATION_MS)}
            await self.send(self.stream_event("dtmf", dtmf=dtmf))
            self.caller_acted_at = self.now()
            self.note(self.caller_acted_at, "dtmf", f"caller presses {digit}")
            await self.silence(gap)

    async def expect_close(self, timeout: float) -> None:
        await self.listen_until(lambda: self.closed, timeout, "waiting for the bot to hang up")

    async def hangup(self, reason: str) -> None:
        """Exotel's hang-up: `stop`, then close the websocket normally."""
        key = self.dialect.key
        stop = {
            key("call_sid"): self.report.call_sid,
            key("account_sid"): self.account_sid,
            "reason": reason,
        }
        self.hanging_up = True  # from here on, a close is the caller's doing
        try:
            await self.send(self.stream_event("stop", stop=stop))
        except _CallOver:
            self.hanging_up = False
            return
        self.note(self.now(), "hangup", f"caller hangs up ({reason})")
        with contextlib.suppress(Exception):
            await self.ws.close(1000)

    # -- receiving ------------------------------------------------------------------------

    async def receive(self) -> None:
        """Read the bot's messages until the websocket closes; never raises."""
        try:
            async for message in self.ws:
                try:
                    self.on_message(message)
                except Exception as e:  # garbage must not end the call: note it and go on
                    self.protocol_error(f"unreadable message ({e.__class__.__name__}: {e})")
        except ConnectionClosed:
            pass
        except Exception as e:
            self.report.error = self.report.error or f"receive failed: {e!r}"
        finally:
            self.on_closed()

    def on_message(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            self.events["binary"] += 1
            self.protocol_error(f"binary frame of {len(message)} bytes (Exotel expects JSON text)")
            return
        try:
            data = json.loads(message)
        except json.JSONDecodeError:
            self.events["invalid"] += 1
            self.protocol_error(f"not JSON: {message[:60]!r}")
            return
        if not isinstance(data, dict):
            self.events["invalid"] += 1
            self.protocol_error(f"not a JSON object: {message[:60]!r}")
            return
        event = str(data.get("event"))
        self.events[event] += 1
        self.bot_keys.update(data.keys())
        handler = {"media": self.on_media, "mark": self.on_mark, "clear": self.on_clear}.get(event)
        if handler is None:
            self.protocol_error(f"unknown event {event!r}")
        elif self.check_stream_sid(data, event):
            handler(data, self.now())

    def check_stream_sid(self, data: dict, event: str) -> bool:
        """Exotel only acts on messages for its own stream, named in the call's key style."""
        key = self.dialect.key("stream_sid")
        other = "streamSid" if key == "stream_sid" else "stream_sid"
        if other in data:
            self.protocol_error(f"{event} names the stream with {other!r}, not the call's {key!r}")
        sid = data.get(key, data.get(other))
        if sid is None:
            self.protocol_error(f"{event} without stream_sid")
            return True
        if sid != self.report.stream_sid:
            self.protocol_error(f"{event} for another stream_sid {sid!r}: ignored")
            return False
        return True

    def on_media(self, data: dict, t: float) -> None:
        payload = self.decode_payload(data)
        if payload is None:
            return
        self.payload_sizes[len(payload)] += 1
        previous_end, was_playing = self.playback.end_time, self.playback.turn_start is not None
        pcm = self.dialect.decode(payload)
        first_payloads = self.report.turn_first_payloads
        if self.playback.add(t, pcm):
            first_payloads.append([len(payload)])
            if was_playing:
                self.note(previous_end, "bot_audio_end", "bot audio finished playing")
            self.bot_turn_starts(t)
        elif first_payloads and len(first_payloads[-1]) < FIRST_PAYLOADS_KEPT:
            first_payloads[-1].append(len(payload))
        self.last_bot_media = t
        self.check_premature(t)

    def decode_payload(self, data: dict) -> bytes | None:
        media = data.get("media")
        payload = media.get("payload") if isinstance(media, dict) else None
        if not isinstance(payload, str):
            self.protocol_error("media without a payload")
            return None
        self.media_keys.update(media.keys())
        self.report.media_chunks.append((str(media.get("chunk")), str(media.get("timestamp"))))
        try:
            audio = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            self.protocol_error("media payload is not valid base64")
            return None
        if len(audio) % self.dialect.bytes_per_sample:
            self.protocol_error(f"media payload of {len(audio)} bytes is not 16-bit PCM")
        return audio

    def bot_turn_starts(self, t: float) -> None:
        """The bot starts talking after a silence or a clear: greeting, reply, or interruption."""
        self.turn_started = t
        reply = self.report.replies[-1] if self.report.replies else None
        if self.report.greeting_latency is None:
            self.report.greeting_latency = t
            detail = "greeting"
        elif reply and reply.first_audio is None and reply.speech_end is not None:
            reply.first_audio = t
            detail = f"reply {reply.index}, {reply.latency:.3f} s"
        elif self.speaking is not None:
            detail = "while the caller speaks"
        else:
            detail = "again"
        self.note(t, "bot_audio", f"bot audio starts ({detail})")

    def check_premature(self, t: float) -> None:
        """Bot audio that began after the caller's speech did, while the caller still talks."""
        reply = self.speaking
        if reply is None or reply.speech_start is None or self.turn_started < reply.speech_start:
            return
        if reply.premature_media == 0:
            reply.premature_at = t
            self.note(t, "premature", f"bot talks over the caller mid-utterance ({reply.audio})")
        reply.premature_media += 1

    def on_mark(self, data: dict, t: float) -> None:
        mark = data.get("mark")
        name = mark.get("name") if isinstance(mark, dict) else None
        if not isinstance(name, str):
            self.protocol_error("mark without a name")
            return
        echo = MarkEcho(name, received=t, due=max(t, self.playback.end_time))
        self.report.marks.append(echo)
        self.pending_marks.append(echo)
        self.note(t, "mark", f"bot mark {name!r} (its audio plays out at {echo.due:+.3f}s)")
        self.wake()

    def on_clear(self, data: dict, t: float) -> None:
        if self.playback.turn_start is not None and self.playback.end_time <= t:
            self.note(self.playback.end_time, "bot_audio_end", "bot audio finished playing")
        dropped = self.playback.clear(t)
        self.report.clears.append(t)
        barge_in = self.barge_in_cleared_by(t)
        if barge_in is not None:
            kind = f"barge-in, {barge_in.latency:.3f} s after the caller started"
        else:
            kind = "while the caller speaks" if self.speaking else "caller silent"
        lost = self.report.seconds_of_bot_audio(dropped)
        self.note(t, "clear", f"clear ({kind}): dropped {lost:.2f} s of unplayed bot audio")
        for mark in self.pending_marks:  # as Twilio does: cleared marks come back at once
            mark.due, mark.cleared = t, True
        self.wake()

    def barge_in_cleared_by(self, t: float) -> BargeInResult | None:
        for barge_in in self.report.barge_ins:
            if barge_in.clear_at is None and 0 <= t - barge_in.started <= BARGE_IN_WINDOW:
                barge_in.clear_at = t
                return barge_in
        return None

    def protocol_error(self, message: str) -> None:
        self.protocol_error_count += 1
        if len(self.report.protocol_errors) < MAX_PROTOCOL_ERRORS_KEPT:
            self.report.protocol_errors.append(f"{self.now():+.3f}s {message}")

    def on_closed(self) -> None:
        if self.closed:
            return
        self.closed = True
        report = self.report
        report.close_code = self.ws.close_code
        report.close_reason = self.ws.close_reason or ""
        if report.ended_by is None and self.hanging_up:
            report.ended_by = "caller"
        if report.ended_by is None:
            report.ended_by = "server"
            reason = f" ({report.close_reason})" if report.close_reason else ""
            self.note(self.now(), "closed", f"server closed {report.close_code}{reason}")
            if report.close_code not in (1000, 1001) and report.error is None:
                report.error = f"server closed the call with code {report.close_code}{reason}"
        self.wake()

    # -- the whole call -------------------------------------------------------------------

    async def run(self, url: str, connect_kwargs: dict, start: dict, steps: Sequence[Step]):
        try:
            self.ws = await connect(url, **connect_kwargs)
        except Exception as e:
            self.fail(f"could not connect to {self.report.url}: {_describe(e)}")
            return
        receiver = asyncio.create_task(self.receive())
        try:
            await self.send_handshake(start)
            await self.run_script(steps)
        except _TimeIsUp:
            await self.hang_up_quietly()
        except (_CallOver, ConnectionClosed):
            pass
        except Exception as e:
            self.fail(f"simulator error: {e!r}")
        finally:
            await self.finish(receiver)

    async def hang_up_quietly(self) -> None:
        with contextlib.suppress(_CallOver, ConnectionClosed):
            await self.hangup(Hangup().reason)

    def fail(self, message: str) -> None:
        self.report.error = self.report.error or message
        self.report.ended_by = "error"
        self.note(self.now(), "error", message)

    async def finish(self, receiver: asyncio.Task) -> None:
        """Wait for the close, then work out what was heard and write the recording."""
        if self.ws is not None and not self.closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(1000), CLOSE_TIMEOUT)
        try:
            await asyncio.wait_for(receiver, CLOSE_TIMEOUT)
        except TimeoutError:
            receiver.cancel()
        report = self.report
        report.duration = self.now()
        report.bot_audio_bytes_received = self.playback.received_bytes
        report.bot_audio_bytes_cleared = self.playback.cleared_bytes
        report.bot_audio_bytes_heard = self.playback.heard_bytes(report.duration)
        report.media_payload_sizes = dict(sorted(self.payload_sizes.items()))
        report.bot_keys = dict(self.bot_keys)
        report.media_keys = dict(self.media_keys)
        report.bot_audio_gaps = self.playback.gaps
        report.bot_turns_heard = [(s / self.rate, e / self.rate) for s, e in self.playback.turns]
        report.max_bot_audio_ahead = self.playback.max_ahead / self.rate
        report.bot_turn_openings = [bytes(o) for o in self.playback.turn_openings]
        report.events = dict(self.events)
        report.sent = dict(self.sent)
        self.note_last_playback(report.duration)
        if self.protocol_error_count and report.error is None:
            first = report.protocol_errors[0]
            report.error = f"{self.protocol_error_count} protocol error(s), first: {first}"
        timeline = sorted(report.timeline, key=lambda entry: entry[0])
        report.timeline = [(round(t, 3), event, detail) for t, event, detail in timeline]

    def note_last_playback(self, end: float) -> None:
        if self.last_bot_media is None or self.playback.cleared:
            return
        unplayed = self.playback.end_time - end
        if unplayed > 0:
            self.note(
                end, "bot_audio_end", f"call ended with {unplayed:.2f} s of bot audio unplayed"
            )
        else:
            self.note(self.playback.end_time, "bot_audio_end", "bot audio finished playing")

    def recording(self) -> np.ndarray:
        """Stereo int16: left = what the caller said, right = the bot as the caller heard it."""
        length = max(0, round(self.report.duration * self.rate))
        caller = np.zeros(length, dtype=np.int16)
        for start, samples in self.caller_audio or ():
            part = samples[: max(0, length - start)]
            caller[start : start + len(part)] = part
        return np.stack([caller, self.playback.render(length)], axis=1)


def _describe(error: Exception) -> str:
    """A one-line reason a connection failed, the way a person would say it."""
    if isinstance(error, InvalidStatus):
        return f"server refused the websocket with HTTP {error.response.status_code}"
    if isinstance(error, TimeoutError | asyncio.TimeoutError):
        return "timed out opening the websocket"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    if isinstance(error, InvalidURI | InvalidHandshake | OSError):
        return f"{error.__class__.__name__}: {error}"
    return repr(error)


# ---------------------------------------------------------------------------------------------
# Public entry point


def prepare_url(url: str, sample_rate: int) -> tuple[str, dict[str, str]]:
    """(URL to dial, auth headers) for an Exotel-style websocket URL.

    Adds `sample-rate` for 16/24 kHz, and turns `user:pass@` into a Basic auth header the
    way Exotel does, so the URL we dial (and print) never carries the credentials.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"expected a ws:// or wss:// URL, got {url!r}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    given = [value for key, value in query if key == "sample-rate"]
    if given and given[-1] != str(sample_rate):
        raise ValueError(f"URL asks for sample-rate={given[-1]} but sample_rate={sample_rate}")
    if not given and sample_rate != 8000:
        query.append(("sample-rate", str(sample_rate)))
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if parts.port is not None:
        netloc += f":{parts.port}"
    clean = urlunsplit((parts.scheme, netloc, parts.path or "/", urlencode(query), ""))
    headers = {}
    if parts.username is not None:
        token = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(token.encode()).decode()
    return clean, headers


def _connect_kwargs(url: str, headers: dict[str, str], timeout: float) -> dict:
    loopback = urlsplit(url).hostname in ("localhost", "127.0.0.1", "::1")
    return {
        "additional_headers": headers,
        "origin": None,  # Exotel sends no Origin header
        "user_agent_header": USER_AGENT,
        "compression": None,  # Exotel does not deflate; saves CPU with many calls
        "open_timeout": timeout,
        "close_timeout": CLOSE_TIMEOUT,
        "max_size": 2**22,
        "proxy": None if loopback else True,
    }


def _check_arguments(sample_rate: int, chunk_ms: int, steps: Sequence[Step]) -> None:
    if sample_rate not in SUPPORTED_SAMPLE_RATES:
        raise ValueError(f"sample_rate must be one of {SUPPORTED_SAMPLE_RATES}, not {sample_rate}")
    low, high = CHUNK_MS_RANGE
    if not low <= chunk_ms <= high:
        raise ValueError(f"chunk_ms must be between {low} and {high}, not {chunk_ms}")
    for step in steps:
        if not isinstance(step, Step):
            raise TypeError(f"not a call step: {step!r}")
        if isinstance(step, Say | BargeIn):
            load_utterance(step.audio, sample_rate)  # a missing file fails before dialling


def _start_message(
    report: CallReport, dialect: Dialect, account_sid, from_number, to_number, params
) -> dict:
    return dialect.start_message(
        stream_sid=report.stream_sid,
        call_sid=report.call_sid,
        account_sid=account_sid,
        from_number=from_number,
        to_number=to_number,
        custom_parameters={str(k): str(v) for k, v in (params or {}).items()},
        sample_rate=report.sample_rate,
        sequence=1,
    )


async def run_call(
    url: str,
    steps: Iterable[Step] | None = None,
    *,
    sample_rate: int = 8000,
    chunk_ms: int = 100,
    call_sid: str | None = None,
    stream_sid: str | None = None,
    account_sid: str = "ACsimulator",
    from_number: str = "+919876543210",
    to_number: str = "+918047491899",
    custom_parameters: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    record_path: str | Path | None = None,
    connect_timeout: float = 10,
    hangup_after: float | None = None,
    dialect: Dialect | None = None,
    line: LineConditions | None = None,
) -> CallReport:
    """Play one Exotel call against `url` and report what the caller experienced.

    Raises only for bad arguments (unsupported rate, missing WAV, bad URL); a server that
    refuses, closes early or sends garbage gives a report with `error` / `ended_by` set.
    `hangup_after` hangs up that many seconds after `start`, whatever the script is doing.
    `dialect` shapes the messages (key style, ids, numbers, encoding, `connected`; see
    simulator/dialect.py); the default is Exotel's documented Voicebot shape. `line` adds
    line conditions (echo, noise, both tracks, jitter: simulator/line.py).
    """
    dialect = dialect or Dialect()
    if dialect.mulaw and sample_rate != 8000:
        raise ValueError(f"mu-law streams are 8000 Hz, not {sample_rate}")
    steps = default_script() if steps is None else list(steps)
    _check_arguments(sample_rate, chunk_ms, steps)
    if hangup_after is not None and hangup_after <= 0:
        raise ValueError(f"hangup_after must be positive, not {hangup_after}")
    dial_url, auth = prepare_url(url, sample_rate)
    auth_keys = {k.lower() for k in headers or {}}
    all_headers = {k: v for k, v in auth.items() if k.lower() not in auth_keys} | (headers or {})
    report = CallReport(
        url=dial_url,
        sample_rate=sample_rate,
        chunk_ms=chunk_ms,
        call_sid=call_sid or uuid.uuid4().hex,
        stream_sid=stream_sid or f"MZ{uuid.uuid4().hex}",
        dialect=repr(dialect),
    )
    start = _start_message(report, dialect, account_sid, from_number, to_number, custom_parameters)
    record = record_path is not None
    call = _Call(
        report,
        account_sid=account_sid,
        record=record,
        hangup_after=hangup_after,
        dialect=dialect,
        line=line,
    )
    await call.run(dial_url, _connect_kwargs(dial_url, all_headers, connect_timeout), start, steps)
    if record_path is not None and call.ws is not None:
        _save_recording(call, Path(record_path))
    return report


def _save_recording(call: _Call, path: Path) -> None:
    try:
        write_wav(path, call.recording(), call.rate)
    except Exception as e:
        call.report.error = call.report.error or f"could not write {path}: {e}"
        return
    call.report.record_path = str(path)


# ---------------------------------------------------------------------------------------------
# Command line


def build_script(args: argparse.Namespace) -> list[Step]:
    """The CLI's call: greeting, each --say / --dtmf answered, optional barge-in, then end."""
    says = [Say(audio) for group in args.say or [] for audio in group]
    actions: list[Step] = says + ([Dtmf(args.dtmf)] if args.dtmf else [])
    if not actions and not args.barge_in and args.hangup_after is None:
        actions = [Say("order_status")]
    steps: list[Step] = []
    if actions or not args.barge_in:
        steps.append(WaitForGreeting(timeout=args.timeout))
    for index, action in enumerate(actions):
        steps.append(action)
        if not (args.barge_in and index == len(actions) - 1):
            steps.append(WaitForBot(timeout=args.timeout))
    if args.barge_in:
        steps += [BargeIn(args.barge_in, timeout=args.timeout), WaitForBot(timeout=args.timeout)]
    if args.hangup_after is not None:
        steps.append(ExpectClose(timeout=math.inf))
    elif args.wait_close is not None:
        steps += [ExpectClose(timeout=args.wait_close), Hangup()]
    else:
        steps.append(Hangup())
    return steps


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    return key, value


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {text!r}")
    return name.strip(), value.strip()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m simulator.caller",
        description=(
            "Simulated Exotel caller: plays a Voicebot call against a websocket URL in real "
            "time and prints a timeline with greeting and reply latency. Without --say, "
            "--dtmf or --barge-in it waits for the greeting, says 'order_status', waits for "
            "the reply and hangs up."
        ),
        epilog=(
            "Audio may be a WAV path or a fixture name: order_status, pause_mid_sentence, yes, "
            "goodbye, long_talk, hindi. Exit code 0 when the greeting was heard and the call "
            "ended cleanly, else 1 (2 for bad arguments)."
        ),
    )
    p.add_argument(
        "url",
        help="ws:// or wss:// URL, e.g. ws://127.0.0.1:7860/ws; "
        "user:pass@ in it becomes Basic auth",
    )
    p.add_argument(
        "--say",
        action="append",
        nargs="+",
        metavar="FILE",
        help="caller utterances (WAV or fixture name), each followed by waiting for the reply; "
        "put the URL first when listing several",
    )
    p.add_argument("--dtmf", metavar="DIGITS", help="keys to press after the utterances, e.g. 123#")
    p.add_argument(
        "--barge-in",
        metavar="FILE",
        help="talk over the bot's last reply (or its greeting, if nothing was said)",
    )
    p.add_argument(
        "--sample-rate",
        type=int,
        choices=SUPPORTED_SAMPLE_RATES,
        help="stream rate; 16000/24000 add ?sample-rate= to the URL (default 8000)",
    )
    p.add_argument(
        "--chunk-ms", type=int, default=100, help="caller audio per media message (20-2000)"
    )
    d = p.add_argument_group("dialect (how this Exotel client shapes its messages)")
    d.add_argument("--key-style", choices=("snake", "camel"), default="snake")
    d.add_argument(
        "--ids",
        choices=("both", "start", "top"),
        default="both",
        help="where the ids go in start (top: Exotel's test client)",
    )
    d.add_argument("--numbers", action="store_true", help="numbers as JSON numbers, not strings")
    d.add_argument("--no-connected", action="store_true", help="start first, no connected")
    d.add_argument(
        "--encoding",
        default="audio/x-raw",
        help="media_format.encoding, e.g. audio/x-raw, raw/slin, audio/x-mulaw (8 kHz)",
    )
    d.add_argument(
        "--ragged", action="store_true", help="send each utterance's last payload unpadded"
    )
    p.add_argument(
        "--param",
        action="append",
        type=_key_value,
        default=[],
        metavar="KEY=VALUE",
        help="custom_parameters entry in the start message",
    )
    p.add_argument(
        "--header",
        action="append",
        type=_header,
        default=[],
        metavar="'NAME: VALUE'",
        help="extra HTTP header on the websocket request",
    )
    p.add_argument("--from", dest="from_number", default="+919876543210", help="caller number")
    p.add_argument("--to", dest="to_number", default="+918047491899", help="called number")
    p.add_argument("--record", metavar="WAV", help="write a stereo WAV: left caller, right bot")
    p.add_argument("--json", metavar="FILE", help="write the full report as JSON")
    p.add_argument(
        "--timeout",
        type=float,
        default=20.0,
        help="seconds to wait for the greeting or a reply (default 20)",
    )
    p.add_argument(
        "--wait-close",
        type=float,
        metavar="SECONDS",
        help="at the end, wait this long for the bot to hang up before hanging up",
    )
    p.add_argument(
        "--hangup-after",
        type=float,
        metavar="SECONDS",
        help="hang up this many seconds after start, keeping the line open till then",
    )
    return p


def _sample_rate_from(url: str, requested: int | None) -> int:
    """--sample-rate, else the URL's own sample-rate query parameter, else 8 kHz."""
    if requested is not None:
        return requested
    given = dict(parse_qsl(urlsplit(url).query)).get("sample-rate")
    return int(given) if given and given.isdigit() else 8000


async def _call(args: argparse.Namespace) -> CallReport:
    return await run_call(
        args.url,
        build_script(args),
        sample_rate=_sample_rate_from(args.url, args.sample_rate),
        chunk_ms=args.chunk_ms,
        from_number=args.from_number,
        to_number=args.to_number,
        custom_parameters=dict(args.param),
        headers=dict(args.header),
        record_path=args.record,
        hangup_after=args.hangup_after,
        dialect=Dialect(
            key_style=args.key_style,
            ids=args.ids,
            numbers=args.numbers,
            connected=not args.no_connected,
            encoding=args.encoding,
            pad_last=not args.ragged,
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one call from the command line; 0 if it completed, 1 if not, 2 for bad arguments."""
    args = parser().parse_args(argv)
    try:
        report = asyncio.run(_call(args))
    except (ValueError, TypeError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print(report.summary())
    if report.record_path:
        print(f"Recording: {report.record_path} (left: caller, right: bot as heard)")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        print(f"Report: {args.json}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
