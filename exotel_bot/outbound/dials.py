"""Outbound calls: who the bot phoned and why, kept until that call's websocket arrives.

`/dialout` (or `python -m exotel_bot.outbound`) saves a `DialRecord` before asking Exotel to place
the call. When the flow's Voicebot applet opens the websocket, `match_dial()` finds the record
(by the `dial` custom parameter that `/exotel/voicebot-url` adds, else by Exotel's call sid, else
by the customer's number on either side of the call) and hands its context to the bot. The
store is the process's (`exotel_bot.stores`): memory by default, Redis with REDIS_URL, so a bot
on Pipecat Cloud or on another worker finds a dial placed elsewhere.
"""

from __future__ import annotations

import dataclasses
import re
import time
from typing import TYPE_CHECKING

from loguru import logger

from exotel_bot.logs import call_logging
from exotel_bot.settings import load_settings
from exotel_bot.stores import stores
from exotel_bot.stores.dials import (  # noqa: F401 - the dial records live with their stores
    KEEP_SECS,
    MATCH_WINDOW_SECS,
    TERMINAL_STATUSES,
    DialRecord,
    DialStore,
    MemoryDialStore,
)

if TYPE_CHECKING:  # only a type here: the CLI must not load pipecat to dial
    from exotel_bot.wire.handshake import ExotelCall

# The custom parameter /exotel/voicebot-url adds to the websocket URL: the dial's `ref`.
DIAL_PARAMETER = "dial"

NUMBER_HELP = (
    "expected an E.164 number like +919876543210, or an Indian number like 09876543210 "
    "or 9876543210"
)


def normalize_number(raw: str) -> str:
    """The number in E.164 (`+919876543210`), or ValueError saying what was expected.

    Accepts E.164 (spaces, dashes, dots and brackets allowed), `00` international prefixes,
    and Indian numbers the way people and Exotel write them: 10 digits, a `0` trunk prefix
    (`09876543210`, `08047491899`) or `91` without the plus.
    """
    text = str(raw).strip()
    compact = re.sub(r"[\s\-.()]", "", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.startswith("+"):
        digits = compact[1:]
        if not digits.isdigit() or not 8 <= len(digits) <= 15 or digits[0] == "0":
            raise ValueError(f"{text!r} is not a phone number: {NUMBER_HELP}")
        if digits.startswith("91") and (len(digits) != 12 or digits[2] == "0"):
            raise ValueError(f"{text!r} is not an Indian number (+91 and 10 digits)")
        return "+" + digits
    if not compact.isdigit():
        raise ValueError(f"{text!r} is not a phone number: {NUMBER_HELP}")
    if len(compact) == 11 and compact[0] == "0" and compact[1] != "0":
        return "+91" + compact[1:]
    if len(compact) == 10 and compact[0] in "6789":
        return "+91" + compact
    if len(compact) == 12 and compact.startswith("91") and compact[2] != "0":
        return "+" + compact
    raise ValueError(f"{text!r} is not a phone number: {NUMBER_HELP}")


def number_or_none(raw: str | None) -> str | None:
    """`normalize_number`, or None for anything that is not a number (e.g. an empty field)."""
    try:
        return normalize_number(raw) if raw else None
    except ValueError:
        return None


def dial_store() -> DialStore:
    """The store /dialout writes to and incoming calls are matched against (the process's
    `exotel_bot.stores.stores().dials`)."""
    return stores().dials


def use_dial_store(store: DialStore) -> None:
    """Replace this process's dial store alone (a custom store; tests)."""
    stores().dials = store


def wait_for_hello_default() -> bool:
    """OUTBOUND_WAIT_FOR_HELLO: outbound calls wait for the callee to speak before greeting."""
    return load_settings(require_keys=False).outbound_wait_for_hello


async def find_dial(
    call_sid: str, numbers: list[str], store: DialStore, ref: str = ""
) -> DialRecord | None:
    """The dial this websocket answers: by `ref` (the `dial` custom parameter), else by call
    sid, else the newest open dial to its number.

    Which of Exotel's `from`/`to` holds the customer on an outbound leg is not documented,
    so both are tried. A dial matched by number once is not matched by number again.
    """
    record = await store.by_ref(ref) if ref else None
    if record is not None:
        return record
    record = await store.by_call_sid(call_sid) if call_sid else None
    if record is not None:
        return record
    candidates = [r for n in numbers for r in await store.by_number(n)]
    open_dials = [r for r in candidates if r.connected_at is None and not r.ended]
    return max(open_dials, key=lambda r: r.created_at, default=None)


async def match_dial(call: ExotelCall, url_ref: str = "") -> ExotelCall:
    """The call with `direction`, `dial_context` and `wait_for_hello` filled in.

    `url_ref` is the `dial` query parameter of the websocket's own URL, for a Connect Voice AI
    StreamUrl whose query Exotel does not pass on as custom parameters (dialer.py).

    Outbound if a dial matches, or if the flow's Voicebot URL says `?direction=outbound`
    (for setups where the dialling process and the bot share no store). Never raises: a
    broken custom store is logged and the call goes on as inbound.
    """
    numbers = [n for n in map(number_or_none, (call.from_number, call.to_number)) if n]
    with call_logging(call.call_sid):
        try:
            ref = call.custom_parameters.get(DIAL_PARAMETER, "") or url_ref[:64]
            record = await find_dial(call.call_sid, numbers, dial_store(), ref)
        except Exception as e:
            logger.error(f"Could not look up this call's dial ({e.__class__.__name__}: {e})")
            record = None

        if record is not None:
            await _connected(record, call, ref)
            return dataclasses.replace(
                call,
                direction="outbound",
                dial_context=dict(record.context),
                wait_for_hello=record.wait_for_hello,
            )
        if call.custom_parameters.get("direction", "").lower() == "outbound":
            logger.info("Outbound call (direction=outbound in the Voicebot URL; no dial context)")
            return dataclasses.replace(
                call, direction="outbound", wait_for_hello=wait_for_hello_default()
            )
        return call


async def _connected(record: DialRecord, call: ExotelCall, ref: str) -> None:
    """Note that the dial's call reached the bot (so its number matches no other call)."""
    by_sid = call.call_sid in (record.call_sid, record.websocket_call_sid)
    by_ref = ref == record.ref
    how = "dial parameter" if by_ref else "call sid" if by_sid else "number"
    logger.info(
        f"Outbound call to {record.to} (matched by {how}; context: {sorted(record.context)})"
    )
    if record.call_sid and record.call_sid != call.call_sid:
        logger.info(f"The websocket's call sid is not the one Exotel dialled ({record.call_sid})")
    record.connected_at = record.connected_at or time.time()
    record.websocket_call_sid = call.call_sid
    try:
        await dial_store().save(record)
    except Exception as e:
        logger.error(f"Could not save this call's dial ({e.__class__.__name__}: {e})")
