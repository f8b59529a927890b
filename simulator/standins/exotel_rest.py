"""A stand-in for Exotel's REST API: `POST /v1/Accounts/{sid}/Calls/connect.json`.

It checks what a real account would (Basic auth with the API key and token, the account sid
in the path, the form fields, the ExoPhone, the flow URL or Connect Voice AI's stream fields
and their limits), answers with Exotel's JSON shapes (`{"Call": {...}}`,
`{"RestException": {...}}`), records every request (with its arrival time), and can post
Exotel's StatusCallback for a call it "placed". Tests script failures with `script()`; with
`auto_status()` every placed call rings and ends by itself (the outcome a test chooses per
number and attempt), and `max_in_progress` counts the calls that were live at once.

    python -m simulator.standins.exotel_rest --port 9200   # prints `export EXOTEL_...=...` lines
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import re
import shlex
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from aiohttp import web

FLOW_URL = re.compile(r"^http://my\.exotel\.com/(?P<sid>[^/]+)/exoml/start_voice/(?P<app>\d+)$")
STATUS_EVENTS = {"terminal", "answered"}  # into a flow
STREAM_STATUS_EVENTS = {"terminal", "answered", "ringing"}  # Connect Voice AI


@dataclass
class ConnectRequest:
    """One request the stand-in received, and how it answered."""

    method: str
    path: str
    authorization: str
    content_type: str
    form: list[tuple[str, str]]
    status: int = 0
    call_sid: str = ""
    at: float = field(default_factory=time.monotonic)  # when it arrived

    @property
    def fields(self) -> dict[str, str]:
        """The form as a dict (the last value of a repeated field)."""
        return dict(self.form)

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.form if key == name]


@dataclass
class ScriptedReply:
    status: int
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _rest_exception(status: int, message: str, code: str) -> web.Response:
    body = {"RestException": {"Status": status, "Message": message, "Code": code}}
    return web.json_response(body, status=status)


def exotel_number(number: str) -> str:
    """How Exotel writes numbers back: Indian ones as 0 + 10 digits (`09876543210`)."""
    digits = re.sub(r"\D", "", number)
    if digits.startswith("91") and len(digits) == 12:
        return "0" + digits[2:]
    return number


class ExotelRestStandIn:
    """Exotel's Calls/connect on a local port, in this event loop or a background thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        account_sid: str = "ACstandin",
        api_key: str = "standin-api-key",
        api_token: str = "standin-api-token",
        caller_id: str = "08047491899",
        app_id: str = "424242",
    ):
        self.host, self.port = host, port
        self.account_sid, self.api_key, self.api_token = account_sid, api_key, api_token
        self.caller_id, self.app_id = caller_id, app_id
        self.requests: list[ConnectRequest] = []
        self._scripted: list[ScriptedReply] = []
        self._outcome: Callable[[str, int], str] | None = None
        self._rewrite: Callable[[str], str] = lambda url: url
        self._ring_secs = 0.0
        self._attempts: dict[str, int] = {}
        self.in_progress = 0
        self.max_in_progress = 0
        self.status_posts: list[tuple[str, str, int]] = []  # call sid, status, HTTP answer
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        """The EXOTEL_* settings that point a dialler at this stand-in."""
        return {
            "EXOTEL_API_BASE_URL": self.base_url,
            "EXOTEL_API_KEY": self.api_key,
            "EXOTEL_API_TOKEN": self.api_token,
            "EXOTEL_ACCOUNT_SID": self.account_sid,
            "EXOTEL_CALLER_ID": self.caller_id,
            "EXOTEL_APP_ID": self.app_id,
        }

    def script(self, status: int, body=None, headers: dict[str, str] | None = None, times=1):
        """Answer the next `times` requests with this status (after recording them)."""
        self._scripted += [ScriptedReply(status, body, headers or {}) for _ in range(times)]

    def reset(self) -> None:
        self.requests.clear()
        self._scripted.clear()
        self._outcome = None
        self._attempts.clear()
        self.in_progress = self.max_in_progress = 0
        self.status_posts.clear()

    def auto_status(
        self,
        outcome: Callable[[str, int], str],
        *,
        ring_secs: float = 0.05,
        rewrite: Callable[[str], str] = lambda url: url,
    ) -> None:
        """End every call placed from now on by itself: after `ring_secs` it posts the events
        the request asked for (ringing, answered, terminal) with the status
        `outcome(number, attempt)` gives (`completed`, `busy`, `no-answer`, `failed`; attempt
        counts from 1 per number). `rewrite` maps the StatusCallback URL (a test's address)."""
        self._outcome, self._ring_secs, self._rewrite = outcome, ring_secs, rewrite

    def placed(self, call_sid: str) -> ConnectRequest:
        """The request that placed this call."""
        return next(r for r in self.requests if r.call_sid == call_sid)

    # -- the API ---------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        form = [(k, str(v)) for k, v in (await request.post()).items()]
        record = ConnectRequest(
            method=request.method,
            path=request.path,
            authorization=request.headers.get("Authorization", ""),
            content_type=request.content_type,
            form=form,
        )
        self.requests.append(record)
        response = self._scripted_reply() or self._answer(record)
        record.status = response.status
        return response

    def _scripted_reply(self) -> web.Response | None:
        if not self._scripted:
            return None
        reply = self._scripted.pop(0)
        if isinstance(reply.body, str):
            return web.Response(status=reply.status, text=reply.body, headers=reply.headers)
        body = reply.body or {
            "RestException": {"Status": reply.status, "Message": "scripted", "Code": "SCRIPTED"}
        }
        return web.json_response(body, status=reply.status, headers=reply.headers)

    def _answer(self, request: ConnectRequest) -> web.Response:
        expected = f"/v1/Accounts/{self.account_sid}/Calls/connect.json"
        if request.method != "POST" or not request.path.startswith("/v1/Accounts/"):
            return _rest_exception(404, "This stand-in serves only Calls/connect.json", "NOT_FOUND")
        credentials = base64.b64encode(f"{self.api_key}:{self.api_token}".encode()).decode()
        if request.authorization != f"Basic {credentials}":
            return _rest_exception(
                401, "Authentication failed. Invalid API Key or Token.", "UNAUTHORIZED"
            )
        if request.path != expected:
            return _rest_exception(
                401, "Account SID is invalid or does not match credentials.", "INVALID_ACCOUNT_SID"
            )
        if request.content_type != "application/x-www-form-urlencoded":
            return _rest_exception(400, "Expected form-encoded parameters", "BAD_REQUEST")
        problem = self._form_problem(request)
        if problem:
            return _rest_exception(400, problem, "BAD_REQUEST")
        request.call_sid = uuid.uuid4().hex
        if self._outcome is not None:
            self.in_progress += 1
            self.max_in_progress = max(self.max_in_progress, self.in_progress)
            asyncio.get_running_loop().create_task(self._run_call(request))
        return web.json_response({"Call": self._call_object(request)})

    async def _run_call(self, request: ConnectRequest) -> None:
        number = request.fields["From"]
        attempt = self._attempts[number] = self._attempts.get(number, 0) + 1
        status = self._outcome(number, attempt) if self._outcome else "completed"
        events = set(request.values("StatusCallbackEvents[]"))
        try:
            await asyncio.sleep(self._ring_secs)
            if "ringing" in events:
                await self._post_status(request, "ringing", EventType="ringing")
            if status == "completed" and "answered" in events:
                await self._post_status(request, "in-progress", EventType="answered")
            duration = "3" if status == "completed" else "0"
            recording = f"https://recordings.exotel.com/{request.call_sid}.mp3"
            extra = {"RecordingUrl": recording} if request.fields.get("Record") == "true" else {}
            self.in_progress -= 1  # over before Exotel reports it
            await self._post_status(
                request, status, EventType="terminal", ConversationDuration=duration, **extra
            )
        except Exception as e:  # a test's server went away: the call still ends here
            self.status_posts.append((request.call_sid, f"error: {e!r}", 0))

    def _form_problem(self, request: ConnectRequest) -> str | None:
        fields = request.fields
        stream = "StreamUrl" in fields or "StreamType" in fields
        for name in ("From", "CallerId", *(("StreamUrl", "StreamType") if stream else ("Url",))):
            if not fields.get(name):
                return f"Missing parameter {name}"
        if not re.fullmatch(r"\+?[1-9]\d{7,14}|0\d{10}", fields["From"]):
            return f"'From' {fields['From']!r} is not a valid phone number"
        if fields["CallerId"] != self.caller_id:
            return f"CallerId {fields['CallerId']!r} is not an ExoPhone of this account"
        problem = self._stream_problem(request) if stream else self._flow_problem(request)
        if problem:
            return problem
        if fields.get("TimeLimit") and not (
            fields["TimeLimit"].isdigit() and 1 <= int(fields["TimeLimit"]) <= 14400
        ):
            return "TimeLimit must be a whole number of seconds, at most 14400"
        if len(fields.get("CustomField", "")) > 128:
            return "CustomField must be at most 128 characters"
        return None

    def _flow_problem(self, request: ConnectRequest) -> str | None:
        flow = FLOW_URL.match(request.fields["Url"])
        if not flow or flow["sid"] != self.account_sid:
            return f"Url {request.fields['Url']!r} is not a flow of this account"
        if not set(request.values("StatusCallbackEvents[]")) <= STATUS_EVENTS:
            return "StatusCallbackEvents[] must be terminal and/or answered"
        return None

    def _stream_problem(self, request: ConnectRequest) -> str | None:
        """Connect Voice AI's fields and limits (Exotel's Connect Voice AI API page)."""
        fields = request.fields
        if "Url" in fields:
            return "Url (a flow) and StreamUrl cannot both be given"
        if fields["StreamType"] != "bidirectional":
            return "StreamType must be bidirectional"
        url = fields["StreamUrl"]
        if not url.startswith(("ws://", "wss://")) or len(url) > 600:
            return "StreamUrl must be a ws:// or wss:// URL of at most 600 characters"
        if len(fields.get("StreamName", "")) > 32:
            return "StreamName must be at most 32 characters"
        if fields.get("Record", "false") not in ("true", "false"):
            return "Record must be true or false"
        if fields.get("RecordingChannels", "single") not in ("single", "dual"):
            return "RecordingChannels must be single or dual"
        if not set(request.values("StatusCallbackEvents[]")) <= STREAM_STATUS_EVENTS:
            return "StatusCallbackEvents[] must be ringing, answered and/or terminal"
        return None

    def _call_object(self, request: ConnectRequest) -> dict[str, Any]:
        now = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        sid = request.call_sid
        return {
            "Sid": sid,
            "ParentCallSid": None,
            "DateCreated": now,
            "DateUpdated": now,
            "AccountSid": self.account_sid,
            "To": None,
            "From": exotel_number(request.fields["From"]),
            "PhoneNumberSid": self.caller_id,
            "Status": "in-progress",
            "StartTime": now,
            "EndTime": None,
            "Duration": None,
            "Price": None,
            "Direction": "outbound-api",
            "AnsweredBy": None,
            "Uri": f"/v1/Accounts/{self.account_sid}/Calls/{sid}.json",
            "RecordingUrl": None,
        }

    # -- what Exotel does after the call ---------------------------------------------------

    async def _post_status(self, request: ConnectRequest, status: str, **extra: str) -> None:
        url = request.fields.get("StatusCallback")
        if not url:
            return
        fields = {"CallSid": request.call_sid, "Status": status, "RecordingUrl": ""} | extra
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(self._rewrite(url), data=fields)
        self.status_posts.append((request.call_sid, status, response.status_code))

    async def send_status(
        self, call_sid: str, status: str = "completed", *, as_json: bool = False, **extra: str
    ) -> httpx.Response:
        """POST Exotel's StatusCallback for a call placed here, as a form (or as JSON)."""
        placed = self.placed(call_sid)
        url = placed.fields.get("StatusCallback")
        if not url:
            raise ValueError(f"call {call_sid} was placed without a StatusCallback")
        now = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        fields = {"CallSid": call_sid, "Status": status, "DateUpdated": now, "RecordingUrl": ""}
        if placed.values("StatusCallbackEvents[]"):
            fields |= {
                "EventType": "terminal",
                "From": exotel_number(placed.fields["From"]),
                "To": "",
                "Direction": "outbound-api",
                "ConversationDuration": "0",
                "CustomField": placed.fields.get("CustomField", ""),
            }
        fields |= extra
        async with httpx.AsyncClient(timeout=10) as client:
            if as_json:
                return await client.post(url, json=fields)
            return await client.post(url, data=fields)

    # -- running it ------------------------------------------------------------------------

    async def start_async(self) -> ExotelRestStandIn:
        runner = web.AppRunner(self.build_app(), handle_signals=False, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.host, self.port).start()
        self._runner = runner
        self.port = runner.addresses[0][1]
        return self

    async def stop_async(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> ExotelRestStandIn:
        return await self.start_async()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop_async()

    def start(self, timeout: float = 10.0) -> ExotelRestStandIn:
        """Serve from a daemon thread (for synchronous fixtures); returns once listening."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.start_async())
            except BaseException as e:
                failure.append(e)
                ready.set()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop_async())
                loop.close()

        self._thread = threading.Thread(target=serve, name="exotel-rest-standin", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("the Exotel REST stand-in did not start in time")
        if failure:
            raise failure[0]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = self._loop = None


async def _serve(host: str, port: int) -> None:
    async with ExotelRestStandIn(host=host, port=port) as stand_in:
        for key, value in stand_in.env().items():
            print(f"export {key}={shlex.quote(value)}", flush=True)
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a local stand-in of Exotel's REST API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9200, help="0 picks a free port")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port))


if __name__ == "__main__":
    main()
