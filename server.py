"""Run the bot locally: a websocket at /ws for Exotel, handed to `bot()` as Pipecat Cloud does.

    python server.py            # real calls: needs your API keys in .env, and ngrok for Exotel
    python server.py --workers 2   # one worker per core; needs REDIS_URL (docs/scaling.md)
    python server.py --control  # beside Pipecat Cloud: /dialout, Passthru, voicebot-url only

Each websocket is one call, run in its own task: a call that fails never touches another.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
import os
import sys
import uuid
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import httpx
import uvicorn
from dotenv import find_dotenv, load_dotenv
from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, PlainTextResponse
from loguru import logger

from exotel_bot.garbage_collection import release_call_memory
from exotel_bot.http.connect_routes import connect_router
from exotel_bot.http.flow_routes import base_ws_url, flow_router
from exotel_bot.http.outbound_routes import outbound_router
from exotel_bot.logs import call_logging, hide_secrets, setup_logging
from exotel_bot.security import Refusal, admission, over_capacity
from exotel_bot.settings import ConfigError, Settings, load_settings
from exotel_bot.stores import StoreUnavailable, check_redis_now, open_stores, stores
from exotel_bot.wire.urls import exotel_url

# Hosts Exotel cannot reach: GET / says to start ngrok instead of showing their URL as the one.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")

# No websocket pings. Exotel documents no ping/pong, and uvicorn's default (a ping every 20 s,
# the connection closed 20 s after one goes unanswered) drops a live call at 40 s when the
# peer never answers. Media flows both ways all call long: a peer that is gone is found by a
# failed or stalled write (exotel_bot/wire/client.py), a closed socket, or Exotel's `stop`.
# See docs/exotel-wire.md ("Keepalive").
WEBSOCKET_KEEPALIVE = {"ws_ping_interval": None, "ws_ping_timeout": None}


def decode_body(body: str | None) -> dict:
    """The optional `?body=` query parameter: base64-encoded JSON, as Pipecat Cloud accepts it."""
    if not body:
        return {}
    try:
        decoded = json.loads(base64.b64decode(body, validate=False))
    except (binascii.Error, ValueError) as e:
        logger.warning(f"Ignoring ?body= that is not base64 JSON: {e}")
        return {}
    if not isinstance(decoded, dict):
        logger.warning("Ignoring ?body= that is not a JSON object")
        return {}
    return decoded


async def ngrok_public_url() -> str | None:
    """The https URL of a running ngrok tunnel, from ngrok's local agent API, if there is one."""
    try:
        async with httpx.AsyncClient(timeout=0.5) as client:
            tunnels = (await client.get("http://127.0.0.1:4040/api/tunnels")).json()["tunnels"]
    except (httpx.HTTPError, ValueError, KeyError):
        return None
    urls = [t.get("public_url", "") for t in tunnels]
    return next((u for u in urls if u.startswith("https://")), None)


async def print_exotel_url(port: int) -> None:
    public = await ngrok_public_url() or load_settings(require_keys=False).public_url
    if public:
        logger.info(f"Exotel Voicebot applet URL: {exotel_url(public)}")
    else:
        logger.info(
            f"Listening on port {port}. To take real calls, run `ngrok http {port}` (this server "
            "then prints the URL for the Exotel Voicebot applet when restarted) or set PUBLIC_URL."
        )


async def refuse(websocket: WebSocket, refusal: Refusal) -> None:
    """Answer the upgrade request with an HTTP error (401, 503) instead of a websocket."""
    forwarded = websocket.headers.get("x-forwarded-for", "").split(",")[0].strip()
    client = forwarded or (websocket.client.host if websocket.client else "?")
    logger.warning(f"Refusing websocket from {client}: {refusal.reason}")
    response = PlainTextResponse(refusal.reason, refusal.status, headers=refusal.headers)
    try:
        await websocket.send_denial_response(response)
    except RuntimeError:  # a server without the denial extension: a plain 403
        await websocket.close(code=1008)


def build_app(*, calls: bool = True, settings: Settings | None = None) -> FastAPI:
    """The FastAPI app. `calls=True`: /ws for calls plus the HTTP side; `calls=False` (the
    control plane, `--control`): only the HTTP side, without importing bot.py or pipecat.
    `settings`: the process's (`load_settings()`) unless given."""
    setup_logging()
    settings = settings or load_settings(require_keys=calls)
    hide_secrets(settings.secrets())
    if calls:  # imported here so a config error is reported before pipecat loads; importing
        from bot import bot  # bot.py warms its models: each worker does so before serving

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.stores = await open_stores(settings, takes_calls=calls)
        if calls:
            await print_exotel_url(settings.port)
        try:
            yield
        finally:
            await app.state.stores.close()

    # FastAPI's own pages (/docs, /redoc, /openapi.json) list every route to whoever finds the
    # public URL: off unless API_DOCS=true.
    docs = settings.api_docs
    app = FastAPI(
        title="Exotel Pipecat bot",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )

    @app.exception_handler(StoreUnavailable)
    async def store_unavailable(request: Request, error: StoreUnavailable):
        logger.error(f"{request.method} {request.url.path}: {error}")
        return JSONResponse({"detail": f"Call state store unavailable: {error}"}, status_code=503)

    @app.get("/")
    async def index(request: Request):
        """What this server is, and where Exotel's Voicebot applet should point."""
        body = {"service": "Exotel phone bot (Pipecat)", "health": "/health"}
        if calls:
            body["exotel_voicebot_url"] = url = base_ws_url(settings, request)
            if urlsplit(url).hostname in LOOPBACK_HOSTS:
                body["next_step"] = (
                    f"Exotel cannot reach {urlsplit(url).hostname}: run `ngrok http "
                    f"{settings.port}` and open the https URL it prints (or its /), which shows "
                    "the wss:// URL to paste into the Voicebot applet of your Exotel flow."
                )
                return body
            body["next_step"] = (
                "Paste exotel_voicebot_url into the Voicebot applet of your Exotel flow"
                + (
                    " as wss://USER:PASSWORD@host/ws (Basic auth is on)"
                    if settings.ws_username
                    else ""
                )
                + ", then call your ExoPhone."
            )
        else:
            body["role"] = "control plane: /dialout, /exotel/passthru, /exotel/voicebot-url"
        return body

    @app.get("/health")
    async def health():
        current = stores()
        body = {
            "status": "ok",
            "role": "calls" if calls else "control",
            "pid": os.getpid(),
            "store": current.kind,
            "worker_calls": current.slots.local(),  # this process's calls
            "tasks": len(asyncio.all_tasks()),  # a leak check: flat between calls
        }
        try:  # calls across every worker sharing the store (this one's alone in memory)
            body["active_calls"] = await current.slots.running()
        except StoreUnavailable as e:
            body |= {"active_calls": current.slots.local(), "store_error": str(e)}
        return body

    app.include_router(flow_router(settings))  # /exotel/voicebot-url, /exotel/passthru
    app.include_router(outbound_router(settings))  # /dialout, /exotel/status: outbound calls
    app.include_router(connect_router(settings))  # /exotel/connect: the department's number
    if calls:
        add_call_route(app, bot, settings)
        setup_logging()  # again: importing pipecatcloud replaces loguru's handler
    return app


def add_call_route(app: FastAPI, bot, settings: Settings) -> None:
    """/ws: one Exotel call per websocket, handed to `bot()` as Pipecat Cloud does."""
    from exotel_bot.wire.handshake import close_quietly

    try:  # What Pipecat Cloud's base image passes to bot(); pipecat's own class otherwise.
        from pipecatcloud.agent import WebSocketSessionArguments as SessionArguments
    except ImportError:
        from pipecat.runner.types import WebSocketRunnerArguments as SessionArguments

    @app.websocket("/ws")
    async def websocket_endpoint(websocket: WebSocket):
        # Checked before accepting: a refused websocket never gets a pipeline (security.py).
        session_id = str(uuid.uuid4())
        refusal = admission(websocket.headers, settings)
        if refusal is None:  # the cap, counted across every worker sharing the store
            slot = await stores().slots.acquire(session_id)
            refusal = None if slot.admitted else over_capacity(slot.running, slot.limit)
        if refusal:
            await refuse(websocket, refusal)
            return
        try:
            await websocket.accept()
            args = SessionArguments(
                websocket=websocket,
                session_id=session_id,
                body=decode_body(websocket.query_params.get("body")),
            )
            await bot(args)
        except Exception:
            logger.exception(f"Session {session_id} failed")
        finally:
            await free_slot(session_id)
            await close_quietly(websocket)
            release_call_memory()  # a call's pipeline is cyclic garbage: free it now


async def free_slot(session_id: str) -> None:
    """Give the call's slot back; if the store is down, its lease runs out by itself."""
    try:
        await stores().slots.release(session_id)
    except StoreUnavailable as e:
        with call_logging(f"session-{session_id}"):
            logger.error(f"Could not free this call's slot ({e}); its lease will run out")


def uvicorn_options(settings: Settings, host: str, port: int) -> dict:
    """How uvicorn serves the app: bigger websocket messages are refused with close code 1009
    before they reach the bot, and no keepalive pings (WEBSOCKET_KEEPALIVE)."""
    return dict(
        host=host,
        port=port,
        log_level="warning",
        ws_max_size=settings.max_message_bytes,
        **WEBSOCKET_KEEPALIVE,
    )


def create_app() -> FastAPI:
    """The app for calls (uvicorn factory: `server:create_app`)."""
    return build_app(calls=True)


def create_control_app() -> FastAPI:
    """The control plane's app (uvicorn factory: `server:create_control_app`)."""
    return build_app(calls=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=None, help="default: $HOST or 0.0.0.0")
    parser.add_argument("--port", type=int, default=None, help="default: $PORT or 7860")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes on this port (default: $WEB_CONCURRENCY or 1); >1 needs REDIS_URL",
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="only /dialout, /exotel/status, /exotel/passthru, /exotel/connect, "
        "/exotel/voicebot-url and /health (beside a Pipecat Cloud bot): no /ws, no bot.py, "
        "no models, no vendor keys",
    )
    args = parser.parse_args()

    load_dotenv(find_dotenv(usecwd=True), override=False)
    setup_logging()
    # The command line wins over HOST/PORT; written back so every worker's settings agree.
    os.environ.update({k: str(v) for k, v in (("HOST", args.host), ("PORT", args.port)) if v})

    try:
        settings = load_settings(require_keys=not args.control)
        host, port = settings.host, settings.port
        workers = args.workers or settings.web_concurrency
        if workers < 1:
            raise ConfigError(f"--workers {workers}: use 1 or more")
        if workers > 1 and not settings.redis_url:
            raise ConfigError(
                f"{workers} workers need REDIS_URL: each worker is its own process, and the "
                "dials, transfer decisions and call count must be shared. Start Redis "
                "(e.g. `redis-server`) and set REDIS_URL=redis://127.0.0.1:6379/0, or run 1 worker."
            )
        check_redis_now(settings)  # a clear error now, not one per worker later
        if workers == 1:
            app = build_app(calls=not args.control)
    except ConfigError as e:
        logger.error(str(e))
        sys.exit(2)

    options = uvicorn_options(settings, host, port)
    if workers == 1:
        uvicorn.run(app, **options)
    else:  # each worker imports the app (and warms its models) itself
        factory = "server:create_control_app" if args.control else "server:create_app"
        logger.info(f"Starting {workers} workers on port {port}")
        uvicorn.run(factory, factory=True, workers=workers, **options)


if __name__ == "__main__":
    main()
