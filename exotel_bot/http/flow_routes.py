"""The URLs an Exotel flow fetches around the Voicebot applet, served by server.py (also --control).

    GET  /exotel/voicebot-url   the Voicebot applet's dynamic URL: {"url": "wss://..."}
    GET|POST /exotel/passthru   the Passthru applet after it: 200 = transfer, 302 = hang up

Dynamic URL (Exotel's Voicebot/Stream applet docs: an http(s) URL that answers JSON
`{"url": "wss://..."}` at call time; the returned URL may carry at most 3 custom parameters,
256 characters in all, which reach the bot in `start.custom_parameters`). Exotel calls it
with the call's `CallSid`, `CallFrom`, `CallTo` (and `Direction`, ...) as query parameters,
as it does for its other dynamic URLs. A call the bot placed through /dialout is found by
`CallSid` (the Calls/connect sid), else by the customer's number in `CallFrom`/`CallTo`;
its dial's public `ref` is then added as `dial=<ref>`, so the bot finds the dial's context by
it even when the websocket's call sid and numbers do not match the dial's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from loguru import logger

from exotel_bot.call.departments import is_transfer
from exotel_bot.logs import call_logging
from exotel_bot.outbound.dials import DIAL_PARAMETER, find_dial, number_or_none
from exotel_bot.settings import Settings
from exotel_bot.stores import Stores, StoreUnavailable, stores
from exotel_bot.wire.callbacks import CallbackTooLarge, callback_fields
from exotel_bot.wire.urls import (
    MAX_CUSTOM_CHARS,
    MAX_CUSTOM_PARAMETERS,
    exotel_url,
    pipecat_cloud_url,
    with_parameter,
)

# What Exotel's Passthru says about the Voicebot stream that just ended (logged with the call).
PASSTHRU_STREAM_FIELDS = ("Stream[Status]", "Stream[Duration]", "Stream[DisconnectedBy]")


def base_ws_url(settings: Settings, request: Request) -> str:
    """VOICEBOT_WS_URL, else Pipecat Cloud's URL, else this server's /ws: from PUBLIC_URL, or
    as the request reached it (`wss://` behind https)."""
    if settings.voicebot_ws_url:
        return settings.voicebot_ws_url
    if settings.pipecat_cloud_service_host:
        return pipecat_cloud_url(settings.pipecat_cloud_service_host, settings.pipecat_cloud_region)
    public = settings.public_url
    if public:
        return exotel_url(public)
    scheme = "wss" if request.url.scheme in ("https", "wss") else "ws"
    return f"{scheme}://{request.url.netloc}/ws"


def app_stores(request: Request) -> Stores:
    """A FastAPI dependency: the app's stores (opened by server.py's lifespan), else the
    process's."""
    return getattr(request.app.state, "stores", None) or stores()


def flow_router(settings: Settings) -> APIRouter:
    """/exotel/voicebot-url and /exotel/passthru, reading the app's stores."""
    router = APIRouter(tags=["Exotel flow"])

    @router.api_route("/exotel/voicebot-url", methods=["GET", "POST"])
    async def voicebot_url(request: Request, current: Annotated[Stores, Depends(app_stores)]):
        """The Voicebot applet's dynamic URL: where to open this call's websocket."""
        try:
            fields = await callback_fields(request)
        except CallbackTooLarge:
            return PlainTextResponse("callback body too large", status_code=413)
        call_sid = fields.get("CallSid", "").strip()[:64]
        url = base_ws_url(settings, request)
        numbers = [
            n for n in map(number_or_none, (fields.get("CallFrom"), fields.get("CallTo"))) if n
        ]
        with call_logging(call_sid or "-"):
            try:
                dial = (
                    await find_dial(call_sid, numbers, current.dials)
                    if call_sid or numbers
                    else None
                )
            except StoreUnavailable as e:
                logger.error(f"Cannot look up this call's dial ({e}); answering without it")
                dial = None
            if dial is not None:
                tagged = with_parameter(url, DIAL_PARAMETER, dial.ref)
                if tagged is None:
                    logger.warning(
                        f"No room for `{DIAL_PARAMETER}` in {url} (Exotel allows "
                        f"{MAX_CUSTOM_PARAMETERS} custom parameters, {MAX_CUSTOM_CHARS} characters)"
                    )
                url = tagged or url
            logger.info(
                f"Voicebot URL for this call: {url.split('?')[0]}"
                + (f" (dial to {dial.to})" if dial else "")
            )
        return {"url": url}

    @router.api_route("/exotel/passthru", methods=["GET", "POST"])
    async def passthru(request: Request, current: Annotated[Stores, Depends(app_stores)]):
        """Exotel's Passthru applet after the Voicebot: 200 = connect an agent, 302 = hang up.

        GET with a query string (Exotel's way, with `Stream[...]` fields), or POST as a form,
        multipart form or JSON: all read by exotel_bot/wire/callbacks.py; never a 500.
        """
        try:
            fields = await callback_fields(request)
        except CallbackTooLarge:
            return PlainTextResponse("callback body too large", status_code=413)
        call_sid = fields.get("CallSid", "").strip()[:128]
        with call_logging(call_sid or "-"):
            try:
                decision = await current.transfers.get(call_sid) if call_sid else None
            except StoreUnavailable as e:
                logger.error(f"Cannot read the transfer decision ({e}); hanging up")
                decision = None
            stream = {k: fields[k][:80] for k in PASSTHRU_STREAM_FIELDS if k in fields}
            logger.info(f"Passthru asks what next: {decision or 'hang up'} {stream or ''}")
        if is_transfer(decision):  # with or without a department (call/departments.py)
            return PlainTextResponse("transfer", status_code=200)
        return PlainTextResponse("hangup", status_code=302, headers={"Location": "/"})

    return router
