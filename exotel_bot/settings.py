"""Settings from the environment (and `.env`), checked once, with errors that say what to fix.

This is the one module that reads the environment: `pydantic-settings` maps each variable to a
field (the variable is the field's name in capitals unless an alias says otherwise), converts
and checks it; `ConfigError` names the variable and the fix. Every variable is listed, with its
default, in `env.example`.
"""

from __future__ import annotations

import difflib
import math
import re
from functools import lru_cache
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from dotenv import dotenv_values, find_dotenv, load_dotenv
from loguru import logger
from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from exotel_bot.languages import (
    STT_SERVICES,
    TTS_SERVICES,
    UnsupportedLanguage,
    check_supported,
    find_language,
)

# The caller-audio noise filters (exotel_bot/services/noise_filter.py).
NOISE_FILTERS = ("none", "rnnoise", "krisp")

# The API key each speech service needs; only the chosen services' keys are required.
SERVICE_KEYS = {
    "deepgram": "DEEPGRAM_API_KEY",
    "cartesia": "CARTESIA_API_KEY",
    "sarvam": "SARVAM_API_KEY",
}
SARVAM_STT_URL = "wss://api.sarvam.ai/speech-to-text-realtime/ws"
SARVAM_TTS_URL = "wss://api.sarvam.ai/text-to-speech/ws"

# A voice from Cartesia's public library; pick another at https://play.cartesia.ai/voices.
DEFAULT_CARTESIA_VOICE = "71a7ad14-091c-4e8e-a314-022ece01c121"

# Simultaneous calls one worker process (one core) carried within the latency targets in
# `python -m benchmarks.workers` (docs/scaling.md has the figures). Default cap: this x workers.
CALLS_PER_WORKER = 10

# Variables whose empty value means "off" rather than "the default". `off` (or `none`) says
# the same where a value cannot be empty (`pipecat cloud secrets set` refuses empty values).
EMPTY_MEANS_OFF = ("TRANSFER_DIGIT", "CALL_RECORDS_DIR")
OFF_WORDS = ("off", "none")

# Durations that must be more than 0 s, and those where 0 is allowed (0 = no limit / at once).
POSITIVE_SECS = (
    "SILENCE_TIMEOUT_SECS",
    "DTMF_TIMEOUT_SECS",
    "GOODBYE_TIMEOUT_SECS",
    "LLM_TIMEOUT_SECS",
    "EXOTEL_HANDSHAKE_TIMEOUT_SECS",
    "OUTBOUND_HELLO_TIMEOUT_SECS",
)
NON_NEGATIVE_SECS = ("MAX_CALL_SECS", "VOICEMAIL_MESSAGE_DELAY_SECS")
# A key that is a placeholder, not a key: "...", "xxx", "sk-...", "<key>", "your-key",
# "YOUR_KEY", "change-me", "paste-here", ...
PLACEHOLDER_KEY = re.compile(
    r"(sk[-_])?[.x*-]+|<.*>|your([\W_].*)?|.*change[-_ ]?me.*|.*placeholder.*"
    r"|paste([\W_].*)?|.*[\W_]here|todo|dummy|none|null",
    re.I,
)
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL")


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names the variable and the fix."""


class Secret(str):
    """A string that never shows its value in repr(), f-string debug output or tracebacks."""

    def __repr__(self) -> str:
        return "Secret('***')"


SecretText = Annotated[str, AfterValidator(Secret), Field(repr=False)]


def _comma_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(value or ())


CommaList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_list)]


def _url(*schemes: str):
    """A validator: empty, or a URL with one of `schemes` and a host."""

    def check(value: str | None) -> str | None:
        if not value:
            return value
        parsed = urlparse(value)
        if parsed.scheme not in schemes or not parsed.netloc:
            raise ValueError(
                f"{value!r} is not a valid URL: expected {' or '.join(schemes)}://host[:port]"
            )
        return value

    return AfterValidator(check)


class Settings(BaseSettings):
    """Everything the bot reads from the environment. Field docs live in env.example."""

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", str_strip_whitespace=True, populate_by_name=True
    )

    deepgram_api_key: SecretText = ""
    openai_api_key: SecretText = ""
    cartesia_api_key: SecretText = ""
    sarvam_api_key: SecretText = ""

    # Speech services (exotel_bot/services/speech.py) and BOT_LANGUAGE (exotel_bot/languages.py)
    stt_service: Annotated[str, AfterValidator(str.lower)] = "deepgram"
    tts_service: Annotated[str, AfterValidator(str.lower)] = "cartesia"
    sarvam_stt_url: Annotated[str, _url("ws", "wss")] = SARVAM_STT_URL
    sarvam_tts_url: Annotated[str, _url("ws", "wss")] = SARVAM_TTS_URL
    sarvam_stt_model: str = "saaras:v3-realtime"
    sarvam_tts_model: str = "bulbul:v3"
    sarvam_voice: str = "priya"
    # Caller-audio noise filter (exotel_bot/services/noise_filter.py): none, rnnoise, krisp
    noise_filter: Annotated[str, AfterValidator(str.lower)] = "krisp"

    deepgram_base_url: Annotated[str, _url("ws", "wss", "http", "https")] = ""
    openai_base_url: Annotated[str | None, _url("http", "https")] = None
    cartesia_ws_url: Annotated[str, _url("ws", "wss")] = "wss://api.cartesia.ai/tts/websocket"

    deepgram_model: str = "nova-3"
    language: Annotated[str, AfterValidator(str.lower)] = Field("en", alias="BOT_LANGUAGE")
    openai_model: str = "gpt-4o-mini"
    cartesia_model: str = "sonic-3.6"
    cartesia_voice: str = Field(DEFAULT_CARTESIA_VOICE, alias="CARTESIA_VOICE_ID")

    audio_chunk_ms: int = Field(200, alias="EXOTEL_AUDIO_CHUNK_MS")
    # A bot turn's first payloads (exotel_bot/wire/output.py)
    first_audio_chunk_ms: int = Field(40, alias="EXOTEL_FIRST_AUDIO_CHUNK_MS")
    handshake_timeout_secs: float = Field(10.0, alias="EXOTEL_HANDSHAKE_TIMEOUT_SECS")

    # Call control (exotel_bot/call/control.py)
    silence_timeout_secs: float = 10.0
    silence_check_ins: int = 2
    max_call_secs: float = 900.0
    dtmf_timeout_secs: float = 2.0
    transfer_digit: str = "0"
    goodbye_timeout_secs: float = 10.0

    # Call records (exotel_bot/records/): empty call_records_dir turns them off
    call_records_dir: str = "calls"
    record_audio: bool = False
    # pipecat's own debuggers on a local call (exotel_bot/phone/debugging.py): whisker or tail
    pipecat_debugger: Annotated[
        Literal["", "whisker", "tail"], BeforeValidator(lambda v: str(v).strip().lower())
    ] = ""

    # Who may call, and how much (exotel_bot/security.py); no username: no Basic auth.
    # EXOTEL_WS_AUTH=user:pass, or EXOTEL_WS_USERNAME + EXOTEL_WS_PASSWORD.
    ws_auth: SecretText = Field("", alias="EXOTEL_WS_AUTH")
    ws_username: str = Field("", alias="EXOTEL_WS_USERNAME")
    ws_password: SecretText = Field("", alias="EXOTEL_WS_PASSWORD")
    allowed_accounts: CommaList = Field((), alias="EXOTEL_ALLOWED_ACCOUNTS")
    # Calls at once across every worker sharing the store; unset: CALLS_PER_WORKER x workers.
    max_concurrent_calls: int | None = None
    # What one worker (one core) carries with latency to spare: see docs/scaling.md.
    calls_per_worker: int = CALLS_PER_WORKER
    max_message_bytes: int = 256 * 1024
    # Vendor failures (exotel_bot/call/fallback.py)
    llm_timeout_secs: float = 6.0
    # What picked up an outbound call (exotel_bot/outbound/answer.py)
    voicemail_detection: bool = True  # answer supervision on outbound calls
    voicemail_message_delay_secs: float = 2.0  # quiet after a greeting with no beep heard
    answer_decision_timeout_secs: float = 8.0  # after the first sound: the verdict is final
    answer_silence_timeout_secs: float = 8.0  # nobody said anything: hang up (silence)
    voicemail_max_wait_secs: float = 30.0  # the longest a machine's greeting may run

    # After the call (docs/records.md): the outcome bot.py declares, the post-call webhook,
    # and the number a Connect applet gets for an unknown call (docs/call-control.md).
    summary_model: str = ""  # empty: OPENAI_MODEL
    summary_timeout_secs: float = 20.0
    post_call_webhook_url: Annotated[str, _url("http", "https")] = ""
    webhook_secret: SecretText = ""
    webhook_timeout_secs: float = 10.0
    webhook_max_attempts: int = 5
    webhook_wait_secs: float = 15.0  # how long a session waits for its delivery before ending
    webhook_max_pending: int = 200  # deliveries in flight per process; past it, dropped (logged)
    transfer_fallback_number: str = ""

    # Past one process (exotel_bot/stores/, docs/scaling.md): state in Redis, several workers.
    redis_url: str = Field("", repr=False)  # only its password is a secret (see secrets())
    redis_key_prefix: str = "exotel-bot:"
    web_concurrency: int = 1
    # What GET /exotel/voicebot-url answers: this URL, else Pipecat Cloud's, else this host's /ws.
    voicebot_ws_url: Annotated[str, _url("ws", "wss")] = ""
    pipecat_cloud_service_host: str = ""  # AGENT.ORG, e.g. exotel-bot.acme
    pipecat_cloud_region: str = ""  # us-west (the default host), us-east, eu-central, ap-south

    # This server (server.py): where it listens, its public address, how much it logs.
    host: str = "0.0.0.0"
    port: int = 7860
    public_url: str = ""  # https://your.host: printed as the Voicebot URL, Exotel's callbacks
    log_level: str = "INFO"
    api_docs: bool = False  # FastAPI's /docs, /redoc and /openapi.json

    # Outbound calls (exotel_bot/outbound/, docs/outbound.md)
    dialout_token: SecretText = ""  # turns POST /dialout on; the bearer token it needs
    dialout_url: str = ""  # where `python -m exotel_bot.outbound` finds the server
    outbound_wait_for_hello: bool = False
    outbound_hello_timeout_secs: float = 3.0
    exotel_api_key: SecretText = ""
    exotel_api_token: SecretText = ""
    exotel_account_sid: str = ""
    exotel_caller_id: str = ""  # your ExoPhone
    exotel_app_id: str = ""  # the flow whose Voicebot applet points at the bot (flow mode)
    exotel_outbound_mode: str = "stream"  # stream (Connect Voice AI) or flow (App Bazaar)
    outbound_record: bool = False  # Record=true on Connect Voice AI dials
    outbound_recording_channels: str = "single"  # single or dual
    outbound_stream_name: str = ""  # StreamName (<= 32 characters)
    exotel_subdomain: str = ""  # api.exotel.com (Singapore) unless set; api.in.exotel.com
    exotel_api_base_url: str = ""  # a stand-in or proxy instead of https://EXOTEL_SUBDOMAIN

    @model_validator(mode="before")
    @classmethod
    def _empty_is_unset(cls, data: Any) -> Any:
        """An empty variable means "use the default", except where empty means "off"."""
        if not isinstance(data, dict):
            return data
        keep = {name.lower() for name in EMPTY_MEANS_OFF}
        data = {
            key: value
            for key, value in data.items()
            if key.lower() in keep or not (isinstance(value, str) and not value.strip())
        }
        for key, value in data.items():
            if (
                key.lower() in keep
                and isinstance(value, str)
                and value.strip().lower() in OFF_WORDS
            ):
                data[key] = ""
        return data

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.audio_chunk_ms % 20 or not 20 <= self.audio_chunk_ms <= 1000:
            raise ValueError(
                f"EXOTEL_AUDIO_CHUNK_MS={self.audio_chunk_ms} must be a multiple of 20 between "
                "20 and 1000 (Exotel wants media payloads in multiples of 320 bytes)"
            )
        first = self.first_audio_chunk_ms
        if first % 20 or not 20 <= first <= self.audio_chunk_ms:
            raise ValueError(
                f"EXOTEL_FIRST_AUDIO_CHUNK_MS={first} must be a multiple of 20 between "
                f"20 and EXOTEL_AUDIO_CHUNK_MS ({self.audio_chunk_ms})"
            )
        if self.stt_service not in STT_SERVICES:
            raise ValueError(
                f"STT_SERVICE={self.stt_service!r} must be one of {', '.join(STT_SERVICES)}"
            )
        if self.noise_filter not in NOISE_FILTERS:
            raise ValueError(
                f"NOISE_FILTER={self.noise_filter!r} must be one of {', '.join(NOISE_FILTERS)}"
            )
        if self.tts_service not in TTS_SERVICES:
            raise ValueError(
                f"TTS_SERVICE={self.tts_service!r} must be one of {', '.join(TTS_SERVICES)}"
            )
        try:
            language = find_language(self.language)  # aliases too: od -> or
            check_supported(language, self.stt_service, self.tts_service)
        except UnsupportedLanguage as e:
            raise ValueError(str(e)) from None
        object.__setattr__(self, "language", language.key)  # frozen model: stored once, here
        _check_durations(self)
        if self.silence_check_ins < 0:
            raise ValueError(f"SILENCE_CHECK_INS={self.silence_check_ins} must be 0 or more")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"PORT={self.port} must be a TCP port, 1 to 65535")
        if self.log_level.upper() not in LOG_LEVELS:
            raise ValueError(f"LOG_LEVEL={self.log_level!r} must be one of {', '.join(LOG_LEVELS)}")
        if self.transfer_digit not in ("", *"0123456789*"):
            raise ValueError(
                f"TRANSFER_DIGIT={self.transfer_digit!r} must be one keypad key (or empty)"
            )
        if self.max_concurrent_calls is not None and self.max_concurrent_calls < 0:
            raise ValueError("MAX_CONCURRENT_CALLS must be 0 (no limit) or more")
        if self.calls_per_worker < 1:
            raise ValueError("CALLS_PER_WORKER must be 1 or more")
        if self.outbound_hello_timeout_secs <= 0:
            raise ValueError("OUTBOUND_HELLO_TIMEOUT_SECS must be a positive number of seconds")
        if self.exotel_outbound_mode not in ("stream", "flow"):
            raise ValueError(
                f"EXOTEL_OUTBOUND_MODE={self.exotel_outbound_mode!r} must be stream (Connect "
                "Voice AI, no flow needed) or flow (an App Bazaar flow, EXOTEL_APP_ID)"
            )
        if self.outbound_recording_channels not in ("single", "dual"):
            raise ValueError("OUTBOUND_RECORDING_CHANNELS must be single or dual")
        if len(self.outbound_stream_name) > 32:
            raise ValueError("OUTBOUND_STREAM_NAME must be at most 32 characters (Exotel's limit)")
        for name in ("answer_decision_timeout_secs", "answer_silence_timeout_secs"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name.upper()} must be a positive number of seconds")
        if self.web_concurrency < 1:
            raise ValueError("WEB_CONCURRENCY must be 1 or more (worker processes)")
        if self.redis_url and urlparse(self.redis_url).scheme not in ("redis", "rediss", "unix"):
            raise ValueError(
                "REDIS_URL must look like redis://[:password@]host:6379/0 (or rediss://, unix://)"
            )
        if self.max_message_bytes < 16 * 1024:
            raise ValueError(
                f"MAX_MESSAGE_BYTES={self.max_message_bytes} is too small: Exotel media "
                "messages can reach several KB; use at least 16384"
            )
        if self.webhook_max_attempts < 1 or self.webhook_max_pending < 1:
            raise ValueError("WEBHOOK_MAX_ATTEMPTS and WEBHOOK_MAX_PENDING must be 1 or more")
        if self.post_call_webhook_url and not self.webhook_secret:
            raise ValueError(
                "POST_CALL_WEBHOOK_URL needs WEBHOOK_SECRET (a long random string): every "
                "delivery is signed with it so your receiver can tell it came from this bot"
            )
        _check_ws_credentials(self)
        return self

    def secrets(self) -> list[str]:
        """The secret values, so logging can scrub them from anything it writes."""
        fields = type(self).model_fields.items()
        values = [getattr(self, n) for n, f in fields if not f.repr and n != "redis_url"]
        values.append(urlparse(self.redis_url).password)  # the URL itself is useful in logs
        return [str(value) for value in values if value]

    def placeholder_keys(self) -> list[str]:
        """The needed vendor keys whose value is a placeholder (`...`, `your-key`), not a key.
        Whether a real-looking key is right only the vendor can say: see call/fallback.py."""
        needed = (SERVICE_KEYS[self.stt_service], "OPENAI_API_KEY", SERVICE_KEYS[self.tts_service])
        return [
            name
            for name in dict.fromkeys(needed)
            if PLACEHOLDER_KEY.fullmatch(getattr(self, name.lower()).strip())
        ]

    def missing_keys(self) -> list[str]:
        """The vendor keys the bot needs (OpenAI's and the chosen speech services') and the
        environment does not give."""
        needed = (SERVICE_KEYS[self.stt_service], "OPENAI_API_KEY", SERVICE_KEYS[self.tts_service])
        return [name for name in dict.fromkeys(needed) if not getattr(self, name.lower())]


def _field_of(name: str) -> str:
    """The Settings field a variable sets (its alias, or its own name in lower case)."""
    for field_name, field in Settings.model_fields.items():
        if field.alias == name:
            return field_name
    return name.lower()


def _check_durations(settings: Settings) -> None:
    """Seconds must be finite; timeouts more than 0, limits and delays 0 or more."""
    for names, least, words in (
        (POSITIVE_SECS, "more than 0", "a positive number of seconds"),
        (NON_NEGATIVE_SECS, "0 or more", "0 or a positive number of seconds"),
    ):
        for name in names:
            value = getattr(settings, _field_of(name))
            if not math.isfinite(value) or value < 0 or (value == 0 and names is POSITIVE_SECS):
                raise ValueError(f"{name}={value:g} must be {words} ({least})")


def _check_ws_credentials(settings: Settings) -> None:
    """Basic auth for /ws: both parts or neither, a username without ':', a long password."""
    combined, username, password = (
        settings.ws_auth,
        settings.ws_username,
        settings.ws_password,
    )
    if combined and (username or password):
        raise ValueError("Set EXOTEL_WS_AUTH or EXOTEL_WS_USERNAME/EXOTEL_WS_PASSWORD, not both")
    if combined:
        username, sep, password = combined.partition(":")
        if not sep:
            raise ValueError("EXOTEL_WS_AUTH must be username:password")
        # Frozen model: the split credentials are stored once, here.
        object.__setattr__(settings, "ws_username", username)
        object.__setattr__(settings, "ws_password", Secret(password))
    if not username and not password:
        return
    if not username or not password or ":" in username:
        raise ValueError(
            "Basic auth for the websocket needs a username (without ':') and a password: "
            "EXOTEL_WS_USERNAME and EXOTEL_WS_PASSWORD, or EXOTEL_WS_AUTH=username:password"
        )
    if len(password) < 12:
        raise ValueError(
            "The websocket password must be at least 12 characters: it guards a public URL "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(24))')"
        )


_TYPE_ERRORS = {
    "int": "must be a whole number",
    "float": "must be a number",
    "bool": "must be true or false",
}


def _explain(error: ValidationError) -> str:
    """pydantic's errors as one sentence per variable, in the variable's own name."""
    sentences = []
    for item in error.errors():
        field_name = next((str(p) for p in item["loc"] if isinstance(p, str)), "")
        field = Settings.model_fields.get(field_name)
        name = field.alias if field and field.alias else field_name.upper()
        if item["type"] == "value_error":  # our own checks: their message says what to do
            message = str(item["ctx"]["error"])
            sentences.append(f"{name}={message}" if name else message)
            continue
        complaint = _TYPE_ERRORS.get(item["type"].split("_")[0], f"is not valid ({item['msg']})")
        sentences.append(f"{name}={item.get('input')!r} {complaint}")
    return "; ".join(sentences)


def read_settings(*, require_keys: bool = True) -> Settings:
    """Read the settings from the environment now, raising ConfigError on any problem.

    `require_keys=False` is for processes that run no call (the control plane, the dial CLI).
    """
    try:
        settings = Settings()
    except ValidationError as error:
        raise ConfigError(_explain(error)) from None
    missing = settings.missing_keys() if require_keys else []
    if missing:
        env_file = find_dotenv(usecwd=True)
        where = (
            f"Fill {'it' if len(missing) == 1 else 'them'} in in {env_file} (env.example lists "
            "every setting)"
            if env_file
            else f"Copy env.example to .env and fill {'it' if len(missing) == 1 else 'them'} in"
        )
        raise ConfigError(
            f"Missing {', '.join(missing)}. {where} "
            "(or run the keyless demo: python -m simulator.demo)."
        )
    placeholders = settings.placeholder_keys() if require_keys else []
    if placeholders:
        raise ConfigError(
            f"{', '.join(placeholders)} still {'holds' if len(placeholders) == 1 else 'hold'} a "
            "placeholder, not a key: paste the key from "
            "the vendor's dashboard (or run the keyless demo: python -m simulator.demo)."
        )
    return settings


def setting_names() -> set[str]:
    """Every environment name a setting is read from (upper case)."""
    return {(field.alias or name).upper() for name, field in Settings.model_fields.items()}


def misspelled_names(env_file: str) -> list[tuple[str, str]]:
    """(name, the setting it is probably meant to be) for each name in the dotenv file
    `env_file` that is no setting but close to one, like DEEPGRAM_APIKEY. Names far from every
    setting (another tool's) are left alone."""
    known = setting_names()
    found = []
    for name in dotenv_values(env_file):
        if name.upper() not in known:
            close = difflib.get_close_matches(name.upper(), sorted(known), n=1, cutoff=0.8)
            if close:
                found.append((name, close[0]))
    return found


@lru_cache(maxsize=2)
def load_settings(*, require_keys: bool = True) -> Settings:
    """The process-wide settings; `.env` fills in what the environment does not set.

    A name in `.env` that looks like a mistyped setting is logged as a warning (it is ignored:
    the setting keeps its default, or a missing key is reported as missing)."""
    env_file = find_dotenv(usecwd=True)
    if env_file:
        for name, meant in misspelled_names(env_file):
            logger.warning(
                f"{env_file}: {name} is not a setting and is ignored; did you mean {meant}?"
            )
    load_dotenv(env_file, override=False)
    return read_settings(require_keys=require_keys)
