"""Have the bot phone someone, from a shell or a script.

    python -m exotel_bot.outbound +919876543210 --context '{"name": "Asha", "purpose": "order"}'

By default this asks the running server (`python server.py`) to dial, through its POST /dialout
with DIALOUT_TOKEN: the server keeps the context for the bot. `--direct` asks Exotel itself
(EXOTEL_* settings); the context then reaches the bot only through a shared store
(REDIS_URL). `campaign contacts.csv` calls a list (campaign.py).
Prints the Exotel call sid on stdout; exits 1 if the call was not placed, 2 on bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import httpx
from dotenv import find_dotenv, load_dotenv

from exotel_bot.outbound.dialer import place
from exotel_bot.outbound.dials import DialRecord, normalize_number
from exotel_bot.outbound.exotel_api import ExotelError, read_exotel_api_settings
from exotel_bot.settings import ConfigError, read_settings
from exotel_bot.stores import StoreUnavailable, stores


class DialFailed(Exception):
    """The call was not placed; the message says why."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m exotel_bot.outbound", description=__doc__.splitlines()[0]
    )
    parser.add_argument("number", help="who to call: +919876543210, 09876543210 or 9876543210")
    parser.add_argument("--context", default="{}", help="JSON object for the bot, e.g. a name")
    parser.add_argument(
        "--wait-for-hello",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="greet only after the callee speaks (default: OUTBOUND_WAIT_FOR_HELLO)",
    )
    parser.add_argument("--time-limit", type=int, help="hang up after this many seconds")
    parser.add_argument(
        "--server",
        default=None,
        help="the bot server (default: $DIALOUT_URL or http://127.0.0.1:$PORT)",
    )
    parser.add_argument(
        "--direct", action="store_true", help="call Exotel's API directly (no context)"
    )
    return parser.parse_args(argv)


async def dial_through_server(server: str, token: str, body: dict) -> dict:
    """POST /dialout on the bot's server; its answer, or DialFailed with the server's reason."""
    url = server.rstrip("/") + "/dialout"
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            response = await client.post(
                url, json=body, headers={"Authorization": f"Bearer {token}"}
            )
    except httpx.HTTPError as e:
        raise DialFailed(
            f"cannot reach {url} ({e.__class__.__name__}); is server.py running?"
        ) from None
    if response.status_code == 404:
        raise DialFailed(f"{url} does not exist: start the server with DIALOUT_TOKEN set")
    if not response.is_success:
        try:
            detail = response.json().get("detail")
        except ValueError:
            detail = response.text[:300]
        raise DialFailed(f"HTTP {response.status_code}: {json.dumps(detail)}")
    return response.json()


async def dial_directly(number: str, time_limit: int | None, context: dict) -> dict:
    """Exotel's Calls/connect from this process. The dial's record goes to this process's
    store: the bot sees its context only when that store is shared (REDIS_URL)."""
    record = DialRecord(to=number, context=context)
    try:
        call_sid = await place(record, read_exotel_api_settings(), time_limit=time_limit)
    except (ExotelError, StoreUnavailable) as e:
        raise DialFailed(str(e)) from None
    finally:
        await stores().close()
    return {"call_sid": call_sid, "status": record.status, "to": number}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["campaign"]:
        from exotel_bot.outbound.campaign_cli import main as campaign

        return campaign(argv[1:])
    args = parse_args(argv)
    load_dotenv(find_dotenv(usecwd=True), override=False)
    try:
        number = normalize_number(args.number)
        context = json.loads(args.context)
        if not isinstance(context, dict):
            raise ValueError('--context must be a JSON object, like \'{"name": "Asha"}\'')
        shared = bool(read_settings(require_keys=False).redis_url)
        if args.direct and not shared and (context or args.wait_for_hello is not None):
            raise ValueError(
                "--direct cannot pass --context or --wait-for-hello without REDIS_URL: the bot "
                "only gets them through the server's /dialout or a shared store"
            )
        if args.direct:
            call = asyncio.run(dial_directly(number, args.time_limit, context))
        else:
            settings = read_settings(require_keys=False)
            token = str(settings.dialout_token)
            if not token:
                raise ConfigError("Set DIALOUT_TOKEN (the server's) to dial through the server")
            local = f"http://127.0.0.1:{settings.port}"
            server = args.server or settings.dialout_url or local
            body = {"to": number, "context": context, "wait_for_hello": args.wait_for_hello}
            if args.time_limit:
                body["time_limit"] = args.time_limit
            call = asyncio.run(dial_through_server(server, token, body))
    except (ValueError, ConfigError) as e:  # json.JSONDecodeError is a ValueError
        print(f"dial: {e}", file=sys.stderr)
        return 2
    except DialFailed as e:
        print(f"dial: the call was not placed: {e}", file=sys.stderr)
        return 1
    print(f"Dialling {call['to']}: Exotel call {call['call_sid']}", file=sys.stderr)
    print(call["call_sid"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
