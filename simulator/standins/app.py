"""All the vendor stand-ins on one aiohttp port, and a runner for tests, demos and benchmarks.

One port keeps the wiring to a few environment variables and one process, and the
runner can live in a background thread so synchronous tests can drive a real bot.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from aiohttp import web

from .bot_speech import BotSpeech
from .cartesia import CartesiaStandIn
from .config import StandInConfig
from .deepgram import DeepgramStandIn
from .openai_chat import OpenAIStandIn
from .sarvam_stt import SarvamSttStandIn
from .sarvam_tts import SarvamTtsStandIn

STANDINS_KEY = web.AppKey("standins", object)


def build_app(standins: StandIns) -> web.Application:
    """The routes of every stand-in plus ``/_control`` for out-of-process drivers."""
    app = web.Application(client_max_size=32 * 1024 * 1024)
    app[STANDINS_KEY] = standins
    app.router.add_get("/v1/listen", standins.deepgram.handle)
    app.router.add_post("/v1/chat/completions", standins.openai.chat_completions)
    app.router.add_get("/v1/models", standins.openai.models)
    app.router.add_get("/tts/websocket", standins.cartesia.handle)
    app.router.add_get("/speech-to-text-realtime/ws", standins.sarvam_stt.handle)
    app.router.add_get("/text-to-speech/ws", standins.sarvam_tts.handle)
    app.router.add_post("/_control/config", _patch_config)
    app.router.add_get("/_control/config", _get_config)
    app.router.add_get("/_control/state", _get_state)
    app.router.add_post("/_control/reset", _reset)
    app.on_shutdown.append(_close_sockets)
    return app


async def _patch_config(request: web.Request) -> web.Response:
    standins: StandIns = request.app[STANDINS_KEY]
    try:
        standins.config.apply_patch(await request.json())
    except (ValueError, AttributeError) as e:
        return web.json_response({"error": str(e)}, status=400)
    return web.json_response(standins.config.to_dict())


async def _get_config(request: web.Request) -> web.Response:
    return web.json_response(request.app[STANDINS_KEY].config.to_dict())


async def _get_state(request: web.Request) -> web.Response:
    return web.json_response(request.app[STANDINS_KEY].state())


async def _reset(request: web.Request) -> web.Response:
    request.app[STANDINS_KEY].reset()
    return web.json_response({"ok": True})


async def _close_sockets(app: web.Application) -> None:
    standins: StandIns = app[STANDINS_KEY]
    standins.openai.shutting_down = True
    await standins.deepgram.close_all()
    await standins.cartesia.close_all()
    await standins.sarvam_stt.close_all()
    await standins.sarvam_tts.close_all()


class StandIns:
    """Runs the stand-in server, in the current event loop or in a daemon thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, config: StandInConfig | None = None):
        self.host = host
        self.port = port
        self.config = config or StandInConfig()
        self.deepgram = DeepgramStandIn(self.config)
        self.openai = OpenAIStandIn(self.config)
        self.cartesia = CartesiaStandIn(self.config)
        self.sarvam_stt = SarvamSttStandIn(self.config)
        self.sarvam_tts = SarvamTtsStandIn(self.config)
        # What the TTS spoke, so the STT hears the bot's voice when it comes back.
        self.bot_speech = self.cartesia.bot_speech = self.deepgram.bot_speech = BotSpeech()
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def env(self) -> dict[str, str]:
        """The settings a bot needs to talk to these stand-ins instead of the vendors."""
        return {
            "DEEPGRAM_BASE_URL": f"ws://{self.host}:{self.port}",
            "OPENAI_BASE_URL": f"http://{self.host}:{self.port}/v1",
            "CARTESIA_WS_URL": f"ws://{self.host}:{self.port}/tts/websocket",
            "SARVAM_STT_URL": f"ws://{self.host}:{self.port}/speech-to-text-realtime/ws",
            "SARVAM_TTS_URL": f"ws://{self.host}:{self.port}/text-to-speech/ws",
        }

    def reset(self) -> None:
        """Forget every recording and put the default config back."""
        self.config.reset()
        self.deepgram.reset()
        self.openai.reset()
        self.cartesia.reset()
        self.sarvam_stt.reset()
        self.sarvam_tts.reset()
        self.bot_speech.reset()

    def state(self) -> dict[str, Any]:
        """What was recorded so far, as JSON-ready data (no audio bytes)."""
        return {
            "config": self.config.to_dict(),
            "deepgram": {"connections": self.deepgram.state()},
            "openai": {"requests": self.openai.requests},
            "cartesia": self.cartesia.state(),
            "sarvam_stt": {"connections": self.sarvam_stt.state()},
            "sarvam_tts": self.sarvam_tts.state(),
        }

    # In an existing event loop.
    async def start_async(self) -> StandIns:
        self.openai.shutting_down = False
        runner = web.AppRunner(
            build_app(self), handle_signals=False, access_log=None, shutdown_timeout=2.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, backlog=1024)
        await site.start()
        self._runner = runner
        self.port = runner.addresses[0][1]
        return self

    async def stop_async(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> StandIns:
        return await self.start_async()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop_async()

    # In a background thread, for synchronous callers.
    def start(self, timeout: float = 10.0) -> StandIns:
        """Start serving on a daemon thread; returns once the port is listening."""
        if self._thread is not None:
            raise RuntimeError("stand-ins already started")
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start_async())
            except BaseException as e:  # report to the starting thread, then give up
                failure.append(e)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop_async())
                loop.close()

        self._thread = threading.Thread(target=serve, name="standins", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("stand-ins did not start in time")
        if failure:
            self._thread = None
            raise failure[0]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the background server and wait for its thread to end."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = self._loop = None

    def __enter__(self) -> StandIns:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
