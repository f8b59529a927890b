"""Sarvam streaming TTS stand-in (``/text-to-speech/ws``), as pipecat's ``SarvamTTSService``
uses it.

Wire protocol (docs.sarvam.ai "Text To Speech WebSocket", the ``sarvamai`` SDK's message
types, and pipecat 1.14's ``pipecat/services/sarvam/tts.py``):

- connect: ``?model=bulbul:v3&send_completion_event=true``, header ``api-subscription-key``;
- client: ``{"type": "config", "data": {"target_language_code", "speaker",
  "speech_sample_rate", "output_audio_codec", "model", ...}}`` first, then
  ``{"type": "text", "data": {"text"}}``, ``{"type": "flush"}``, ``{"type": "ping"}``;
- server: ``{"type": "audio", "data": {"audio": <base64>, "content_type", "request_id"}}``
  (``linear16``: raw 16-bit PCM at ``speech_sample_rate``), after a flush
  ``{"type": "event", "data": {"event_type": "final"}}``, and on bad input
  ``{"type": "error", "data": {"message", "code"}}``.

The audio is the same as the Cartesia stand-in's: real words from espeak-ng with
`config.tts.voice = "espeak"` (the demo), else a speech-like signal as long as the text needs.
Every message is recorded, so tests can assert the language code and read the words spoken.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import uuid
from typing import Any

from aiohttp import WSMsgType, web

from . import espeak
from .config import StandInConfig
from .records import ConnectionRecords
from .synth import speech_pcm

# Bulbul's languages (the sarvamai SDK's TextToSpeechLanguage), rates and codecs.
LANGUAGE_CODES = frozenset(
    f"{code}-IN" for code in ("bn", "en", "gu", "hi", "kn", "ml", "mr", "od", "pa", "ta", "te")
)
SAMPLE_RATES = frozenset({"8000", "16000", "22050", "24000"})
MODELS = frozenset({"bulbul:v3", "bulbul:v3-beta", "bulbul:v4-flash"})


def _config_error(config: Any, model: str) -> str | None:
    if not isinstance(config, dict):
        return "config.data must be an object"
    if model not in MODELS:
        return f"unknown model {model!r}"
    if config.get("target_language_code") not in LANGUAGE_CODES:
        return f"unsupported target_language_code {config.get('target_language_code')!r}"
    if str(config.get("speech_sample_rate")) not in SAMPLE_RATES:
        return f"unsupported speech_sample_rate {config.get('speech_sample_rate')!r}"
    if config.get("output_audio_codec", "linear16") != "linear16":
        return "the stand-in speaks linear16 only"
    if not config.get("speaker"):
        return "speaker is required"
    return None


class _Session:
    def __init__(self, ws: web.WebSocketResponse, request: web.Request, owner):
        self.ws = ws
        self.owner: SarvamTtsStandIn = owner
        self.config: StandInConfig = owner.config
        self.index = owner.new_connection(request)
        self.model = request.query.get("model", "bulbul:v2")
        self.completion = request.query.get("send_completion_event", "true") == "true"
        self.settings: dict[str, Any] | None = None
        self.queue: asyncio.Queue = asyncio.Queue()
        self.request_id = str(uuid.uuid4())

    async def run(self) -> None:
        speaker = asyncio.create_task(self.speak_queue())
        try:
            async for msg in self.ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    await self.error("message is not JSON", "invalid_request")
                    continue
                if isinstance(data, dict):
                    await self.on_message(data)
        finally:
            speaker.cancel()

    async def on_message(self, data: dict[str, Any]) -> None:
        kind = data.get("type")
        self.owner.record_request(self.index, data)
        if kind == "config":
            problem = _config_error(data.get("data"), self.model)
            if problem:
                await self.error(problem, "invalid_request")
            else:
                self.settings = dict(data["data"])
        elif kind == "text":
            text = str((data.get("data") or {}).get("text") or "")
            if self.settings is None:
                await self.error("send a config message before text", "invalid_request")
            elif text.strip():
                self.queue.put_nowait(text)
        elif kind == "flush":
            self.queue.put_nowait(None)
        elif kind != "ping":
            await self.error(f"unknown message type {kind!r}", "invalid_request")

    async def speak_queue(self) -> None:
        tts = self.config.tts
        while True:
            text = await self.queue.get()
            if text is None:  # flush: everything before it has been spoken
                if self.completion:
                    await self.send({"type": "event", "data": {"event_type": "final"}})
                continue
            if tts.first_byte_delay > 0:
                await asyncio.sleep(tts.first_byte_delay)
            rate = int(self.settings["speech_sample_rate"])
            pcm = None
            if tts.voice == "espeak":
                code = str(self.settings.get("target_language_code") or "en")[:2]
                voice = {"od": "or"}.get(code, code)  # espeak-ng calls Odia "or"
                loop = asyncio.get_running_loop()
                pcm = await loop.run_in_executor(None, espeak.speak, text.strip(), rate, voice)
            if not pcm:
                seconds = max(tts.min_ms, tts.ms_per_char * len(text.strip())) / 1000
                pcm = speech_pcm(rate, round(rate * seconds))
            step = max(2, int(rate * tts.chunk_ms / 1000) * 2)
            for offset in range(0, len(pcm), step):
                audio = base64.b64encode(pcm[offset : offset + step]).decode()
                data = {"audio": audio, "content_type": "audio/pcm", "request_id": self.request_id}
                await self.send({"type": "audio", "data": data})
                await asyncio.sleep(0)  # let other sessions and reads run

    async def error(self, message: str, code: str) -> None:
        await self.send({"type": "error", "data": {"message": message, "code": code}})

    async def send(self, message: dict[str, Any]) -> None:
        if not self.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_str(json.dumps(message, ensure_ascii=False))


class SarvamTtsStandIn(ConnectionRecords[dict[str, Any]]):
    """Serves ``/text-to-speech/ws`` and records every message each connection sent.
    A connection's record: ``query`` and ``has_api_key``."""

    def texts(self) -> list[str]:
        """The text of every ``text`` message, in order: what the bot said."""
        return [r["data"]["text"] for r in self.requests if r.get("type") == "text"]

    def languages(self) -> list[str]:
        """The ``target_language_code`` of every ``config`` message."""
        return [
            (r.get("data") or {}).get("target_language_code")
            for r in self.requests
            if r.get("type") == "config"
        ]

    def new_connection(self, request: web.Request) -> int:
        key = request.headers.get("api-subscription-key")
        index, _ = self.add_connection(
            lambda _: {"query": dict(request.query), "has_api_key": bool(key)}
        )
        return index

    def state(self) -> dict[str, Any]:
        return {"connections": self.connections, "requests": self.requests}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(compress=False, max_msg_size=0, timeout=2.0)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            await _Session(ws, request, self).run()
        finally:
            self._sockets.discard(ws)
        return ws
