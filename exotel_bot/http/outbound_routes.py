"""HTTP routes for outbound calls, included by server.py.

    POST /dialout            {"to": "+919876543210", "context": {...}}  -> Exotel's call sid
    GET  /dialout/{call_sid} the dial's record: context, status, Exotel's status callbacks
    POST /exotel/status      Exotel's StatusCallback: the call's outcome, logged and kept

/dialout places real phone calls, so it only exists when DIALOUT_TOKEN is set, and every
request must carry `Authorization: Bearer <DIALOUT_TOKEN>`.
"""

from __future__ import annotations

import asyncio
import copy
import hmac
import json
import math
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from loguru import logger
from pydantic import BaseModel, ConfigDict, Field, field_validator

from exotel_bot.logs import call_logging, hide_secrets
from exotel_bot.outbound.dialer import bot_stream_url, place
from exotel_bot.outbound.dials import (
    DialRecord,
    dial_store,
    normalize_number,
    wait_for_hello_default,
)
from exotel_bot.outbound.exotel_api import (
    MAX_TIME_LIMIT_SECS,
    ExotelApiSettings,
    ExotelError,
    ExotelRateLimited,
    ExotelUnavailable,
    read_exotel_api_settings,
)
from exotel_bot.outbound.outcomes import note_status, update_call_record
from exotel_bot.settings import ConfigError, Settings, load_settings
from exotel_bot.stores import StoreUnavailable
from exotel_bot.wire.callbacks import CallbackTooLarge, callback_fields

BearerCredentials = Annotated[
    HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))
]

MIN_TOKEN_LENGTH = 16
MAX_CONTEXT_BYTES = 4096
MAX_CALLBACK_BYTES = 64 * 1024


class DialRequest(BaseModel):
    """The body of POST /dialout."""

    model_config = ConfigDict(extra="forbid")

    to: str = Field(description="The customer's number: E.164, or an Indian number")
    context: dict[str, Any] = Field(
        default_factory=dict, description="Who is called and why; the bot's greeting and prompt"
    )
    wait_for_hello: bool | None = Field(
        default=None, description="Greet only after the callee speaks (OUTBOUND_WAIT_FOR_HELLO)"
    )
    time_limit: int | None = Field(default=None, ge=1, le=MAX_TIME_LIMIT_SECS)
    custom_field: str | None = Field(default=None, max_length=128)

    @field_validator("to")
    @classmethod
    def _phone_number(cls, value: str) -> str:
        return normalize_number(value)

    @field_validator("context")
    @classmethod
    def _small_context(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, ensure_ascii=False).encode()) > MAX_CONTEXT_BYTES:
            raise ValueError(f"context must be at most {MAX_CONTEXT_BYTES} bytes of JSON")
        return value


class Dialer:
    """Places calls through Exotel and keeps a record for the bot to find."""

    def __init__(self, settings: ExotelApiSettings, token: str):
        self.settings = settings
        self._token = token

    def check_token(self, credentials: BearerCredentials) -> None:
        given = credentials.credentials if credentials else ""
        if not hmac.compare_digest(given.encode(), self._token.encode()):
            raise HTTPException(
                401,
                "Missing or wrong bearer token: send Authorization: Bearer <DIALOUT_TOKEN>",
                headers={"WWW-Authenticate": "Bearer"},
            )

    async def dialout(self, request: DialRequest) -> dict[str, Any]:
        wait = (
            wait_for_hello_default() if request.wait_for_hello is None else request.wait_for_hello
        )
        record = DialRecord(to=request.to, context=request.context, wait_for_hello=wait)
        try:
            call_sid = await place(
                record,
                self.settings,
                time_limit=request.time_limit,
                custom_field=request.custom_field,
            )
        except StoreUnavailable as e:  # no record, no context for the bot: do not dial
            logger.error(f"Not dialling {record.to}: cannot record the dial ({e})")
            raise HTTPException(
                503, f"Cannot record the dial, so no call was placed: {e}"
            ) from None
        except ExotelError as e:
            raise _http_error(e) from None
        except (ConfigError, ValueError) as e:
            raise HTTPException(422, str(e)) from None
        return {"call_sid": call_sid, "status": record.status, "to": record.to}

    async def dial_record(self, call_sid: str) -> dict[str, Any]:
        record = await dial_store().by_call_sid(call_sid)
        if record is None:
            raise HTTPException(404, f"No dial with call sid {call_sid!r} (or it has expired)")
        return record.public()


def _http_error(error: ExotelError) -> HTTPException:
    if isinstance(error, ExotelRateLimited):
        headers = {"Retry-After": str(math.ceil(error.retry_after or 60))}
        return HTTPException(429, str(error), headers=headers)
    if isinstance(error, ExotelUnavailable):
        return HTTPException(503, str(error))
    return HTTPException(502, str(error))


async def _callback_fields(request: Request) -> dict[str, Any]:
    """A StatusCallback's fields: query string, form, multipart form or JSON (wire/callbacks.py)."""
    try:
        fields = await callback_fields(request, MAX_CALLBACK_BYTES)
    except CallbackTooLarge:
        raise HTTPException(413, "StatusCallback body too large") from None
    fields.pop("dial", None)
    return fields


async def exotel_status(request: Request) -> dict[str, Any]:
    """Exotel's StatusCallback: log the outcome under the call's sid, keep it with the dial."""
    fields = await _callback_fields(request)
    call_sid = str(fields.get("CallSid") or "").strip()
    if not call_sid:
        raise HTTPException(400, "No CallSid: this is not an Exotel StatusCallback")
    status = str(fields.get("Status") or "").strip().lower()
    event = str(fields.get("EventType") or "").strip().lower()
    duration = str(fields.get("ConversationDuration") or "").strip()
    # These go into log lines: Exotel's values are short words and digits, never newlines.
    if not all(re.fullmatch(r"[\w.-]*", v) for v in (call_sid, status, event, duration)):
        raise HTTPException(
            400, "CallSid, Status, EventType and ConversationDuration must be words or numbers"
        )
    if len(call_sid) > 64:
        raise HTTPException(400, "CallSid is too long for an Exotel call sid")

    with call_logging(call_sid):
        log = logger.info if status in ("completed", "") or event == "answered" else logger.warning
        log(
            f"Exotel status for call {call_sid}: {status or 'unknown'}"
            + (f" ({event})" if event else "")
            + (f", talked {duration} s" if duration else "")
        )
        record = await dial_store().by_call_sid(call_sid)
        if record is None:
            return {"ok": True, "kept": False}
        signature = request.query_params.get("dial", "")
        if not hmac.compare_digest(signature.encode(), record.dial_id.encode()):
            logger.warning("StatusCallback ignored: its ?dial= does not match the dial's")
            raise HTTPException(403, "This StatusCallback does not belong to that dial")
        record = copy.deepcopy(record)  # readers see it whole, once saved
        note_status(record, fields)
        if record.ended:
            path = await asyncio.to_thread(update_call_record, record)
            record.record_path = path or record.record_path
        await dial_store().save(record)
    return {"ok": True, "kept": True}


def outbound_router(settings: Settings | None = None) -> APIRouter:
    """/exotel/status always; /dialout too when DIALOUT_TOKEN and the EXOTEL_* settings are set.

    `settings`: the app's (server.py's `build_app()`), else the process's.

    Raises ConfigError (server.py exits with the message) for a token that is too short or
    Exotel settings that are missing: a half-configured dial-out should fail at start.
    """
    router = APIRouter(tags=["outbound calls"])
    router.add_api_route("/exotel/status", exotel_status, methods=["GET", "POST"])

    settings = settings or load_settings(require_keys=False)
    token = str(settings.dialout_token)
    if not token:
        logger.info("Dial-out is off: set DIALOUT_TOKEN and the EXOTEL_* settings for /dialout")
        return router
    if len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"DIALOUT_TOKEN must be at least {MIN_TOKEN_LENGTH} characters (anyone who has it "
            "can place calls on your account). Make one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    api_settings = read_exotel_api_settings()
    hide_secrets([token, *api_settings.secrets()])
    if api_settings.mode == "stream":
        bot_stream_url(settings)  # ConfigError: nowhere to stream to

    dialer = Dialer(api_settings, token)
    protected = [Depends(dialer.check_token)]
    router.add_api_route("/dialout", dialer.dialout, methods=["POST"], dependencies=protected)
    router.add_api_route(
        "/dialout/{call_sid}", dialer.dial_record, methods=["GET"], dependencies=protected
    )
    logger.info(f"Dial-out is on: POST /dialout calls from {api_settings.caller_id} via Exotel")
    return router
