"""Settings from the environment (and `.env`), checked once, with errors that say what to fix."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from functools import lru_cache
from urllib.parse import urlparse

from dotenv import find_dotenv, load_dotenv

from exotel_bot.languages import LANGUAGES

REQUIRED_KEYS = ("DEEPGRAM_API_KEY", "OPENAI_API_KEY", "CARTESIA_API_KEY")

# A voice from Cartesia's public library; pick another at https://play.cartesia.ai/voices.
DEFAULT_CARTESIA_VOICE = "71a7ad14-091c-4e8e-a314-022ece01c121"


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names the variable and the fix."""


class Secret(str):
    """A string that never shows its value in repr(), f-string debug output or tracebacks."""

    def __repr__(self) -> str:
        return "Secret('***')"


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from the environment. Field docs live in env.example."""

    deepgram_api_key: Secret = field(repr=False)
    openai_api_key: Secret = field(repr=False)
    cartesia_api_key: Secret = field(repr=False)

    deepgram_base_url: str = ""
    openai_base_url: str | None = None
    cartesia_ws_url: str = "wss://api.cartesia.ai/tts/websocket"

    deepgram_model: str = "nova-3"
    language: str = "en"
    openai_model: str = "gpt-4o-mini"
    cartesia_model: str = "sonic-3.6"
    cartesia_voice: str = DEFAULT_CARTESIA_VOICE

    audio_chunk_ms: int = 200
    handshake_timeout_secs: float = 10.0

    # Call control (exotel_bot/control.py)
    silence_timeout_secs: float = 10.0
    silence_check_ins: int = 2
    max_call_secs: float = 900.0
    dtmf_timeout_secs: float = 2.0
    transfer_digit: str = "0"
    goodbye_timeout_secs: float = 10.0

    def secrets(self) -> list[str]:
        """The secret values, so logging can scrub them from anything it writes."""
        return [str(getattr(self, f.name)) for f in fields(self) if f.name.endswith("_api_key")]


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


def _check_url(name: str, value: str | None, schemes: tuple[str, ...]) -> None:
    if value is None:
        return
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.netloc:
        raise ConfigError(
            f"{name}={value!r} is not a valid URL: expected {' or '.join(schemes)}://host[:port]"
        )


def _int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} must be a whole number") from None


def _float(name: str, default: float) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} must be a number") from None


def read_settings() -> Settings:
    """Read the settings from the environment now, raising ConfigError on any problem."""
    missing = [name for name in REQUIRED_KEYS if not _env(name)]
    if missing:
        raise ConfigError(
            f"Missing {', '.join(missing)}. Copy env.example to .env and fill in your API keys "
            "(or run the keyless demo: python -m simulator.demo)."
        )

    deepgram_base_url = _env("DEEPGRAM_BASE_URL", "")
    openai_base_url = _env("OPENAI_BASE_URL")
    cartesia_ws_url = _env("CARTESIA_WS_URL", "wss://api.cartesia.ai/tts/websocket")
    _check_url("DEEPGRAM_BASE_URL", deepgram_base_url or None, ("ws", "wss", "http", "https"))
    _check_url("OPENAI_BASE_URL", openai_base_url, ("http", "https"))
    _check_url("CARTESIA_WS_URL", cartesia_ws_url, ("ws", "wss"))

    audio_chunk_ms = _int("EXOTEL_AUDIO_CHUNK_MS", 200)
    if audio_chunk_ms % 20 or not 20 <= audio_chunk_ms <= 1000:
        raise ConfigError(
            f"EXOTEL_AUDIO_CHUNK_MS={audio_chunk_ms} must be a multiple of 20 between 20 and 1000 "
            "(Exotel wants media payloads in multiples of 320 bytes)"
        )

    language = (_env("BOT_LANGUAGE", Settings.language) or "").lower()
    if language not in LANGUAGES:
        raise ConfigError(
            f"BOT_LANGUAGE={language!r} is not one of {', '.join(LANGUAGES)} "
            "(add it to exotel_bot/languages.py)"
        )
    transfer_digit = os.environ.get("TRANSFER_DIGIT", "0").strip()
    if transfer_digit not in ("", *"0123456789*"):
        raise ConfigError(f"TRANSFER_DIGIT={transfer_digit!r} must be one keypad key (or empty)")

    return Settings(
        deepgram_api_key=Secret(_env("DEEPGRAM_API_KEY")),
        openai_api_key=Secret(_env("OPENAI_API_KEY")),
        cartesia_api_key=Secret(_env("CARTESIA_API_KEY")),
        deepgram_base_url=deepgram_base_url,
        openai_base_url=openai_base_url,
        cartesia_ws_url=cartesia_ws_url,
        deepgram_model=_env("DEEPGRAM_MODEL", Settings.deepgram_model),
        language=language,
        openai_model=_env("OPENAI_MODEL", Settings.openai_model),
        cartesia_model=_env("CARTESIA_MODEL", Settings.cartesia_model),
        cartesia_voice=_env("CARTESIA_VOICE_ID", Settings.cartesia_voice),
        audio_chunk_ms=audio_chunk_ms,
        handshake_timeout_secs=_float("EXOTEL_HANDSHAKE_TIMEOUT_SECS", 10.0),
        silence_timeout_secs=_float("SILENCE_TIMEOUT_SECS", Settings.silence_timeout_secs),
        silence_check_ins=_int("SILENCE_CHECK_INS", Settings.silence_check_ins),
        max_call_secs=_float("MAX_CALL_SECS", Settings.max_call_secs),
        dtmf_timeout_secs=_float("DTMF_TIMEOUT_SECS", Settings.dtmf_timeout_secs),
        transfer_digit=transfer_digit,
        goodbye_timeout_secs=_float("GOODBYE_TIMEOUT_SECS", Settings.goodbye_timeout_secs),
    )


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """The process-wide settings; `.env` fills in what the environment does not set."""
    load_dotenv(find_dotenv(usecwd=True), override=False)
    return read_settings()
