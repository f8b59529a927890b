"""Cartesia TTS websocket stand-in (``/tts/websocket``).

Each context streams a speech-like signal whose length follows the text, with word
timestamps, because pipecat's Cartesia service builds the bot's spoken-text frames
(and so the assistant turns in the LLM context) from those timestamps.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from . import espeak
from .bot_speech import BotSpeech
from .config import StandInConfig
from .records import ConnectionRecords
from .synth import speech_pcm


@dataclass
class CartesiaConnection:
    """One client connection: handshake facts and per-context audio totals."""

    index: int
    query: dict[str, str]
    has_api_key: bool
    cartesia_version: str | None
    opened_at: float = field(default_factory=time.time)
    closed_at: float | None = None
    closed_by_fault: bool = False
    contexts: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def context(self, context_id: str) -> dict[str, Any]:
        with self._lock:
            return self.contexts.setdefault(
                context_id,
                {
                    "transcripts": [],
                    "audio_ms": 0.0,
                    "chunks": 0,
                    "sample_rate": None,
                    "first_audio_at": None,
                    "cancelled": False,
                    "done": False,
                    "error": False,
                },
            )

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {
                "index": self.index,
                "query": dict(self.query),
                "has_api_key": self.has_api_key,
                "cartesia_version": self.cartesia_version,
                "opened_at": self.opened_at,
                "closed_at": self.closed_at,
                "closed_by_fault": self.closed_by_fault,
                "contexts": {
                    k: dict(v, transcripts=list(v["transcripts"])) for k, v in self.contexts.items()
                },
            }


class _Context:
    """One context's queue of transcripts (``None`` = flushed) and its generator task."""

    def __init__(self, context_id: str, stats: dict[str, Any]):
        self.id = context_id
        self.stats = stats
        self.queue: asyncio.Queue = asyncio.Queue()
        self.offset_s = 0.0
        self.held_word: list[Any] | None = None  # [word, start, end], sent once it is whole
        self.cancelled = False
        self.task: asyncio.Task | None = None


class _Session:
    """Reads one connection's requests and runs a generator task per live context."""

    def __init__(self, ws: web.WebSocketResponse, record: CartesiaConnection, owner):
        self.ws = ws
        self.record = record
        self.owner: CartesiaStandIn = owner
        self.config: StandInConfig = owner.config
        self.contexts: dict[str, _Context] = {}
        self.failed: set[str] = set()

    async def run(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                if isinstance(data, dict):
                    await self._on_request(data)
        finally:
            for ctx in self.contexts.values():
                if ctx.task:
                    ctx.task.cancel()

    async def _on_request(self, data: dict[str, Any]) -> None:
        self.owner.record_request(self.record.index, data)
        context_id = str(data.get("context_id") or "")
        if data.get("cancel"):
            ctx = self.contexts.pop(context_id, None)
            self.record.context(context_id)["cancelled"] = True
            if ctx:
                ctx.cancelled = True
                if ctx.task:
                    ctx.task.cancel()
            return
        if context_id in self.failed:
            return
        transcript = str(data.get("transcript") or "")
        stats = self.record.context(context_id)
        if transcript.strip():
            stats["transcripts"].append(transcript)
            if await self._inject_fault(context_id, stats):
                return
        ctx = self.contexts.get(context_id)
        if ctx is None:
            ctx = self.contexts[context_id] = _Context(context_id, stats)
            ctx.task = asyncio.create_task(self._generate(ctx))
        ctx.queue.put_nowait((transcript, data))
        if not data.get("continue", False):
            ctx.queue.put_nowait(None)

    async def _inject_fault(self, context_id: str, stats: dict[str, Any]) -> bool:
        mode = self.config.tts.fail_mode
        if mode is None or self.config.should_fail("tts") != mode:
            return False
        if mode == "close":
            self.record.closed_by_fault = True
            await self.ws.close(code=1011, message=b"stand-in failure")
            return True
        self.failed.add(context_id)
        stats["error"] = True
        await self._send(
            {
                "type": "error",
                "context_id": context_id,
                "error": "stand-in failure",
                "status_code": 500,
                "done": True,
            }
        )
        return True

    async def _generate(self, ctx: _Context) -> None:
        waited = False
        while True:
            item = await ctx.queue.get()
            if item is None:
                break
            text, request = item
            if not text.strip():
                continue
            if not waited:
                waited = True
                if self.config.tts.first_byte_delay > 0:
                    await asyncio.sleep(self.config.tts.first_byte_delay)
            await self._speak(ctx, text, request)
        if not ctx.cancelled:
            if ctx.held_word:
                await self._send(_timestamps(ctx.id, [ctx.held_word]))
            ctx.stats["done"] = True
            await self._send(
                {"type": "done", "context_id": ctx.id, "status_code": 206, "done": True}
            )
        if self.contexts.get(ctx.id) is ctx:
            del self.contexts[ctx.id]

    async def _speak(self, ctx: _Context, text: str, request: dict[str, Any]) -> None:
        tts = self.config.tts
        loop = asyncio.get_running_loop()
        sample_rate = int((request.get("output_format") or {}).get("sample_rate") or 24000)
        # The floor applies per context, so token-by-token streaming is not stretched.
        floor_ms = tts.min_ms if ctx.offset_s == 0 else 0.0
        pcm = None
        if tts.voice == "espeak":
            voice = str(request.get("language") or "en")[:2]
            pcm = await loop.run_in_executor(None, espeak.speak, text.strip(), sample_rate, voice)
        if pcm:
            duration_s = len(pcm) / 2 / sample_rate
        else:
            duration_s = max(floor_ms, tts.ms_per_char * len(text.strip())) / 1000
            pcm = speech_pcm(sample_rate, round(sample_rate * duration_s))
        step = max(2, int(sample_rate * tts.chunk_ms / 1000) * 2)
        self.owner.bot_speech.add(sample_rate, pcm, text)  # the STT stand-in can hear it back
        ctx.stats["sample_rate"] = sample_rate
        want_timestamps = tts.send_timestamps and request.get("add_timestamps", False)
        started, sent_s = loop.time(), 0.0
        for i, offset in enumerate(range(0, len(pcm), step)):
            if ctx.cancelled or self.ws.closed:
                return
            piece = pcm[offset : offset + step]
            await self._send(
                {
                    "type": "chunk",
                    "context_id": ctx.id,
                    "data": base64.b64encode(piece).decode(),
                    "done": False,
                    "status_code": 206,
                    "step_time": tts.chunk_ms,
                }
            )
            if i == 0:
                if ctx.stats["first_audio_at"] is None:
                    ctx.stats["first_audio_at"] = time.time()
                if want_timestamps:
                    words = _timed_words(ctx, text, duration_s)
                    if words:
                        await self._send(_timestamps(ctx.id, words))
            piece_s = len(piece) / 2 / sample_rate
            sent_s += piece_s
            ctx.stats["chunks"] += 1
            ctx.stats["audio_ms"] += piece_s * 1000
            factor = tts.realtime_factor
            ahead = sent_s / factor - (loop.time() - started) if factor else 0.0
            # Always yield, so a cancel that arrives mid-stream is read in time.
            await asyncio.sleep(max(0.0, ahead))
        ctx.offset_s += duration_s

    async def _send(self, message: dict[str, Any]) -> None:
        if self.ws.closed:
            return
        # A send can race the client hanging up; the read loop notices that on its own.
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_str(json.dumps(message))


def _timed_words(ctx: _Context, text: str, duration_s: float) -> list[list[Any]]:
    """Word timings spread evenly over this text's audio, relative to the context start.

    Like Cartesia, punctuation rides on the word before it, even when the LLM streamed
    it in the next token (", your"), so the last word is held until the next text.
    """
    tokens = text.split()
    step = duration_s / len(tokens) if tokens else 0.0
    words = [ctx.held_word] if ctx.held_word else []
    for i, token in enumerate(tokens):
        if any(c.isalnum() for c in token) or not words:
            start = ctx.offset_s + i * step
            words.append([token, round(start, 3), round(start + step, 3)])
        else:
            words[-1][0] += token
    ctx.held_word = words.pop() if words else None
    return words


def _timestamps(context_id: str, words: list[list[Any]]) -> dict[str, Any]:
    return {
        "type": "timestamps",
        "context_id": context_id,
        "status_code": 206,
        "done": False,
        "word_timestamps": {
            "words": [w[0] for w in words],
            "start": [w[1] for w in words],
            "end": [w[2] for w in words],
        },
    }


class CartesiaStandIn(ConnectionRecords[CartesiaConnection]):
    """Serves ``/tts/websocket`` and records every request message."""

    bot_speech: BotSpeech = BotSpeech()  # replaced by StandIns with the one the STT reads

    def state(self) -> dict[str, Any]:
        return {
            "connections": [c.summary() for c in self.connections],
            "requests": self.requests,
        }

    async def handle(self, request: web.Request) -> web.StreamResponse:
        query = {k: v for k, v in request.query.items() if k != "api_key"}
        _, record = self.add_connection(
            lambda index: CartesiaConnection(
                index=index,
                query=query,
                has_api_key=bool(request.headers.get("X-API-Key") or request.query.get("api_key")),
                cartesia_version=request.headers.get("Cartesia-Version")
                or request.query.get("cartesia_version"),
            )
        )
        ws = web.WebSocketResponse(compress=False, max_msg_size=0, timeout=2.0)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            await _Session(ws, record, self).run()
        finally:
            self._sockets.discard(ws)
            record.closed_at = time.time()
        return ws
