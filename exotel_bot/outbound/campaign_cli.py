"""`python -m exotel_bot.outbound campaign contacts.csv [options]`: see campaign.py.

Exits 0 when the campaign has finished (or was stopped), 2 on bad input or settings.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from dotenv import find_dotenv, load_dotenv

from exotel_bot.outbound.campaign import (
    CallingHours,
    Campaign,
    CampaignOptions,
    DialRejected,
    DialUnavailable,
    read_contacts,
)
from exotel_bot.settings import ConfigError, read_settings
from exotel_bot.stores.campaigns import CampaignState, FileCampaignState, RedisCampaignState


class ServerDialer:
    """Dials through the bot server's POST /dialout; reads outcomes from GET /dialout/{sid}."""

    def __init__(self, server: str, token: str):
        self._http = httpx.AsyncClient(
            base_url=server.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    async def dial(self, number: str, context: dict[str, str]) -> str:
        try:
            response = await self._http.post("/dialout", json={"to": number, "context": context})
        except httpx.HTTPError as e:
            raise DialUnavailable(f"cannot reach the server ({e.__class__.__name__})") from None
        if response.status_code in (429, 502, 503) or response.status_code >= 500:
            raise DialUnavailable(f"HTTP {response.status_code}: {response.text[:200]}")
        if not response.is_success:
            raise DialRejected(f"HTTP {response.status_code}: {response.text[:200]}")
        return response.json()["call_sid"]

    async def outcome(self, call_sid: str) -> dict[str, Any] | None:
        try:
            response = await self._http.get(f"/dialout/{call_sid}")
        except httpx.HTTPError as e:
            raise DialUnavailable(str(e)) from None
        return response.json() if response.is_success else None

    async def aclose(self) -> None:
        await self._http.aclose()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m exotel_bot.outbound campaign",
        description="Call every contact of a CSV (number, name, any context columns).",
    )
    parser.add_argument("contacts", type=Path, help="CSV with a header row and a number column")
    parser.add_argument("--results", type=Path, help="results CSV (default: CONTACTS-results.csv)")
    parser.add_argument("--name", help="campaign id for its saved state (default: the CSV's name)")
    parser.add_argument("--rate", type=int, default=200, help="Exotel requests per --per seconds")
    parser.add_argument("--per", type=float, default=60.0, help="rate window in seconds")
    parser.add_argument("--concurrency", type=int, default=10, help="calls at once")
    parser.add_argument("--retries", type=int, default=2, help="redials after no-answer/busy")
    parser.add_argument("--retry-delay", type=float, default=600.0, help="seconds before a redial")
    parser.add_argument("--retry-on", default="no-answer,busy", help="outcomes that are redialled")
    parser.add_argument("--hours", default="09:00-21:00", help="calling hours, callee's time")
    parser.add_argument("--timezone", default="Asia/Kolkata", help="for rows without a timezone")
    parser.add_argument("--poll", type=float, default=2.0, help="seconds between outcome checks")
    parser.add_argument("--call-timeout", type=float, default=1800.0)
    parser.add_argument(
        "--exit-when-waiting",
        action="store_true",
        help="stop once only contacts outside their calling hours remain (resume later)",
    )
    parser.add_argument("--server", help="the bot server (default: $DIALOUT_URL or localhost)")
    parser.add_argument("--stop", action="store_true", help="ask a running campaign to stop")
    return parser.parse_args(argv)


def campaign_state(args: argparse.Namespace, results: Path) -> tuple[CampaignState, Any]:
    """Redis with REDIS_URL, else a journal beside the results; and what to close after."""
    settings = read_settings(require_keys=False)
    name = args.name or args.contacts.stem
    if settings.redis_url:
        from exotel_bot.stores.redis_stores import redis_stores

        stores = redis_stores(settings, takes_calls=False)
        state = RedisCampaignState(
            stores.client, settings.redis_key_prefix, str(settings.redis_url), name
        )
        return state, stores
    return FileCampaignState(results.with_name(f".{results.stem}.{name}.journal")), None


async def run(args: argparse.Namespace) -> int:
    settings = read_settings(require_keys=False)
    results = args.results or args.contacts.with_name(f"{args.contacts.stem}-results.csv")
    state, closer = campaign_state(args, results)
    try:
        if args.stop:
            await state.stop()
            print("stop requested", file=sys.stderr)
            return 0
        token = str(settings.dialout_token)
        if not token:
            raise ConfigError("Set DIALOUT_TOKEN (the server's) to dial through the server")
        options = CampaignOptions(
            rate=args.rate,
            per=args.per,
            concurrency=args.concurrency,
            retries=args.retries,
            retry_delay=args.retry_delay,
            retry_on=tuple(s.strip() for s in args.retry_on.split(",") if s.strip()),
            hours=CallingHours.parse(args.hours),
            timezone=args.timezone,
            poll=args.poll,
            call_timeout=args.call_timeout,
            exit_when_waiting=args.exit_when_waiting,
        )
        contacts = read_contacts(args.contacts)
        for zone in {c.timezone for c in contacts if c.timezone} | {args.timezone}:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {zone!r} (use IANA names)") from None
        server = args.server or settings.dialout_url or f"http://127.0.0.1:{settings.port}"
        dialer = ServerDialer(server, token)
        try:
            counts = await Campaign(contacts, state, dialer, results, options).run()
        finally:
            await dialer.aclose()
        print(f"results: {results} {counts}", file=sys.stderr)
        return 0
    finally:
        if closer is not None:
            await closer.close()


def main(argv: list[str]) -> int:
    load_dotenv(find_dotenv(usecwd=True), override=False)
    args = parse_args(argv)
    try:
        return asyncio.run(run(args))
    except (ValueError, ConfigError, OSError) as e:
        print(f"campaign: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("campaign: interrupted; run it again to resume", file=sys.stderr)
        return 130
