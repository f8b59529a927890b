"""Settings from the environment (and `.env`), checked once, with errors that say what to fix."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from functools import lru_cache
from urllib.parse import urlparse

from dotenv import find_dotenv, load_dotenv

from exotel_bot.call.languages import LANGUAGES

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
    first_audio_chunk_ms: int = 40  # a bot turn's first payloads (exotel_bot/wire/output.py)
    handshake_timeout_secs: float = 10.0

    # Call control (exotel_bot/call/control.py)
    silence_timeout_secs: float = 10.0
    silence_check_ins: int = 2
    max_call_secs: float = 900.0
    dtmf_timeout_secs: float = 2.0
    transfer_digit: str = "0"
    goodbye_timeout_secs: float = 10.0

    # Call records (exotel_bot/records/recorder.py): empty call_records_dir turns them off
    call_records_dir: str = "calls"
    record_audio: bool = False

    # Who may call, and how much (exotel_bot/security.py); no username: no Basic auth
    ws_username: str = ""
    ws_password: Secret = field(default=Secret(""), repr=False)
    allowed_accounts: tuple[str, ...] = ()
    max_concurrent_calls: int = 20
    max_message_bytes: int = 256 * 1024
    # Vendor failures (exotel_bot/call/fallback.py)
    llm_timeout_secs: float = 6.0

    def secrets(self) -> list[str]:
        """The secret values, so logging can scrub them from anything it writes."""
        secret_fields = [f.name for f in fields(self) if f.name.endswith(("_api_key", "_password"))]
        return [str(getattr(self, name)) for name in secret_fields if getattr(self, name)]


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


def _bool(name: str, default: bool) -> bool:
    raw = (_env(name) or "").lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} must be true or false")


def _ws_credentials() -> tuple[str, str]:
    """Basic auth for /ws: EXOTEL_WS_AUTH=user:pass, or EXOTEL_WS_USERNAME + EXOTEL_WS_PASSWORD."""
    combined = _env("EXOTEL_WS_AUTH")
    username, password = _env("EXOTEL_WS_USERNAME", ""), _env("EXOTEL_WS_PASSWORD", "")
    if combined and (username or password):
        raise ConfigError("Set EXOTEL_WS_AUTH or EXOTEL_WS_USERNAME/EXOTEL_WS_PASSWORD, not both")
    if combined:
        username, sep, password = combined.partition(":")
        if not sep:
            raise ConfigError("EXOTEL_WS_AUTH must be username:password")
    if not username and not password:
        return "", ""
    if not username or not password or ":" in username:
        raise ConfigError(
            "Basic auth for the websocket needs a username (without ':') and a password: "
            "EXOTEL_WS_USERNAME and EXOTEL_WS_PASSWORD, or EXOTEL_WS_AUTH=username:password"
        )
    if len(password) < 12:
        raise ConfigError(
            "The websocket password must be at least 12 characters: it guards a public URL "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(24))')"
        )
    return username, password


def _allowed_accounts() -> tuple[str, ...]:
    raw = _env("EXOTEL_ALLOWED_ACCOUNTS", "")
    return tuple(sid.strip() for sid in raw.split(",") if sid.strip())


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
    first_audio_chunk_ms = _int("EXOTEL_FIRST_AUDIO_CHUNK_MS", Settings.first_audio_chunk_ms)
    if first_audio_chunk_ms % 20 or not 20 <= first_audio_chunk_ms <= audio_chunk_ms:
        raise ConfigError(
            f"EXOTEL_FIRST_AUDIO_CHUNK_MS={first_audio_chunk_ms} must be a multiple of 20 between "
            f"20 and EXOTEL_AUDIO_CHUNK_MS ({audio_chunk_ms})"
        )

    language = (_env("BOT_LANGUAGE", Settings.language) or "").lower()
    if language not in LANGUAGES:
        raise ConfigError(
            f"BOT_LANGUAGE={language!r} is not one of {', '.join(LANGUAGES)} "
            "(add it to exotel_bot/call/languages.py)"
        )
    transfer_digit = os.environ.get("TRANSFER_DIGIT", "0").strip()
    if transfer_digit not in ("", *"0123456789*"):
        raise ConfigError(f"TRANSFER_DIGIT={transfer_digit!r} must be one keypad key (or empty)")

    ws_username, ws_password = _ws_credentials()
    max_concurrent_calls = _int("MAX_CONCURRENT_CALLS", Settings.max_concurrent_calls)
    if max_concurrent_calls < 0:
        raise ConfigError("MAX_CONCURRENT_CALLS must be 0 (no limit) or more")
    max_message_bytes = _int("MAX_MESSAGE_BYTES", Settings.max_message_bytes)
    if max_message_bytes < 16 * 1024:
        raise ConfigError(
            f"MAX_MESSAGE_BYTES={max_message_bytes} is too small: Exotel media messages can "
            "reach several KB; use at least 16384"
        )

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
        first_audio_chunk_ms=first_audio_chunk_ms,
        handshake_timeout_secs=_float("EXOTEL_HANDSHAKE_TIMEOUT_SECS", 10.0),
        silence_timeout_secs=_float("SILENCE_TIMEOUT_SECS", Settings.silence_timeout_secs),
        silence_check_ins=_int("SILENCE_CHECK_INS", Settings.silence_check_ins),
        max_call_secs=_float("MAX_CALL_SECS", Settings.max_call_secs),
        dtmf_timeout_secs=_float("DTMF_TIMEOUT_SECS", Settings.dtmf_timeout_secs),
        transfer_digit=transfer_digit,
        goodbye_timeout_secs=_float("GOODBYE_TIMEOUT_SECS", Settings.goodbye_timeout_secs),
        call_records_dir=os.environ.get("CALL_RECORDS_DIR", Settings.call_records_dir).strip(),
        record_audio=_bool("RECORD_AUDIO", Settings.record_audio),
        ws_username=ws_username,
        ws_password=Secret(ws_password),
        allowed_accounts=_allowed_accounts(),
        max_concurrent_calls=max_concurrent_calls,
        max_message_bytes=max_message_bytes,
        llm_timeout_secs=_float("LLM_TIMEOUT_SECS", Settings.llm_timeout_secs),
    )


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """The process-wide settings; `.env` fills in what the environment does not set."""
    load_dotenv(find_dotenv(usecwd=True), override=False)
    return read_settings()
