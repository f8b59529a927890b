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
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from loguru import logger

from exotel_bot.call.departments import is_transfer
from exotel_bot.logs import call_logging
from exotel_bot.outbound.dials import DIAL_PARAMETER, find_dial, number_or_none
from exotel_bot.settings import Settings
from exotel_bot.stores import Stores, StoreUnavailable, stores
from exotel_bot.wire.callbacks import CallbackTooLarge, callback_fields

# What Exotel's Passthru says about the Voicebot stream that just ended (logged with the call).
PASSTHRU_STREAM_FIELDS = ("Stream[Status]", "Stream[Duration]", "Stream[DisconnectedBy]")
MAX_CUSTOM_PARAMETERS = 3
MAX_CUSTOM_CHARS = 256
# Query parameters Exotel reads itself rather than passing on as custom parameters.
EXOTEL_URL_OPTIONS = ("sample-rate",)


# Pipecat Cloud's default region is served from the host without a region prefix.
PIPECAT_CLOUD_DEFAULT_REGION = "us-west"


def pipecat_cloud_url(service_host: str, region: str = "") -> str:
    """Pipecat Cloud's Exotel websocket for `AGENT.ORG` in `region`: us-west (or empty) is
    `wss://api.pipecat.daily.co/ws/exotel?serviceHost=...`, any other region
    `wss://{region}.api.pipecat.daily.co/...` (Pipecat Cloud's Exotel guide)."""
    region = region.strip().lower()
    prefix = "" if region in ("", PIPECAT_CLOUD_DEFAULT_REGION) else f"{region}."
    host = f"{prefix}api.pipecat.daily.co"
    return f"wss://{host}/ws/exotel?{urlencode({'serviceHost': service_host})}"


def exotel_url(public_url: str) -> str:
    """The websocket URL for the Exotel Voicebot applet from a public https/wss URL:
    `https://bot.example.com` -> `wss://bot.example.com/ws`."""
    url = public_url.rstrip("/")
    for old, new in (("https://", "wss://"), ("http://", "ws://")):
        if url.startswith(old):
            url = new + url[len(old) :]
    if not url.startswith(("wss://", "ws://")):
        url = "wss://" + url
    return url if url.endswith("/ws") else url + "/ws"


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


def custom_parameters(url: str) -> list[tuple[str, str]]:
    """The query parameters of `url` that Exotel passes to the bot as custom parameters."""
    return [(k, v) for k, v in parse_qsl(urlsplit(url).query) if k not in EXOTEL_URL_OPTIONS]


def with_parameter(url: str, key: str, value: str) -> str | None:
    """`url` with `key=value` added, or None if that breaks Exotel's 3-parameter/256-char rule."""
    params = [*custom_parameters(url), (key, value)]
    if len(params) > MAX_CUSTOM_PARAMETERS or len(urlencode(params)) > MAX_CUSTOM_CHARS:
        return None
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query), (key, value)])
    return urlunsplit(parts._replace(query=query))


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
