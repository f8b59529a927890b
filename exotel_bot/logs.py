"""Logging: every line says which call it belongs to, and no line ever shows an API key."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from loguru import logger

_FORMAT = (
    "<green>{time:HH:mm:ss.SSS}</green> | <level>{level: <7}</level> | "
    "<cyan>{extra[call_id]}</cyan> | {name}:{line} - {message}"
)

_secrets: set[str] = set()


def _scrub(record) -> None:
    """Replace any known secret value in the message with ***: keys must never reach a log."""
    message = record["message"]
    for secret in _secrets:
        if secret in message:
            message = message.replace(secret, "***")
    record["message"] = message


def setup_logging(level: str | None = None) -> None:
    """Send logs to stderr with the call id on every line. Safe to call more than once."""
    logger.remove()
    logger.configure(extra={"call_id": "-"}, patcher=_scrub)
    logger.add(sys.stderr, level=level or _log_level(), format=_FORMAT)


def _log_level() -> str:
    """LOG_LEVEL from the settings; INFO while they cannot be read (whoever loads them next
    reports why, with the logging set up)."""
    from exotel_bot.settings import ConfigError, load_settings

    try:
        return load_settings(require_keys=False).log_level.upper()
    except ConfigError:
        return "INFO"


def hide_secrets(values: Iterable[str]) -> None:
    """Register secret values that must be scrubbed from every log line."""
    _secrets.update(v for v in values if v and len(v) >= 4)


def call_logging(call_id: str):
    """A context in which every log line (ours and pipecat's tasks') carries `call_id`."""
    return logger.contextualize(call_id=call_id)
