"""Deepgram live STT stand-in (``/v1/listen``).

Real speech recognition is not the point: the bot only needs Deepgram's wire behaviour.
Speech is found by frame energy, and each utterance gets the next line of a shared
script, so a test decides what the bot "heard" and when.

A final transcript carries only the words whose audio has been heard, as Deepgram's does:
a ``Finalize`` (https://developers.deepgram.com/docs/finalize) or an endpoint in the middle
of a line returns the words said so far, and the rest of the line comes in a later final.
The stand-in knows words only by the line's parts: a script line marks where its speaker
pauses with ``|`` ("Hi, | I would like to know ..."), each mark standing for a silence of at
least ``PAUSE_S`` in the audio. A final sent while the caller is quiet after a part carries
the words up to the end of that part; the next part starts with the next speech.

A line with ``|`` claims to mark every pause (a lone trailing ``|`` says it has none). A
line without makes no claim: it is one part, and the stand-in cannot tell a pause inside it
from its end, so its words count as heard only after ``UNMARKED_QUIET_S`` of silence; a
Finalize sooner returns nothing rather than words not yet said. If the caller goes on after a
whole line was sent (within the endpointing window), the final came in a pause the line does
not mark: that speech adds no words (it does not take the next line), and the connection
counts an ``unmarked_pauses``, so a test or benchmark can tell it measured the script, not the
bot.

The bot's own voice is heard as the bot's words: a new utterance is held until
``ECHO_PROBE_S`` of it is loud (a few loud frames of background take no script line), then
compared with what the TTS produced lately (standins/bot_speech.py); if it is the bot's
voice coming back (echo, the other track), its words are the bot's, as a real Deepgram would
write them, and it takes no script
line. Speech is found relative to the background too: a frame is loud when it is above
``energy_threshold_dbfs`` and ``ABOVE_BACKGROUND_DB`` over the quietest frames of the last
``BACKGROUND_S`` (Deepgram's model picks the foreground voice out of steady noise).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from aiohttp import WSMsgType, web

from .bot_speech import BotSpeech
from .config import StandInConfig
from .records import ConnectionRecords

FRAME_S = 0.02
# Silence that ends one part of a script line ("Hi, | I would like ..."): longer than the
# gaps inside words and most between them in the fixtures (20-60 ms), as short as the 80 ms
# between counted digits ("one | two | three | four.").
PAUSE_S = 0.07
# Silence after which a line without marks counts as said: the VAD's stop window, so a line
# without marks is heard when the VAD stops (as pipecat's own Finalize asks), not sooner.
UNMARKED_QUIET_S = 0.2
_PUNCTUATION = ".,!?;:\"'"
# Audio of a new utterance compared with the bot's recent speech before its words are chosen.
ECHO_PROBE_S = 0.12
# Background: this percentile of the frame energies of the last BACKGROUND_S seconds; a frame
# is speech only ABOVE_BACKGROUND_DB over it.
BACKGROUND_S = 6.0
BACKGROUND_PERCENTILE = 10
ABOVE_BACKGROUND_DB = 10.0


@dataclass
class DeepgramConnection:
    """What one client connection sent and was sent; safe to read from another thread."""

    index: int
    query: dict[str, Any]
    header_names: list[str]
    has_authorization: bool
    token_auth: bool
    opened_at: float = field(default_factory=time.time)
    closed_at: float | None = None
    close_code: int | None = None
    rejected: bool = False
    dropped: bool = False
    finalize_count: int = 0
    keepalive_count: int = 0
    closestream_count: int = 0
    interim_count: int = 0
    unmarked_pauses: int = 0  # speech went on after its whole line was in a final
    echo_utterances: int = 0  # utterances heard as the bot's own voice (its words sent)
    unmarked_at: list[str] = field(default_factory=list)  # "<line> @ <audio seconds>"
    audio_bytes_total: int = 0
    finals: list[dict[str, Any]] = field(default_factory=list)
    other_messages: list[str] = field(default_factory=list)
    _audio: bytearray = field(default_factory=bytearray, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def audio(self) -> bytes:
        """A copy of the PCM received so far (bounded by ``stt.max_audio_seconds``)."""
        with self._lock:
            return bytes(self._audio)

    def add_audio(self, data: bytes, limit: int) -> None:
        with self._lock:
            self.audio_bytes_total += len(data)
            room = limit - len(self._audio)
            if room > 0:
                self._audio.extend(data[:room])

    def summary(self) -> dict[str, Any]:
        """Everything but the audio itself, for ``/_control/state``."""
        with self._lock:
            return {
                "index": self.index,
                "query": dict(self.query),
                "header_names": list(self.header_names),
                "has_authorization": self.has_authorization,
                "token_auth": self.token_auth,
                "opened_at": self.opened_at,
                "closed_at": self.closed_at,
                "rejected": self.rejected,
                "dropped": self.dropped,
                "finalize_count": self.finalize_count,
                "keepalive_count": self.keepalive_count,
                "closestream_count": self.closestream_count,
                "interim_count": self.interim_count,
                "unmarked_pauses": self.unmarked_pauses,
                "echo_utterances": self.echo_utterances,
                "unmarked_at": list(self.unmarked_at),
                "audio_bytes_total": self.audio_bytes_total,
                "audio_bytes_kept": len(self._audio),
                "finals": [dict(f) for f in self.finals],
                "other_messages": list(self.other_messages),
            }


def results_message(
    transcript: str,
    *,
    is_final: bool,
    start: float,
    duration: float,
    request_id: str,
    model: str,
    from_finalize: bool | None = None,
) -> dict[str, Any]:
    """A ``Results`` message carrying every field the SDK's pydantic model requires."""
    words = transcript.split()
    step = duration / len(words) if words else 0.0
    confidence = 0.99 if words else 0.0
    word_items = [
        {
            "word": w.strip(_PUNCTUATION).lower(),
            "start": round(start + i * step, 3),
            "end": round(start + (i + 1) * step, 3),
            "confidence": 0.99,
            "punctuated_word": w,
        }
        for i, w in enumerate(words)
    ]
    message: dict[str, Any] = {
        "type": "Results",
        "channel_index": [0, 1],
        "duration": round(duration, 3),
        "start": round(start, 3),
        "is_final": is_final,
        "speech_final": is_final,
        "channel": {
            "alternatives": [
                {"transcript": transcript, "confidence": confidence, "words": word_items}
            ]
        },
        "metadata": {
            "request_id": request_id,
            "model_info": {"name": model, "version": "stand-in", "arch": "stand-in"},
            "model_uuid": "00000000-0000-4000-8000-000000000000",
        },
    }
    if from_finalize is not None:
        message["from_finalize"] = from_finalize
    return message


@dataclass
class _Utterance:
    """One script line being spoken: which of its parts have been heard, and sent."""

    start: float
    last_loud: float
    last_interim: float
    parts: list[str]  # the line split at "|"
    marked: bool = True  # the line marks its pauses (else: heard only after a longer silence)
    loud_s: float = 0.0
    current: int = 0  # the part being spoken (or the last one spoken)
    sent: int = 0  # parts already in a final transcript
    since: float = 0.0  # audio time of the first word not yet in a final
    unsent_audio: bool = True  # loud audio since the last final
    probing: bool = False  # its words wait for the echo check (see _resolve)
    echo: bool = False  # the bot's own voice
    probed_at: float = 0.0  # audio time of the last echo check

    def words(self, first: int, end: int) -> list[str]:
        return " ".join(self.parts[first:end]).split()


class _Session:
    """The state machine of one connection: audio in, Results out."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, record, config, owner):
        self.owner = owner
        self.ws = ws
        self.request = request
        self.record: DeepgramConnection = record
        self.config: StandInConfig = config
        query = record.query
        self.sample_rate = int(query.get("sample_rate") or 16000)
        channels = int(query.get("channels") or 1)
        self.frame_samples = int(self.sample_rate * FRAME_S) * channels
        self.frame_bytes = self.frame_samples * 2
        self.audio_limit = int(self.sample_rate * 2 * channels * config.stt.max_audio_seconds)
        self.model = str(query.get("model") or "nova-3")
        self.request_id = str(uuid.uuid4())
        endpointing = str(query.get("endpointing", "")).lower()
        self.endpointing_off = endpointing == "false"
        self.endpointing_s = int(endpointing) / 1000 if endpointing.isdigit() else None
        self.audio_s = 0.0
        self.pending = b""
        self.utt: _Utterance | None = None
        self.finished: _Utterance | None = None  # the line last sent whole, for a while
        self.tasks: set[asyncio.Task] = set()
        self.bot_speech = owner.bot_speech
        self.recent = np.zeros(0, dtype=np.int16)  # the last second of audio (echo probe)
        self.energies: list[float] = []  # per frame, the last BACKGROUND_S (background)

    # Settings are read live so tests can change them mid-call.
    def _endpoint_s(self) -> float:
        return self.endpointing_s or self.config.stt.endpointing_ms / 1000

    def _endpoint_finals(self) -> bool:
        return self.config.stt.endpointing_finals and not self.endpointing_off

    def _threshold(self) -> float:
        return 32768.0 * 10 ** (self.config.stt.energy_threshold_dbfs / 20)

    async def run(self) -> None:
        while not self.ws.closed:
            unsent = self.utt is not None and self.utt.unsent_audio
            timeout = self._endpoint_s() if unsent and self._endpoint_finals() else None
            try:
                msg = await self.ws.receive(timeout=timeout)
            except TimeoutError:
                # Audio stopped flowing mid-utterance: send what the audio so far says was
                # said (as Deepgram does, it judges silence by the audio, not the wall clock).
                await self._end_utterance(from_finalize=False)
                continue
            if msg.type == WSMsgType.BINARY:
                await self._on_audio(msg.data)
            elif msg.type == WSMsgType.TEXT:
                await self._on_text(msg.data)
            else:
                break
        for task in list(self.tasks):
            task.cancel()

    async def _on_audio(self, data: bytes) -> None:
        self.record.add_audio(data, self.audio_limit)
        buf = self.pending + data if self.pending else data
        count = len(buf) // self.frame_bytes
        self.pending = buf[count * self.frame_bytes :]
        if count == 0:
            return
        samples = np.frombuffer(buf, dtype="<i2", count=count * self.frame_samples)
        self.recent = np.concatenate([self.recent, samples])[-self.sample_rate :]
        frames = samples.reshape(count, self.frame_samples).astype(np.float32)
        energy = np.einsum("ij,ij->i", frames, frames)  # sum of squares per frame
        keep = round(BACKGROUND_S / FRAME_S)
        self.energies = (self.energies + energy.tolist())[-keep:]
        background = float(np.percentile(self.energies, BACKGROUND_PERCENTILE))
        floor = max(
            self._threshold() ** 2 * self.frame_samples,
            background * 10 ** (ABOVE_BACKGROUND_DB / 10),
        )
        loud = energy >= floor
        if self.utt is None and not loud.any():
            self.audio_s += count * FRAME_S
            return
        for is_loud in loud.tolist():
            await self._step(is_loud)

    async def _step(self, is_loud: bool) -> None:
        t0 = self.audio_s
        t = self.audio_s = t0 + FRAME_S
        utt = self.utt
        if is_loud:
            if utt is None:
                utt = self.utt = self._new_utterance(t0, t)
            elif utt.current < len(utt.parts) - 1 and (
                utt.sent > utt.current or t0 - utt.last_loud >= PAUSE_S
            ):
                utt.current += 1  # after a pause (or a final): the line's next part
            if not utt.unsent_audio:
                utt.unsent_audio, utt.since = True, t0
            utt.loud_s += FRAME_S
            utt.last_loud = t
            if utt.probing and utt.loud_s >= ECHO_PROBE_S:
                self._resolve(utt)
            elif utt.echo and t - utt.probed_at >= ECHO_PROBE_S:
                utt.probed_at = t
                heard = self.recent[-round(ECHO_PROBE_S * self.sample_rate) :]
                if not self.bot_speech.echo_words(heard, self.sample_rate):
                    # The caller talks over the echo, louder: from here it is the caller.
                    utt = self.utt = _Utterance(
                        start=t0, last_loud=t, last_interim=t0, parts=[""], since=t0
                    )
                    self._take_line(utt)
            if await self._maybe_drop_mid_utterance(utt):
                return
        elif utt is None or not utt.unsent_audio:
            return
        quiet_s = t - utt.last_loud
        if quiet_s >= self._endpoint_s():
            if self._endpoint_finals():
                await self._end_utterance(from_finalize=False)
            return
        stt = self.config.stt
        if (
            stt.interim_interval > 0
            and t - utt.last_interim >= stt.interim_interval
            and utt.loud_s * 1000 >= stt.min_speech_ms
        ):
            utt.last_interim = t
            await self._send_interim(utt, t)

    def _new_utterance(self, t0: float, t: float) -> _Utterance:
        done, self.finished = self.finished, None
        if done is not None and t0 - done.last_loud < self._endpoint_s():
            # The caller went on speaking: the final came in a pause the line does not mark.
            with self.record._lock:
                self.record.unmarked_pauses += 1
                self.record.unmarked_at.append(f"{' | '.join(done.parts)!r} @ {t0:.2f} s")
            return _Utterance(
                start=t0, last_loud=t, last_interim=t0, parts=[""], since=t0, current=0
            )
        # Its words are chosen once ECHO_PROBE_S of it is loud (see _resolve): a few loud
        # frames of background take no script line.
        return _Utterance(
            start=t0, last_loud=t, last_interim=t0, parts=[""], since=t0, probing=True
        )

    def _take_line(self, utt: _Utterance) -> None:
        line = self.config.take_transcript()
        utt.parts = [part.strip() for part in line.split("|") if part.strip()] or [""]
        utt.marked = "|" in line

    def _resolve(self, utt: _Utterance) -> None:
        """The bot's voice coming back gets the bot's words; anything else, a script line."""
        utt.probing = False
        heard = self.recent[-max(1, round((self.audio_s - utt.start) * self.sample_rate)) :]
        words = (
            self.bot_speech.echo_words(heard, self.sample_rate)
            if self.bot_speech.recent()
            else None
        )
        if words:
            utt.parts, utt.marked, utt.echo = [words], False, True
            utt.probed_at = self.audio_s
            with self.record._lock:
                self.record.echo_utterances += 1
        else:
            self._take_line(utt)

    async def _maybe_drop_mid_utterance(self, utt: _Utterance) -> bool:
        """The `drop_mid_utterance` fault: close with 1011 while the caller is speaking."""
        stt = self.config.stt
        if stt.fail_mode != "drop_mid_utterance" or utt.loud_s * 1000 < stt.drop_after_ms:
            return False
        if self.config.should_fail("stt") != "drop_mid_utterance":
            return False
        self.record.dropped = True
        self.record.close_code = 1011
        self.owner.delay_next_accept = True
        self.utt = None
        await self.ws.close(code=1011, message=b"stand-in: internal error mid-utterance")
        return True

    async def _send_interim(self, utt: _Utterance, now: float) -> None:
        """The words since the last final, as many as `words_per_second` allows so far."""
        if utt.probing:
            if utt.loud_s < ECHO_PROBE_S:
                return
            self._resolve(utt)
        words = utt.words(utt.sent, utt.current + 1)
        if not words:
            return
        spoken = math.ceil((now - utt.since) * self.config.stt.words_per_second)
        text = " ".join(words[: max(1, min(len(words), spoken))])
        message = results_message(
            text,
            is_final=False,
            start=utt.since,
            duration=now - utt.since,
            request_id=self.request_id,
            model=self.model,
        )
        with self.record._lock:
            self.record.interim_count += 1
        await self._send(message)

    async def _end_utterance(
        self, *, from_finalize: bool, delay: bool = True, flush: bool = False
    ) -> None:
        """Send a final with the words heard and not yet sent (a Finalize, an endpoint, or
        `flush` at the end of the stream: every word of the line)."""
        utt = self.utt
        if utt is not None and not utt.sent and utt.loud_s * 1000 < self.config.stt.min_speech_ms:
            self.utt = utt = None  # a click, not speech
        if utt is not None and utt.probing:
            if utt.loud_s < ECHO_PROBE_S:
                self.utt = utt = None  # a few loud frames: background, not words
            else:
                self._resolve(utt)
        words: list[str] = []
        if utt is not None:
            # Parts spoken to the end: the one in progress counts once the caller is quiet.
            heard = len(utt.parts) if flush else utt.current + int(self._quiet_after(utt))
            if utt.unsent_audio:
                words = utt.words(utt.sent, heard)
            if not words and heard >= len(utt.parts):
                self.utt, self.finished = None, utt  # nothing to add (an unmarked pause's rest)
                utt = None
        if utt is None or not words:
            if from_finalize:
                # Real Deepgram answers every Finalize, even with nothing left to say.
                await self._deliver_final("", from_finalize, self.audio_s, 0.0)
            return
        start, end = utt.since, max(utt.last_loud, utt.since + FRAME_S)
        utt.sent, utt.unsent_audio, utt.since = heard, False, end
        if utt.sent >= len(utt.parts):
            self.utt = None  # the whole line is out: the next speech is the next line...
            self.finished = utt  # ...unless it goes on at once (see _new_utterance)
        await self._deliver_final(" ".join(words), from_finalize, start, end - start, delay)

    def _quiet_after(self, utt: _Utterance) -> bool:
        """The caller has been silent long enough for the part just spoken to count as said."""
        needed = FRAME_S / 2 if utt.marked else UNMARKED_QUIET_S - FRAME_S / 2
        return self.audio_s - utt.last_loud >= needed

    async def _deliver_final(
        self, text: str, from_finalize: bool, start: float, duration: float, delay: bool = True
    ) -> None:
        seconds = self.config.stt.final_delay if delay else 0.0
        if seconds <= 0:
            await self._send_final(text, from_finalize, start, duration)
            return
        later = self._send_final_later(seconds, text, from_finalize, start, duration)
        task = asyncio.create_task(later)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send_final_later(self, delay: float, *args) -> None:
        await asyncio.sleep(delay)
        await self._send_final(*args)

    async def _send_final(self, text: str, from_finalize: bool, start: float, duration: float):
        message = results_message(
            text,
            is_final=True,
            start=start,
            duration=duration,
            request_id=self.request_id,
            model=self.model,
            from_finalize=from_finalize,
        )
        with self.record._lock:
            first = not any(f["transcript"] for f in self.record.finals)
            self.record.finals.append(
                {"transcript": text, "from_finalize": from_finalize, "at": time.time()}
            )
        await self._send(message)
        if (
            text
            and first
            and self.config.stt.fail_mode == "drop_after_first_final"
            and self.config.should_fail("stt") == "drop_after_first_final"
        ):
            self.record.dropped = True
            transport = self.request.transport
            if transport is not None:
                transport.abort()  # no close frame: the client sees a dead socket

    async def _on_text(self, data: str) -> None:
        try:
            kind = json.loads(data).get("type")
        except (ValueError, AttributeError):
            kind = None
        rec = self.record
        if kind == "KeepAlive":
            rec.keepalive_count += 1
        elif kind == "Finalize":
            rec.finalize_count += 1
            await self._end_utterance(from_finalize=True)
        elif kind == "CloseStream":
            rec.closestream_count += 1
            await self._close_stream()
        elif len(rec.other_messages) < 100:
            rec.other_messages.append(data[:500])

    async def _close_stream(self) -> None:
        """Flush what is pending, report Metadata and hang up, as Deepgram does."""
        if self.utt is not None:
            await self._end_utterance(from_finalize=False, delay=False, flush=True)
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)  # finals still on delay
        await self._send(
            {
                "type": "Metadata",
                "transaction_key": "deprecated",
                "request_id": self.request_id,
                "sha256": "0" * 64,
                "created": datetime.now(UTC).isoformat(),
                "duration": round(self.audio_s, 3),
                "channels": 1,
            }
        )
        await self.ws.close()

    async def _send(self, message: dict[str, Any]) -> None:
        if self.ws.closed:
            return
        # A send can race the client hanging up; the read loop notices that on its own.
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_str(json.dumps(message))


class DeepgramStandIn(ConnectionRecords[DeepgramConnection]):
    """Serves ``/v1/listen`` and keeps one :class:`DeepgramConnection` per client."""

    def __init__(self, config: StandInConfig):
        super().__init__(config)
        self.delay_next_accept = False  # after a drop_mid_utterance: stt.reconnect_delay
        self.bot_speech = BotSpeech()  # StandIns shares the TTS stand-ins' one

    def reset(self) -> None:
        super().reset()
        self.delay_next_accept = False

    def state(self) -> list[dict[str, Any]]:
        return [c.summary() for c in self.connections]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        query: dict[str, Any] = {}
        for key in request.query:
            values = request.query.getall(key)
            query[key] = values[0] if len(values) == 1 else list(values)
        _, record = self.add_connection(
            lambda index: DeepgramConnection(
                index=index,
                query=query,
                header_names=sorted(request.headers.keys()),
                has_authorization=bool(auth),
                token_auth=auth.startswith("Token "),
            )
        )

        if self.config.stt.fail_mode == "reject" and self.config.should_fail("stt") == "reject":
            record.rejected = True
            record.closed_at = time.time()
            return web.json_response(
                {"err_code": "INVALID_AUTH", "err_msg": "Invalid credentials (stand-in)."},
                status=401,
            )

        if self.delay_next_accept:
            self.delay_next_accept = False
            await asyncio.sleep(self.config.stt.reconnect_delay)
        ws = web.WebSocketResponse(compress=False, max_msg_size=0, timeout=2.0)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            await _Session(ws, request, record, self.config, self).run()
        finally:
            self._sockets.discard(ws)
            record.closed_at = time.time()
            if not ws.closed:
                await ws.close()
        return ws
