"""`GET /exotel/connect`: the Connect applet's dynamic URL ("Programmable Connect").

Exotel's support article "Programmable Connect: Working with Connect Applet (Dynamic URL)"
(3000096873): a Connect applet set to fetch its parameters from a URL makes a GET with the
call's details as query parameters (`CallSid`, `CallFrom`, `CallTo`, `Direction` =
`incoming`|`outbound-dial`, `Created`, `DialCallDuration`, `StartTime`, `CurrentTime`, ...)
and an `Exotel-Version` header (1.0: the version the answer is validated against), and dials
what the JSON answer names:

    {"fetch_after_attempt": false,
     "destination": {"numbers": ["+919876543210"]},
     "max_ringing_duration": 45,
     "start_call_playback": {"playback_to": "callee", "type": "text", "value": "..."}}

This answers with the number of the department the bot chose for that call (kept in the shared
store by call/departments.py), and has the person who picks up hear the bot's hand-off summary
first (`start_call_playback` to the callee). A call with no department (the keypad's transfer
digit), an unknown or expired call gets TRANSFER_FALLBACK_NUMBER; with no fallback set,
`numbers` is empty and Exotel takes the applet's "nobody answered" branch. Served by server.py
and by the control plane (`--control`); POST (form or JSON) is read too.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from loguru import logger

from exotel_bot.call.departments import read_decision
from exotel_bot.logs import call_logging
from exotel_bot.settings import Settings
from exotel_bot.stores import StoreUnavailable, stores
from exotel_bot.wire.callbacks import CallbackTooLarge, callback_fields

EXOTEL_VERSION = "1.0"  # the response version this route writes (Exotel-Version header)
MAX_RINGING_SECS = 45
MAX_PLAYBACK_CHARS = 500


def connect_answer(number: str | None, summary: str = "") -> dict:
    """The Programmable Connect JSON that dials `number` (none: an empty list)."""
    answer: dict = {
        "fetch_after_attempt": False,
        "destination": {"numbers": [number] if number else []},
        "max_ringing_duration": MAX_RINGING_SECS,
    }
    if summary:
        answer["start_call_playback"] = {
            "playback_to": "callee",
            "type": "text",
            "value": summary[:MAX_PLAYBACK_CHARS],
        }
    return answer


def connect_router(settings: Settings) -> APIRouter:
    """/exotel/connect, reading the process's stores."""
    router = APIRouter(tags=["Exotel flow"])

    @router.api_route("/exotel/connect", methods=["GET", "POST"])
    async def connect(request: Request):
        """Exotel's Connect applet asks whom to dial for this call."""
        try:
            fields = await callback_fields(request)
        except CallbackTooLarge:
            return PlainTextResponse("callback body too large", status_code=413)
        call_sid = fields.get("CallSid", "").strip()[:128]
        version = request.headers.get("exotel-version", "")
        with call_logging(call_sid or "-"):
            if version and version.split(".")[0] != EXOTEL_VERSION.split(".")[0]:
                logger.warning(f"Connect applet asks with Exotel-Version {version!r}")
            try:
                decision = await stores().transfers.get(call_sid) if call_sid else None
            except StoreUnavailable as e:
                logger.error(f"Cannot read the transfer decision ({e}); using the fallback")
                decision = None
            chosen = read_decision(decision)
            if chosen:
                number, summary = str(chosen["number"]), str(chosen.get("summary") or "")
                logger.info(f"Connect applet: dialling {chosen.get('department')}")
            else:
                number, summary = settings.transfer_fallback_number, ""
                logger.info(
                    "Connect applet: no department for this call; "
                    + ("dialling the fallback number" if number else "no fallback number set")
                )
        return JSONResponse(connect_answer(number, summary))

    return router
