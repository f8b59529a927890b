"""Who may call the bot: Basic auth on the websocket, an Exotel account allow-list, a call cap.

The bot's URL is public (ngrok, a public host), so anyone who finds it can open a websocket and
run up the vendor bill. These are the checks, with no I/O of their own:

- `admission()` runs in server.py before the websocket is accepted, on what the HTTP upgrade
  request shows (the `Authorization` header); then the call cap (`over_capacity()`, counted
  by the stores across workers): a refused connection never gets a pipeline.
- `account_allowed()` runs once Exotel's `start` message names the account (in
  `accept_exotel_call`), so it also guards the bot on Pipecat Cloud, where server.py is not used.

Nothing here logs or returns what a client sent: a refusal reason is safe to log as is.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from exotel_bot.settings import Settings

BASIC_AUTH_REALM = "exotel-bot"


@dataclass(frozen=True)
class Refusal:
    """Why a websocket is turned away, as the HTTP answer to its upgrade request."""

    status: int
    reason: str  # for our log; never echoes the client's input
    headers: dict[str, str] = field(default_factory=dict)


def basic_auth_ok(header: str | None, username: str, password: str) -> bool:
    """True when `header` is `Basic base64(username:password)`, compared in constant time."""
    if not header:
        return False
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = f"{username}:{password}".encode()
    return hmac.compare_digest(given, expected)


def account_allowed(account_sid: str, allowed: Iterable[str]) -> bool:
    """An empty allow-list admits every account; otherwise the SID must be on it (any case)."""
    allowed = [sid.casefold() for sid in allowed]
    return not allowed or account_sid.casefold() in allowed


def admission(headers: Mapping[str, str], settings: Settings) -> Refusal | None:
    """None to let a websocket in, else the refusal: Basic auth (the call cap comes next, from
    the stores' call slots, so strangers learn nothing about load)."""
    if settings.ws_username and not basic_auth_ok(
        headers.get("authorization"), settings.ws_username, str(settings.ws_password)
    ):
        return Refusal(
            401,
            "missing or wrong Basic auth credentials",
            {"WWW-Authenticate": f'Basic realm="{BASIC_AUTH_REALM}"'},
        )
    return None


def over_capacity(running: int, limit: int) -> Refusal:
    """The refusal for a call over MAX_CONCURRENT_CALLS (counted across all workers)."""
    return Refusal(
        503,
        f"{running} calls running, the limit (MAX_CONCURRENT_CALLS) is {limit}",
        {"Retry-After": "1"},
    )
