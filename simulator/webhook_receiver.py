"""A real HTTP receiver for the post-call webhook, in a thread: it checks each delivery's
signature the way docs/records.md tells a user to, and answers as a test or a benchmark
scripts it (statuses in turn, or never)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time

from aiohttp import web


def verify(secret: str, headers, body: bytes, tolerance: int = 300) -> bool:
    """The five lines of docs/records.md, as a receiver would write them."""
    timestamp = headers["X-Webhook-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    given = headers["X-Webhook-Signature"].removeprefix("v1=")
    fresh = abs(time.time() - int(timestamp)) < tolerance
    return fresh and hmac.compare_digest(expected.hexdigest(), given)


class WebhookReceiver:
    """Records every request; answers `statuses` in order (then 200), or never (`hang`)."""

    def __init__(self, secret: str, port: int):
        self.secret = secret
        self.port = port
        self.statuses: list[int] = []
        self.hang = False
        self.requests: list[dict] = []  # every attempt: headers, body, signature_ok, status
        self.delivered: dict[str, dict] = {}  # accepted bodies by X-Webhook-Id
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/calls"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def wait_for(self, condition, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                value = condition(self)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"webhook receiver: condition not met; saw {len(self.requests)}")

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        entry = {
            "headers": dict(request.headers),
            "body": json.loads(body),
            "signature_ok": verify(self.secret, request.headers, body),
            "status": None,
            "at": time.monotonic(),
        }
        with self._lock:
            self.requests.append(entry)
            hang = self.hang
            status = self.statuses.pop(0) if self.statuses else 200
        if hang:
            await self._stop.wait()  # never answers while the test runs
            return web.Response(status=204)
        entry["status"] = status
        if status == 200 and entry["signature_ok"]:
            with self._lock:
                self.delivered.setdefault(request.headers["X-Webhook-Id"], entry["body"])
        return web.json_response({"ok": status == 200}, status=status)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main():
            app = web.Application()
            app.router.add_post("/hooks/calls", self._handle)
            runner = web.AppRunner(app, shutdown_timeout=0.5)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            self._ready.set()
            await self._stop.wait()
            await runner.cleanup()

        self._loop.run_until_complete(main())
