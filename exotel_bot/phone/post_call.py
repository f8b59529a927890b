"""Post-call steps: what runs once the caller has hung up, with the finished call record.

A step is an async callable taking the record (the JSON-ready dict written as `record.json`,
laid out in docs/records.md: `call_sid`, `end.reason`, `turns` with their `text`, `usage`, ...):

    async def send_to_crm(record: dict) -> None:
        await crm.log_call(record["call_sid"], record["end"]["reason"])

Steps run one after the other, after the record is saved, each within `POST_CALL_TIMEOUT_SECS`;
one that fails or times out is logged and the next still runs. They run after the websocket has
closed, so nothing here delays the caller.

Where a step goes: one every call needs (it reads its settings) in `post_call_steps()` below;
one for your bot only, in bot.py's `PhoneCall(..., post_call=[send_to_crm])`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from loguru import logger

from exotel_bot.settings import Settings

PostCallStep = Callable[[dict[str, Any]], Awaitable[None]]

POST_CALL_TIMEOUT_SECS = 30.0


def post_call_steps(settings: Settings) -> list[PostCallStep]:
    """The steps every call runs, as the settings ask (none by default)."""
    steps: list[PostCallStep] = []
    return steps


async def run_post_call_steps(steps: Sequence[PostCallStep], record: dict[str, Any]) -> None:
    """Run each step with the record; never raises (a failing step is logged)."""
    for step in steps:
        name = getattr(step, "__qualname__", repr(step))
        try:
            await asyncio.wait_for(step(record), POST_CALL_TIMEOUT_SECS)
        except TimeoutError:
            logger.error(f"Post-call step {name} took over {POST_CALL_TIMEOUT_SECS:g} s; gave up")
        except Exception as e:
            logger.opt(exception=True).error(f"Post-call step {name} failed: {e}")
