"""Reading Exotel's JSON fields whatever shape they come in.

Exotel's documents and clients disagree on key style (`stream_sid` or `streamSid`, `event` or
`Event`) and on value types (`"8000"` or `8000`). These helpers read a field in either key
style and turn a value into the type wanted, or None when it cannot be one: callers decide
what a missing value means, and nothing here raises.

Sources: Exotel's "Working with the Stream and Voicebot applet" (snake_case, string values);
exotel/Agent-Stream docs/AGENTSTREAM_WSS_PROTOCOL.md (names vary by applet and Connect path,
camelCase accepted); Exotel's test client (numeric `sample_rate`).
"""

from __future__ import annotations

from typing import Any


def camel_case(name: str) -> str:
    """`stream_sid` -> `streamSid`."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def read(message: Any, name: str) -> Any:
    """`message[name]` in snake_case or camelCase (snake wins), None if absent or not a dict."""
    if not isinstance(message, dict):
        return None
    value = message.get(name)
    if value is None:
        value = message.get(camel_case(name))
    return value


def read_dict(message: Any, name: str) -> dict:
    """A field that should be an object: {} when it is missing or anything else."""
    value = read(message, name)
    return value if isinstance(value, dict) else {}


def as_text(value: Any) -> str | None:
    """A string, or a number written as one; None for anything else (null, lists, objects)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    return None


def as_int(value: Any) -> int | None:
    """An integer from a number or a numeric string (`"8000"`, `8000`, `8000.0`), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(value) if isinstance(value, float | str) else None
    except ValueError:
        return None
    if number is None or number != number or number in (float("inf"), float("-inf")):
        return None
    return int(number)


def event_name(message: dict) -> str | None:
    """The message's event (`event` or `Event`), lower-cased; None when it is not text."""
    value = message.get("event")
    if value is None:
        value = message.get("Event")
    text = as_text(value)
    return text.strip().lower() if text is not None else None
