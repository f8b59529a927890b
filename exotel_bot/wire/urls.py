"""The Voicebot applet's websocket URL: Exotel's rules for it, and the URLs the bot gives out.

Exotel passes the URL's query parameters to the bot as custom parameters, at most 3 of them and
256 characters in all, except the options it reads itself (`sample-rate`), per Exotel's
Voicebot applet documentation. Pipecat Cloud's Exotel websocket is
`wss://[region.]api.pipecat.daily.co/ws/exotel?serviceHost=AGENT.ORG` (Pipecat Cloud's Exotel
guide).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MAX_CUSTOM_PARAMETERS = 3
MAX_CUSTOM_CHARS = 256
# Query parameters Exotel reads itself rather than passing on as custom parameters.
EXOTEL_URL_OPTIONS = ("sample-rate",)


# Pipecat Cloud's default region is served from the host without a region prefix.
PIPECAT_CLOUD_DEFAULT_REGION = "us-west"


def pipecat_cloud_url(service_host: str, region: str = "") -> str:
    """Pipecat Cloud's Exotel websocket for `AGENT.ORG` in `region`: us-west (or empty) is
    `wss://api.pipecat.daily.co/ws/exotel?serviceHost=...`, any other region
    `wss://{region}.api.pipecat.daily.co/...` (Pipecat Cloud's Exotel guide)."""
    region = region.strip().lower()
    prefix = "" if region in ("", PIPECAT_CLOUD_DEFAULT_REGION) else f"{region}."
    host = f"{prefix}api.pipecat.daily.co"
    return f"wss://{host}/ws/exotel?{urlencode({'serviceHost': service_host})}"


def exotel_url(public_url: str) -> str:
    """The websocket URL for the Exotel Voicebot applet from a public https/wss URL:
    `https://bot.example.com` -> `wss://bot.example.com/ws`."""
    url = public_url.rstrip("/")
    for old, new in (("https://", "wss://"), ("http://", "ws://")):
        if url.startswith(old):
            url = new + url[len(old) :]
    if not url.startswith(("wss://", "ws://")):
        url = "wss://" + url
    return url if url.endswith("/ws") else url + "/ws"


def custom_parameters(url: str) -> list[tuple[str, str]]:
    """The query parameters of `url` that Exotel passes to the bot as custom parameters."""
    return [(k, v) for k, v in parse_qsl(urlsplit(url).query) if k not in EXOTEL_URL_OPTIONS]


def with_parameter(url: str, key: str, value: str) -> str | None:
    """`url` with `key=value` added, or None if that breaks Exotel's 3-parameter/256-char rule."""
    params = [*custom_parameters(url), (key, value)]
    if len(params) > MAX_CUSTOM_PARAMETERS or len(urlencode(params)) > MAX_CUSTOM_CHARS:
        return None
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query), (key, value)])
    return urlunsplit(parts._replace(query=query))
