"""Answering a websocket: Exotel's handshake, the account allow-list, and the dial it answers."""

from __future__ import annotations

from typing import Any

from loguru import logger

from exotel_bot.logs import call_logging, hide_secrets
from exotel_bot.outbound.dials import match_dial
from exotel_bot.settings import Settings
from exotel_bot.wire.handshake import ExotelCall, accept_exotel_call


async def answer_call(runner_args: Any, settings: Settings) -> ExotelCall | None:
    """The call on `runner_args.websocket` (pipecat's runner arguments), or None when it is
    not an Exotel call this bot takes (no handshake in EXOTEL_HANDSHAKE_TIMEOUT_SECS, another
    account's: logged, and the socket closed).

    A call the bot placed comes back with its dial's `direction`, `dial_context` and
    `wait_for_hello` (outbound/dials.py).
    """
    hide_secrets(settings.secrets())
    with call_logging(f"session-{runner_args.session_id}"):
        call = await accept_exotel_call(
            runner_args.websocket,
            settings.handshake_timeout_secs,
            allowed_accounts=settings.allowed_accounts,  # EXOTEL_ALLOWED_ACCOUNTS
        )
    if call is None:
        return None
    # A Connect Voice AI dial names itself in the stream URL's query (outbound/dialer.py).
    query = getattr(runner_args.websocket, "query_params", None) or {}
    call = await match_dial(call, query.get("dial", ""))
    with call_logging(call.call_sid):
        logger.info(
            f"Call from {call.from_number} to {call.to_number} "
            f"({call.sample_rate} Hz, parameters: {sorted(call.custom_parameters)})"
        )
    return call
