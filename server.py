"""Run the bot locally: a websocket at /ws for Exotel, handed to `bot()` as Pipecat Cloud does.

    python server.py            # real calls: needs your API keys in .env, and ngrok for Exotel

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

import httpx
import uvicorn
from dotenv import find_dotenv, load_dotenv
from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import PlainTextResponse
from loguru import logger

from exotel_bot.call.control import transfer_decisions
from exotel_bot.garbage_collection import release_call_memory
from exotel_bot.logs import call_logging, setup_logging
from exotel_bot.outbound.routes import outbound_router
from exotel_bot.security import Refusal, admission
from exotel_bot.settings import ConfigError, load_settings
from exotel_bot.wire.handshake import close_quietly

try:  # What Pipecat Cloud's base image passes to bot(); pipecat's own class otherwise.
    from pipecatcloud.agent import WebSocketSessionArguments as SessionArguments
except ImportError:
    from pipecat.runner.types import WebSocketRunnerArguments as SessionArguments

active_calls: set[str] = set()


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


def exotel_url(public_url: str) -> str:
    """The websocket URL to paste into the Exotel Voicebot applet for a public https/wss URL."""
    url = public_url.rstrip("/")
    for old, new in (("https://", "wss://"), ("http://", "ws://")):
        if url.startswith(old):
            url = new + url[len(old) :]
    if not url.startswith(("wss://", "ws://")):
        url = "wss://" + url
    return url if url.endswith("/ws") else url + "/ws"


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
    public = await ngrok_public_url() or os.environ.get("PUBLIC_URL")
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


def create_app() -> FastAPI:
    """The FastAPI app: /ws for calls, /health for load balancers and tests."""
    from bot import bot  # imported here so a config error is reported before pipecat loads

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await print_exotel_url(int(os.environ.get("PORT", "7860")))
        yield

    app = FastAPI(title="Exotel Pipecat bot", lifespan=lifespan)

    @app.get("/health")
    async def health():
        return {
            "status": "ok",
            "active_calls": len(active_calls),
            "tasks": len(asyncio.all_tasks()),  # a leak check: flat between calls
        }

    @app.api_route("/exotel/passthru", methods=["GET", "POST"])
    async def passthru(request: Request):
        """Exotel's Passthru applet after the Voicebot: 200 = connect an agent, 302 = hang up."""
        call_sid = request.query_params.get("CallSid", "")
        if not call_sid and request.method == "POST":
            call_sid = str((await request.form()).get("CallSid", ""))
        decision = transfer_decisions.get(call_sid) if call_sid else None
        with call_logging(call_sid or "-"):
            logger.info(f"Passthru asks what next: {decision or 'hang up'}")
        if decision == "transfer":
            return PlainTextResponse("transfer", status_code=200)
        return PlainTextResponse("hangup", status_code=302, headers={"Location": "/"})

    @app.websocket("/ws")
    async def websocket_endpoint(websocket: WebSocket):
        # Checked before accepting: a refused websocket never gets a pipeline (security.py).
        refusal = admission(websocket.headers, len(active_calls), load_settings())
        if refusal:
            await refuse(websocket, refusal)
            return
        session_id = str(uuid.uuid4())
        active_calls.add(session_id)  # no await since the check: the cap cannot be overshot
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
            active_calls.discard(session_id)
            await close_quietly(websocket)
            release_call_memory()  # a call's pipeline is cyclic garbage: free it now

    app.include_router(outbound_router())  # /dialout, /exotel/status: outbound calls
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=None, help="default: $HOST or 0.0.0.0")
    parser.add_argument("--port", type=int, default=None, help="default: $PORT or 7860")
    args = parser.parse_args()

    load_dotenv(find_dotenv(usecwd=True), override=False)
    setup_logging()
    host = args.host or os.environ.get("HOST", "0.0.0.0")
    port = args.port or int(os.environ.get("PORT", "7860"))
    os.environ["PORT"] = str(port)

    try:
        load_settings()
        app = create_app()
    except ConfigError as e:
        logger.error(str(e))
        sys.exit(2)

    # Bigger websocket messages are refused with close code 1009 before they reach the bot.
    max_bytes = load_settings().max_message_bytes
    uvicorn.run(app, host=host, port=port, log_level="warning", ws_max_size=max_bytes)


if __name__ == "__main__":
    main()
