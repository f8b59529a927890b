"""No malformed field ever ends a call: one table of events x fields x value types.

Every field of every event the caller can send (`media`, `dtmf`, `mark`, `clear`, an unknown
event, `stop`) is replaced in turn by each kind of value: missing, null, a number, a string,
a list, an object. Everything but `stop` goes into one live call, which must go on (the bot
still answers a key press) with each kind of drop logged once; every `stop` row, whatever
its fields hold, must end its call cleanly. All through the real websocket.
"""

from __future__ import annotations

import asyncio
import copy
import re

import pytest

from tests.test_hostile_input import SILENCE, RawCall

MISSING = object()
VALUE_TYPES = {
    "missing": MISSING,
    "null": None,
    "number": 5,
    "string": "5",
    "list": ["5"],
    "object": {"digit": {"deep": 1}},
}
# event -> (a well-formed message, its fields by dotted path)
EVENTS = {
    "media": (
        {
            "event": "media",
            "sequence_number": "3",
            "media": {"chunk": "1", "timestamp": "100", "payload": SILENCE},
        },
        [
            "sequence_number",
            "stream_sid",
            "media",
            "media.payload",
            "media.chunk",
            "media.timestamp",
        ],
    ),
    "dtmf": (
        {"event": "dtmf", "sequence_number": "4", "dtmf": {"digit": "7", "duration": "100"}},
        ["sequence_number", "stream_sid", "dtmf", "dtmf.digit", "dtmf.duration"],
    ),
    "mark": (
        {"event": "mark", "sequence_number": "5", "mark": {"name": "turn-99"}},
        ["sequence_number", "stream_sid", "mark", "mark.name"],
    ),
    "clear": ({"event": "clear", "sequence_number": "6"}, ["sequence_number", "stream_sid"]),
    "unknown": (
        {"event": "wobble", "sequence_number": "7", "wobble": {"x": "1"}},
        ["event", "sequence_number", "stream_sid", "wobble"],
    ),
    "stop": (
        {"event": "stop", "sequence_number": "8", "stop": {"reason": "callended"}},
        ["sequence_number", "stream_sid", "stop", "stop.reason", "stop.call_sid"],
    ),
}


def with_value(message: dict, path: str, value) -> dict:
    """`message` with the field at dotted `path` set to `value` (or removed for MISSING)."""
    message = copy.deepcopy(message)
    *parents, leaf = path.split(".")
    target = message
    for name in parents:
        target = target[name]
    if value is MISSING:
        target.pop(leaf, None)
    else:
        target[leaf] = copy.deepcopy(value)
    return message


def rows(events: list[str]) -> list[tuple[str, str, str, dict]]:
    """(event, field, value type, message) for every combination; `stream_sid` is filled in
    per call, so the rows keep it as a placeholder."""
    table = []
    for event in events:
        base, fields = EVENTS[event]
        base = {**base, "stream_sid": "{sid}"}
        for field in fields:
            for kind, value in VALUE_TYPES.items():
                table.append((event, field, kind, with_value(base, field, value)))
    return table


def for_call(message: dict, call: RawCall) -> dict:
    if message.get("stream_sid") == "{sid}":
        return {**message, "stream_sid": call.stream_sid}
    return message


async def test_no_malformed_field_ends_a_call(server, stand_ins):
    table = rows(["media", "dtmf", "mark", "clear", "unknown"])
    # Keypad input the issue names: a digit that is no key, and a digit sent as a number.
    table += [
        ("dtmf", "dtmf.digit", "letter", {"event": "dtmf", "dtmf": {"digit": "A"}}),
        ("dtmf", "dtmf.digit", "number", {"event": "dtmf", "dtmf": {"digit": 5}}),
    ]
    async with RawCall.open(server.ws_url) as call:
        await call.start()
        assert await call.wait_for("media"), "no greeting"
        for _, _, _, message in table:
            await call.send(for_call(message, call))
            assert call.close_code is None, f"the call ended after {message}"
        answered = await call.bot_answers()
        code = await call.hang_up()
    assert answered, "the bot stopped answering after malformed fields"
    assert code == 1000
    log = server.log()
    assert "Traceback" not in log
    lines = [line for line in log.splitlines() if call.call_sid in line and "Dropping" in line]
    kinds = [re.sub(r"^.* - ", "", line) for line in lines]
    assert kinds and len(kinds) == len(set(kinds)), "each kind of drop is logged once per call"
    assert len(table) > 100


@pytest.mark.parametrize("batch", range(5))
async def test_a_stop_always_ends_the_call_whatever_its_fields(server, stand_ins, batch):
    table = rows(["stop"])[batch::5]

    async def one(message: dict) -> int | None:
        async with RawCall.open(server.ws_url) as call:
            await call.start()
            await call.media()
            await call.send(for_call(message, call))
            return await call.closed(timeout=10)

    codes = await asyncio.gather(*(one(message) for _, _, _, message in table))
    for (_, field, kind, _), code in zip(table, codes, strict=True):
        assert code == 1000, f"stop with {field} {kind}: close code {code}"
    assert server.wait_for_no_calls()["active_calls"] == 0
