"""The post-call webhook: each finished call POSTed as JSON to POST_CALL_WEBHOOK_URL, signed.

Headers of every delivery (the receiver's check is in docs/records.md):

    Content-Type: application/json
    X-Webhook-Id: <32 hex>            the same for every attempt of one call: deduplicate on it
    X-Webhook-Timestamp: <unix secs>  when this attempt was signed
    X-Webhook-Signature: v1=<hex>     HMAC-SHA256, key WEBHOOK_SECRET, over
                                      "<timestamp>." followed by the raw body bytes

Delivery: an attempt waits WEBHOOK_TIMEOUT_SECS; a timeout, a connection error, 408, 429 or
any 5xx is retried with exponential backoff and jitter (tenacity), up to WEBHOOK_MAX_ATTEMPTS
attempts; any other 4xx is final (the receiver refused the body; sending it again would not
help). A 2xx is delivered. Every delivery runs in a task of this process's `WebhookSender`,
never in the call's pipeline, so neither the hang-up nor the next call waits for it. At most
WEBHOOK_MAX_PENDING deliveries are held at once (their bodies are the only memory they
keep); a call that finds them all taken is not sent, and its record says "dropped".

The outcome of a delivery is a dict kept in the call record's `webhook` key:
`{"id", "status": "delivered"|"failed"|"dropped", "attempts", "http_status", "error"}`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from loguru import logger
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from exotel_bot.logs import call_logging
from exotel_bot.settings import Settings

HEADER_ID = "X-Webhook-Id"
HEADER_TIMESTAMP = "X-Webhook-Timestamp"
HEADER_SIGNATURE = "X-Webhook-Signature"
RETRY_STATUSES = frozenset({408, 429})
BACKOFF_MAX_SECS = 30.0


class _Retryable(Exception):
    """An answer worth another attempt (5xx, 408, 429)."""

    def __init__(self, status: int):
        super().__init__(f"HTTP {status}")
        self.status = status


def webhook_id(record: dict[str, Any]) -> str:
    """A stable id for one call: its call sid and start time (Exotel may reuse a sid when it
    retries a stream; each stream is its own call record)."""
    key = f"{record.get('call_sid', '')}|{record.get('started_at', '')}"
    return uuid.uuid5(uuid.NAMESPACE_URL, f"exotel-bot:{key}").hex


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`v1=` + hex HMAC-SHA256 of `timestamp.body` under `secret`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def signed_headers(secret: str, delivery_id: str, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "Content-Type": "application/json",
        HEADER_ID: delivery_id,
        HEADER_TIMESTAMP: timestamp,
        HEADER_SIGNATURE: sign(secret, timestamp, body),
    }


class WebhookSender:
    """This process's deliveries: a bounded set of tasks sharing one HTTP connection pool."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None):
        self._settings = settings
        self._client = client or httpx.AsyncClient(
            timeout=settings.webhook_timeout_secs, follow_redirects=False
        )
        self._tasks: set[asyncio.Task] = set()

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def submit(
        self,
        body: dict[str, Any],
        on_done: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    ) -> asyncio.Task:
        """Start delivering `body` (its `id` is the delivery id); `on_done(result)` follows.

        Returns the delivery's task (awaiting it is optional; it never raises). When
        WEBHOOK_MAX_PENDING deliveries are under way, the result is "dropped" at once.
        """
        call_sid = str(body.get("call_sid", "-"))
        if len(self._tasks) >= self._settings.webhook_max_pending:
            result = _result(body["id"], "dropped", 0, None, "too many deliveries pending")
            coroutine = self._finish(call_sid, result, on_done)
        else:
            coroutine = self._run(call_sid, body, on_done)
        task = asyncio.create_task(coroutine, name=f"webhook-{call_sid}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, call_sid, body, on_done) -> dict[str, Any]:
        with call_logging(call_sid):
            result = await self.deliver(body)
            return await self._finish(call_sid, result, on_done)

    async def _finish(self, call_sid, result, on_done) -> dict[str, Any]:
        with call_logging(call_sid):
            if result["status"] == "delivered":
                logger.info(f"Post-call webhook delivered (attempt {result['attempts']})")
            else:
                logger.error(
                    f"Post-call webhook {result['status']} for call {call_sid} after "
                    f"{result['attempts']} attempt(s): {result['error']}"
                )
            if on_done is not None:
                try:
                    await on_done(result)
                except Exception as e:
                    logger.error(f"After the webhook: {e.__class__.__name__}: {e}")
            return result

    async def deliver(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body` with retries; the delivery's result (never raises)."""
        settings = self._settings
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        attempts, status = 0, None
        retrying = AsyncRetrying(
            stop=stop_after_attempt(settings.webhook_max_attempts),
            wait=wait_random_exponential(multiplier=0.5, max=BACKOFF_MAX_SECS),
            retry=retry_if_exception_type((_Retryable, httpx.TransportError)),
        )
        try:
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    headers = signed_headers(str(settings.webhook_secret), body["id"], raw)
                    response = await self._client.post(
                        settings.post_call_webhook_url, content=raw, headers=headers
                    )
                    status = response.status_code
                    if status >= 500 or status in RETRY_STATUSES:
                        raise _Retryable(status)
        except RetryError as e:
            error = e.last_attempt.exception()
            return _result(body["id"], "failed", attempts, status, _describe(error))
        except Exception as e:  # anything else is final: never let it reach the call
            return _result(body["id"], "failed", attempts, status, _describe(e))
        if 200 <= status < 300:
            return _result(body["id"], "delivered", attempts, status, None)
        return _result(body["id"], "failed", attempts, status, f"HTTP {status}")


def _describe(error: BaseException | None) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "no answer in time"
    return f"{error.__class__.__name__}: {error}"[:200] if error else "unknown error"


def _result(delivery_id, status, attempts, http_status, error) -> dict[str, Any]:
    return {
        "id": delivery_id,
        "status": status,
        "attempts": attempts,
        "http_status": http_status,
        "error": error,
    }


_senders: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per event loop


def webhook_sender(settings: Settings) -> WebhookSender:
    """This process's sender for POST_CALL_WEBHOOK_URL (one per event loop)."""
    per_loop = _senders.setdefault(asyncio.get_running_loop(), {})
    if settings.post_call_webhook_url not in per_loop:
        per_loop[settings.post_call_webhook_url] = WebhookSender(settings)
    return per_loop[settings.post_call_webhook_url]
