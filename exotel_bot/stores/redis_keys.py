"""What every Redis store shares: its client, its key prefix, and errors that name the server."""

from __future__ import annotations

from urllib.parse import urlsplit

import redis.asyncio as redis

from exotel_bot.stores import StoreUnavailable


def safe_url(url: str) -> str:
    """REDIS_URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"


class RedisKeys:
    """A client, the REDIS_KEY_PREFIX its keys start with, and the URL (for messages)."""

    def __init__(self, client: redis.Redis, prefix: str, url: str):
        self.client = client
        self.prefix = prefix
        self.url = url

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def unavailable(self, error: Exception) -> StoreUnavailable:
        return StoreUnavailable(
            f"Redis at {safe_url(self.url)}: {error.__class__.__name__}: {error}"
        )
