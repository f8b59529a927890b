"""The fields of Exotel's HTTP callbacks (Passthru, StatusCallback), in every encoding.

Exotel's Passthru applet makes a GET with a query string (`CallSid`, and the Voicebot's
`Stream[StreamSID]`, `Stream[Status]`, `Stream[Duration]`, `Stream[RecordingUrl]`,
`Stream[DisconnectedBy]`); its StatusCallback POSTs a form. Some integrations POST a form,
a multipart form or JSON instead. `callback_fields()` reads them all into one flat dict of
strings, with nested JSON objects flattened the way the query string spells them
(`{"Stream": {"Status": "completed"}}` -> `Stream[Status]`). It never raises for a bad body:
what cannot be read is logged and left out, so a callback never answers 500.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from loguru import logger
from starlette.requests import Request

MAX_CALLBACK_BYTES = 64 * 1024
MAX_VALUE_CHARS = 1000


class CallbackTooLarge(Exception):
    """The callback's body is over MAX_CALLBACK_BYTES (answer 413)."""


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(inner, f"{prefix}[{key}]" if prefix else str(key), out)
    elif isinstance(value, bool):
        out[prefix] = str(value).lower()
    elif isinstance(value, str | int | float):
        out[prefix] = str(value)[:MAX_VALUE_CHARS]
    # null, lists: nothing Exotel sends; left out


async def _body(request: Request, limit: int) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise CallbackTooLarge(f"callback body over {limit} bytes")
    return body


def _json_fields(body: bytes) -> dict[str, str]:
    try:
        parsed = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        logger.warning("Ignoring a callback body that is not valid JSON")
        return {}
    if not isinstance(parsed, dict):
        logger.warning("Ignoring a callback JSON body that is not an object")
        return {}
    fields: dict[str, str] = {}
    _flatten(parsed, "", fields)
    return fields


async def _multipart_fields(request: Request, body: bytes) -> dict[str, str]:
    request._body = body  # Starlette reads a cached body instead of the spent stream
    try:
        form = await request.form()
    except Exception as e:  # python-multipart rejects a malformed body
        logger.warning(f"Ignoring a multipart callback body that cannot be read: {e}")
        return {}
    return {str(k): v[:MAX_VALUE_CHARS] for k, v in form.items() if isinstance(v, str)}


async def callback_fields(request: Request, limit: int = MAX_CALLBACK_BYTES) -> dict[str, str]:
    """The query string's fields, overlaid by a POST body's (form, multipart form or JSON).

    Raises CallbackTooLarge for a body over `limit` bytes; never anything else.
    """
    fields = {k: v[:MAX_VALUE_CHARS] for k, v in request.query_params.items()}
    if request.method != "POST":
        return fields
    body = await _body(request, limit)
    content_type = request.headers.get("content-type", "").lower()
    if "json" in content_type or body.lstrip()[:1] == b"{":
        return fields | _json_fields(body)
    if content_type.startswith("multipart/form-data"):
        return fields | await _multipart_fields(request, body)
    pairs = parse_qsl(body.decode(errors="replace"), keep_blank_values=True)
    return fields | {k: v[:MAX_VALUE_CHARS] for k, v in pairs}
