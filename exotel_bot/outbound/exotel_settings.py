"""What dialling out needs from the environment: Exotel's credentials, ExoPhone and mode."""

from __future__ import annotations

from dataclasses import dataclass, field

from exotel_bot.settings import ConfigError, Secret, read_settings

DEFAULT_SUBDOMAIN = "api.exotel.com"  # Singapore; Mumbai accounts use api.in.exotel.com
REQUIRED_VARIABLES = (
    "EXOTEL_API_KEY",
    "EXOTEL_API_TOKEN",
    "EXOTEL_ACCOUNT_SID",
    "EXOTEL_CALLER_ID",
)


@dataclass(frozen=True)
class ExotelApiSettings:
    """What dialling out needs. Field docs live in env.example."""

    api_key: Secret = field(repr=False)
    api_token: Secret = field(repr=False)
    account_sid: str
    caller_id: str  # your ExoPhone
    app_id: str = ""  # flow mode: the flow whose Voicebot applet points at the bot
    subdomain: str = DEFAULT_SUBDOMAIN
    base_url: str = ""  # EXOTEL_API_BASE_URL: a stand-in or proxy instead of https://subdomain
    mode: str = "stream"  # EXOTEL_OUTBOUND_MODE: stream (Connect Voice AI) or flow
    record: bool = False  # OUTBOUND_RECORD
    recording_channels: str = "single"  # OUTBOUND_RECORDING_CHANNELS
    stream_name: str = ""  # OUTBOUND_STREAM_NAME

    @property
    def api_root(self) -> str:
        return (self.base_url or f"https://{self.subdomain}").rstrip("/")

    @property
    def flow_url(self) -> str:
        """The `Url` Exotel runs once the customer answers (http, exactly as Exotel documents)."""
        return f"http://my.exotel.com/{self.account_sid}/exoml/start_voice/{self.app_id}"

    def secrets(self) -> list[str]:
        return [str(self.api_key), str(self.api_token)]


def read_exotel_api_settings() -> ExotelApiSettings:
    """The EXOTEL_* settings from the environment, or ConfigError naming what is missing."""
    settings = read_settings(require_keys=False)
    flow = settings.exotel_outbound_mode == "flow"
    needed = (*REQUIRED_VARIABLES, "EXOTEL_APP_ID") if flow else REQUIRED_VARIABLES
    env = {name: str(getattr(settings, name.lower())) for name in needed}
    missing = [name for name, value in env.items() if not value]
    if missing:
        raise ConfigError(
            f"Dialling out needs {', '.join(missing)} (Exotel dashboard -> API settings and "
            "ExoPhones"
            + (", App Bazaar for EXOTEL_OUTBOUND_MODE=flow" if flow else "")
            + "; see docs/outbound.md)."
        )
    subdomain = settings.exotel_subdomain or DEFAULT_SUBDOMAIN
    if "/" in subdomain or ":" in subdomain:
        raise ConfigError(
            f"EXOTEL_SUBDOMAIN={subdomain!r} must be a host name like api.exotel.com or "
            "api.in.exotel.com (set EXOTEL_API_BASE_URL for a full URL)"
        )
    base_url = settings.exotel_api_base_url
    if base_url and not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"EXOTEL_API_BASE_URL={base_url!r} must start with http:// or https://")
    if flow and not env["EXOTEL_APP_ID"].isdigit():
        raise ConfigError(
            f"EXOTEL_APP_ID={env['EXOTEL_APP_ID']!r} must be the flow's number (App Bazaar -> "
            "your flow: the digits at the end of its URL)"
        )
    return ExotelApiSettings(
        api_key=Secret(env["EXOTEL_API_KEY"]),
        api_token=Secret(env["EXOTEL_API_TOKEN"]),
        account_sid=env["EXOTEL_ACCOUNT_SID"],
        caller_id=env["EXOTEL_CALLER_ID"],
        app_id=settings.exotel_app_id,
        subdomain=subdomain,
        base_url=base_url,
        mode=settings.exotel_outbound_mode,
        record=settings.outbound_record,
        recording_channels=settings.outbound_recording_channels,
        stream_name=settings.outbound_stream_name,
    )
