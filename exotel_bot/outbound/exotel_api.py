"""A small async client for Exotel's REST API: place an outbound call for the bot.

    async with ExotelClient(read_exotel_api_settings()) as exotel:
        placed = await exotel.connect_to_stream("+919876543210", "wss://bot.example.com/ws")
        placed = await exotel.connect_to_flow("+919876543210", time_limit=600)

Exotel dials the customer (`From`); when they answer, it opens the websocket to `StreamUrl`
(Connect Voice AI) or runs the flow (`Url`) whose Voicebot applet does (connect_forms.py has
both forms and their limits). Failures raise an `ExotelError` subclass whose message says
what to fix; rate limits and outages are retried a bounded number of times.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from exotel_bot.outbound.connect_forms import (
    MAX_TIME_LIMIT_SECS,
    STREAM_EVENTS,
    Form,
    as_dict,
    flow_form,
    stream_form,
)
from exotel_bot.outbound.exotel_settings import ExotelApiSettings, read_exotel_api_settings

__all__ = [
    "MAX_TIME_LIMIT_SECS",
    "ExotelApiSettings",
    "ExotelClient",
    "ExotelError",
    "read_exotel_api_settings",
]


class ExotelError(Exception):
    """Exotel did not place the call; the message says why and what to do."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class ExotelAuthError(ExotelError):
    """401/403: the API key, token or account sid is wrong, or the account may not do this."""


class ExotelRateLimited(ExotelError):
    """429: over Exotel's 200 requests a minute; `retry_after` says when to try again."""

    def __init__(self, message: str, retry_after: float | None):
        super().__init__(message, 429)
        self.retry_after = retry_after


class ExotelRequestError(ExotelError):
    """Another 4xx: Exotel refused this request (a number it cannot call, a bad CallerId...)."""


class ExotelUnavailable(ExotelError):
    """5xx, timeouts, no connection: Exotel could not be reached or failed, after retries."""


@dataclass(frozen=True)
class PlacedCall:
    """Exotel accepted the request: the call is being dialled (not yet answered)."""

    call_sid: str
    status: str
    details: dict[str, Any]  # Exotel's `Call` object as it answered


class ExotelClient:
    """Exotel's v1 REST API over httpx, JSON responses, Basic auth with the API key and token."""

    def __init__(
        self,
        settings: ExotelApiSettings,
        *,
        timeout: float = 10.0,
        max_retries: int = 2,
        retry_backoff: float = 0.5,
        max_retry_wait: float = 10.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ):
        self.settings = settings
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=settings.api_root,
            auth=httpx.BasicAuth(str(settings.api_key), str(settings.api_token)),
            timeout=timeout,
            headers={"Accept": "application/json", "User-Agent": "pipecat-exotel-bot"},
        )

    async def __aenter__(self) -> ExotelClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def connect_to_flow(
        self,
        customer: str,
        *,
        time_limit: int | None = None,
        time_out: int | None = None,
        status_callback: str | None = None,
        status_callback_events: Iterable[str] = ("terminal",),
        custom_field: str | None = None,
        call_type: str | None = None,
    ) -> PlacedCall:
        """Dial `customer` from the ExoPhone; when they answer, run the flow (and the bot)."""
        form = flow_form(
            customer,
            self.settings.caller_id,
            self.settings.flow_url,
            time_limit=time_limit,
            time_out=time_out,
            status_callback=status_callback,
            status_callback_events=status_callback_events,
            custom_field=custom_field,
            call_type=call_type,
        )
        return await self.connect(form)

    async def connect_to_stream(
        self,
        customer: str,
        stream_url: str,
        *,
        time_limit: int | None = None,
        status_callback: str | None = None,
        status_callback_events: Iterable[str] = STREAM_EVENTS,
        custom_field: str | None = None,
    ) -> PlacedCall:
        """Connect Voice AI: dial `customer`; once answered Exotel streams to `stream_url`.
        Record, RecordingChannels and StreamName come from the settings."""
        form = stream_form(
            customer,
            self.settings.caller_id,
            stream_url,
            stream_name=self.settings.stream_name,
            record=self.settings.record,
            recording_channels=self.settings.recording_channels,
            time_limit=time_limit,
            status_callback=status_callback,
            status_callback_events=status_callback_events,
            custom_field=custom_field,
        )
        return await self.connect(form)

    async def connect(self, form: Form) -> PlacedCall:
        """POST Calls/connect with this form (connect_forms.py); the call Exotel placed."""
        path = f"/v1/Accounts/{self.settings.account_sid}/Calls/connect.json"
        body = await self._post(path, as_dict(form))
        call = body.get("Call") if isinstance(body, dict) else None
        if not isinstance(call, dict) or not call.get("Sid"):
            raise ExotelError(f"Exotel answered without a call Sid: {str(body)[:200]}")
        return PlacedCall(
            call_sid=str(call["Sid"]), status=str(call.get("Status", "")), details=call
        )

    async def _post(self, path: str, form: dict[str, Any]) -> Any:
        """POST with bounded retries for 429 and 5xx; returns the JSON body of a 2xx answer.

        A request that may have reached Exotel (a read timeout) is not retried: Exotel might
        already be ringing the customer, and a retry would ring them twice.
        """
        for attempt in range(self.max_retries + 1):
            last_try = attempt == self.max_retries
            try:
                response = await self._http.post(path, data=form)
            except (httpx.ConnectError, httpx.ConnectTimeout) as e:
                if last_try:
                    raise ExotelUnavailable(
                        f"Cannot reach Exotel at {self.settings.api_root} ({e.__class__.__name__})"
                    ) from None
                await self._sleep(self._backoff(attempt))
                continue
            except httpx.HTTPError as e:
                raise ExotelUnavailable(
                    f"No answer from Exotel ({e.__class__.__name__}). The call may or may not "
                    "have been placed: check the call logs in Exotel's dashboard before retrying."
                ) from None

            if response.is_success:
                try:
                    return response.json()
                except ValueError:
                    raise ExotelError(
                        f"Exotel answered HTTP {response.status_code} with something that is "
                        f"not JSON: {response.text[:200]!r}"
                    ) from None

            message = _exotel_message(response)
            status = response.status_code
            if status == 429:
                wait = _retry_after(response)
                if last_try or (wait is not None and wait > self.max_retry_wait):
                    raise ExotelRateLimited(
                        "Exotel's rate limit (200 requests a minute) was hit"
                        + (f"; retry after {wait:g} s" if wait is not None else ""),
                        retry_after=wait,
                    )
                await self._sleep(self._backoff(attempt) if wait is None else wait)
                continue
            if status >= 500:
                if last_try:
                    raise ExotelUnavailable(
                        f"Exotel failed with HTTP {status} after {attempt + 1} tries: {message}",
                        status,
                    )
                await self._sleep(self._backoff(attempt))
                continue
            raise _client_error(status, message, self.settings)
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _backoff(self, attempt: int) -> float:
        return min(self.retry_backoff * 2**attempt, self.max_retry_wait)


def _exotel_message(response: httpx.Response) -> str:
    """Exotel's own words: `RestException.Message` of a JSON error, else the body's start."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("RestException") or body.get("error") or body
        if isinstance(error, dict):
            for key in ("Message", "message", "Description", "description"):
                if error.get(key):
                    return str(error[key])
    return str(body)[:200]


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (a number or an HTTP date), or None if absent or unreadable."""
    raw = response.headers.get("Retry-After", "").strip()
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _client_error(status: int, message: str, settings: ExotelApiSettings) -> ExotelError:
    if status == 401:
        return ExotelAuthError(
            f"Exotel rejected the credentials (HTTP 401: {message}). Check EXOTEL_API_KEY, "
            f"EXOTEL_API_TOKEN and EXOTEL_ACCOUNT_SID ({settings.account_sid}), and that "
            f"EXOTEL_SUBDOMAIN ({settings.subdomain}) is your account's region.",
            status,
        )
    if status == 403:
        return ExotelAuthError(
            f"Exotel refused this account the call (HTTP 403: {message}). The account may be "
            "suspended, in trial (only verified numbers), or without outbound calling.",
            status,
        )
    if status == 402:
        return ExotelRequestError(
            f"Exotel says payment is required (HTTP 402: {message}): top up or upgrade the plan.",
            status,
        )
    return ExotelRequestError(
        f"Exotel refused the call (HTTP {status}): {message}. Check the number, "
        f"EXOTEL_CALLER_ID ({settings.caller_id})"
        + (f" and EXOTEL_APP_ID ({settings.app_id})." if settings.mode == "flow" else "."),
        status,
    )
