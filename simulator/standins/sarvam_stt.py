"""Sarvam realtime STT stand-in (``/speech-to-text-realtime/ws``), as pipecat's
``SarvamRealtimeSTTService`` uses it.

Wire protocol (docs.sarvam.ai "Realtime Streaming Speech-to-Text API", and pipecat 1.14's
``pipecat/services/sarvam/stt.py``):

- connect: ``?language_code=hi-IN&mode=transcribe&model=saaras:v3-realtime&sample_rate=8000
  &encoding=linear16&endpointing=manual|vad&stream_type=...``, header ``API-SUBSCRIPTION-KEY``;
  a setting Sarvam does not know closes the socket with code 4000 and the reason;
- server first: ``{"event": "session.begin", "request_id"}``;
- client: ``{"event": "audio_input", "audio": <base64 PCM>}``, ``speech_start``/``speech_end``
  (manual endpointing), ``flush``, ``ping``, ``config.update``, ``end``;
- server: ``transcript.partial`` / ``transcript.final`` (``text``, ``language``), with
  ``endpointing=vad`` also ``vad.speech_start`` / ``vad.speech_end``; ``pong``; ``session.end``.

As with the Deepgram stand-in, the words come from the shared script (``config.stt``), one line
per utterance, and speech is found by frame energy. Every connection's query is recorded, so
tests can assert the language code and mode the bot asked for.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiohttp import WSMsgType, web

from .config import StandInConfig
from .records import ConnectionRecords

FRAME_S = 0.02
REJECTED_SETTINGS = 4000  # Sarvam's close code for a connection parameter it rejects
# What the realtime endpoint accepts (pipecat's SUPPORTED_LANGUAGES; `od-IN` is the spelling of
# Sarvam's other endpoints, accepted too).
LANGUAGE_CODES = frozenset(
    ["auto"]
    + [f"{code}-IN" for code in ("en", "hi", "bn", "kn", "ml", "mr", "or", "od", "pa", "ta")]
    + [f"{code}-IN" for code in ("te", "gu", "as", "ur", "ne", "kok", "ks", "sd", "sa", "sat")]
    + [f"{code}-IN" for code in ("mni", "brx", "mai", "doi")]
)
MODELS = frozenset({"saaras:v3-realtime", "saaras:v4"})
MODES = frozenset({"transcribe", "translate", "verbatim", "translit", "codemix"})
SAMPLE_RATES = frozenset({"8000", "16000"})


@dataclass
class SarvamSttConnection:
    """One client connection: its query, what it sent, and the transcripts it got back."""

    index: int
    query: dict[str, str]
    has_api_key: bool
    opened_at: float = field(default_factory=time.time)
    closed_at: float | None = None
    rejected: str | None = None
    events: dict[str, int] = field(default_factory=dict)  # client event name -> count
    audio_bytes: int = 0
    finals: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}


def _rejection(query: dict[str, str]) -> str | None:
    checks = (
        ("language_code", LANGUAGE_CODES),
        ("model", MODELS),
        ("mode", MODES),
        ("sample_rate", SAMPLE_RATES),
        ("endpointing", frozenset({"vad", "manual"})),
    )
    for name, allowed in checks:
        if query.get(name) not in allowed:
            return f"invalid {name}: {query.get(name)!r}"
    if query.get("encoding", "linear16") != "linear16":
        return f"invalid encoding: {query.get('encoding')!r}"
    return None


class _Session:
    def __init__(self, ws: web.WebSocketResponse, record: SarvamSttConnection, config):
        self.ws, self.record, self.config = ws, record, config
        self.config: StandInConfig
        self.rate = int(record.query["sample_rate"])
        self.language = record.query["language_code"]
        self.manual = record.query["endpointing"] == "manual"
        self.request_id = str(uuid.uuid4())
        self.in_turn = False  # manual: between speech_start and speech_end; vad: speech heard
        self.loud_s = self.quiet_s = self.turn_s = self.last_partial_s = 0.0
        self.transcript: str | None = None
        self.utterance = 0

    async def run(self) -> None:
        await self.send({"event": "session.begin", "request_id": self.request_id})
        async for msg in self.ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                data = json.loads(msg.data)
            except ValueError:
                continue
            event = data.get("event") if isinstance(data, dict) else None
            counts = self.record.events
            counts[str(event)] = counts.get(str(event), 0) + 1
            if event == "audio_input":
                await self.on_audio(data.get("audio") or "")
            elif event == "speech_start" and self.manual:
                self.start_turn()
            elif event in ("speech_end", "flush"):
                await self.end_turn()
            elif event == "ping":
                await self.send({"event": "pong"})
            elif event == "config.update":
                await self.send({"event": "config.updated", "request_id": self.request_id})
            elif event == "end":
                await self.end_turn()
                await self.send({"event": "session.end", "request_id": self.request_id})
                await self.ws.close()

    def start_turn(self) -> None:
        self.in_turn = True
        self.loud_s = self.quiet_s = self.turn_s = self.last_partial_s = 0.0
        self.transcript = None

    async def on_audio(self, audio: str) -> None:
        try:
            pcm = base64.b64decode(audio, validate=True)
        except (binascii.Error, ValueError):
            await self.send({"event": "error", "code": "invalid_audio", "is_fatal": False})
            return
        self.record.audio_bytes += len(pcm)
        samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float32)
        frame = int(self.rate * FRAME_S)
        threshold = 32768.0 * 10 ** (self.config.stt.energy_threshold_dbfs / 20)
        for start in range(0, len(samples) - frame + 1, frame):
            chunk = samples[start : start + frame]
            await self.on_frame(float(np.sqrt(np.mean(chunk * chunk))) >= threshold)

    async def on_frame(self, loud: bool) -> None:
        stt = self.config.stt
        if not self.in_turn:
            if self.manual or not loud:
                return
            self.start_turn()  # vad endpointing: the server decides where speech starts
            await self.send({"event": "vad.speech_start", "request_id": self.request_id})
        self.turn_s += FRAME_S
        self.loud_s += FRAME_S if loud else 0.0
        self.quiet_s = 0.0 if loud else self.quiet_s + FRAME_S
        if not self.manual and self.quiet_s >= stt.endpointing_ms / 1000:
            await self.send({"event": "vad.speech_end", "request_id": self.request_id})
            await self.end_turn()
            return
        heard_enough = self.loud_s * 1000 >= stt.min_speech_ms
        if heard_enough and self.turn_s - self.last_partial_s >= max(stt.interim_interval, 0.1):
            self.last_partial_s = self.turn_s
            self.transcript = self.transcript or self.config.take_transcript()
            words = self.transcript.split()
            shown = max(1, min(len(words), round(self.turn_s * stt.words_per_second)))
            await self.send(self.result("transcript.partial", " ".join(words[:shown])))

    async def end_turn(self) -> None:
        if not self.in_turn:
            return
        self.in_turn = False
        text = ""
        if self.loud_s * 1000 >= self.config.stt.min_speech_ms:
            text = self.transcript or self.config.take_transcript()
        self.record.finals.append(text)
        await self.send(self.result("transcript.final", text))
        self.utterance += 1

    def result(self, event: str, text: str) -> dict[str, Any]:
        language = "hi-IN" if self.language == "auto" else self.language
        return {
            "event": event,
            "request_id": self.request_id,
            "utterance_idx": self.utterance,
            "text": text,
            "language": language,
            "language_confidence": 0.99,
        }

    async def send(self, message: dict[str, Any]) -> None:
        if not self.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_str(json.dumps(message, ensure_ascii=False))


class SarvamSttStandIn(ConnectionRecords[SarvamSttConnection]):
    """Serves ``/speech-to-text-realtime/ws`` and keeps a record per connection."""

    def state(self) -> list[dict[str, Any]]:
        return [c.summary() for c in self.connections]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        _, record = self.add_connection(
            lambda index: SarvamSttConnection(
                index=index,
                query=dict(request.query),
                has_api_key=bool(request.headers.get("API-SUBSCRIPTION-KEY")),
            )
        )
        ws = web.WebSocketResponse(compress=False, max_msg_size=0, timeout=2.0)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            record.rejected = _rejection(record.query)
            if record.rejected:
                await ws.close(code=REJECTED_SETTINGS, message=record.rejected.encode()[:120])
            else:
                await _Session(ws, record, self.config).run()
        finally:
            self._sockets.discard(ws)
            record.closed_at = time.time()
        return ws
