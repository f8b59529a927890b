"""A finished call's outcome, in the shape the user declares in bot.py, filled by an LLM.

bot.py declares a pydantic model (intent, resolved, order id, ...) and a one-line summary
instruction. After the hang-up, `fill_outcome()` sends the call's transcript to the OpenAI
chat-completions API (`OPENAI_BASE_URL`, model `SUMMARY_MODEL` or `OPENAI_MODEL`) with a
`response_format` of type `json_schema` built from that model (OpenAI's Structured Outputs,
through the openai SDK's `chat.completions.parse`), and gets the fields back checked against it.

The answer is always the same shape, so a record, a report or a webhook receiver never meets
a missing field:

    {"status": "filled",  "reason": null, "summary": "...", "fields": {...every field...}}
    {"status": "unknown", "reason": "call too short to judge", "summary": null,
     "fields": {...every field: null...}}

"unknown" is what a call with nothing said by the caller gets, and what an LLM error, a
refusal, an answer that does not fit the model, or SUMMARY_TIMEOUT_SECS passing gets; it never
raises and never waits longer than that.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from loguru import logger
from openai import AsyncOpenAI, OpenAIError
from pydantic import BaseModel, Field, ValidationError, create_model

from exotel_bot.settings import Settings

FILLED, UNKNOWN = "filled", "unknown"
TOO_SHORT = "call too short to judge"
# Caller turns with words in them a call needs before an LLM is asked to judge it.
MIN_CALLER_TURNS = 1

_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per event loop


def unknown_outcome(model: type[BaseModel], reason: str) -> dict[str, Any]:
    """The explicit "we cannot tell" outcome: every declared field present, each null."""
    fields = dict.fromkeys(model.model_fields)
    return {"status": UNKNOWN, "reason": reason, "summary": None, "fields": fields}


def transcript_text(record: dict[str, Any]) -> str:
    """The record's turns as "Caller: ..." / "Bot: ..." lines, for the LLM."""
    lines = []
    for turn in record.get("turns") or []:
        text = str(turn.get("text") or "").strip()
        if text:
            who = "Caller" if turn.get("speaker") == "caller" else "Bot"
            lines.append(f"{who}: {text}")
    return "\n".join(lines)


def request_model(model: type[BaseModel], instruction: str) -> type[BaseModel]:
    """What the LLM is asked to fill: `{"summary": str, "outcome": <the user's model>}`."""
    return create_model(
        "call_outcome",
        summary=(str, Field(description=instruction)),
        outcome=(model, Field(description="What happened on the call, field by field.")),
    )


def _client(settings: Settings) -> AsyncOpenAI:
    key = (settings.openai_base_url, str(settings.openai_api_key))
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    if key not in per_loop:  # one connection pool per process, as for the call's own LLM
        per_loop[key] = AsyncOpenAI(
            api_key=settings.openai_api_key or "unset",
            base_url=settings.openai_base_url,
            max_retries=1,
        )
    return per_loop[key]


async def fill_outcome(
    record: dict[str, Any],
    model: type[BaseModel],
    instruction: str,
    settings: Settings,
    *,
    client: AsyncOpenAI | None = None,
) -> dict[str, Any]:
    """The call's outcome as `model` declares it (see the module docstring for the shape).

    Never raises; returns within SUMMARY_TIMEOUT_SECS (plus a moment to cancel the request).
    """
    caller_turns = [
        t for t in record.get("turns") or [] if t.get("speaker") == "caller" and t.get("text")
    ]
    if len(caller_turns) < MIN_CALLER_TURNS:
        return unknown_outcome(model, TOO_SHORT)
    messages = [
        {
            "role": "system",
            "content": (
                "You read the transcript of one phone call between a caller and a voice bot "
                "and fill in the requested fields from what was said. Use null for anything "
                f"the call did not settle. Summary: {instruction}"
            ),
        },
        {"role": "user", "content": transcript_text(record)},
    ]
    llm_model = settings.summary_model or settings.openai_model
    try:
        completion = await asyncio.wait_for(
            (client or _client(settings)).chat.completions.parse(
                model=llm_model,
                messages=messages,
                response_format=request_model(model, instruction),
            ),
            settings.summary_timeout_secs,  # the whole bound, the SDK's one retry included
        )
        message = completion.choices[0].message
        if message.refusal or message.parsed is None:
            return unknown_outcome(model, f"the LLM gave no outcome: {message.refusal or ''}")
        parsed = message.parsed
    except TimeoutError:
        logger.warning(f"No call outcome within {settings.summary_timeout_secs:.0f} s")
        return unknown_outcome(model, "the LLM did not answer in time")
    except (OpenAIError, ValidationError, ValueError) as e:
        logger.warning(f"Could not get the call outcome: {e.__class__.__name__}: {e}")
        return unknown_outcome(model, f"the LLM failed: {e.__class__.__name__}")
    fields = parsed.outcome.model_dump(mode="json")
    logger.info(f"Call outcome: {fields}")
    return {"status": FILLED, "reason": None, "summary": parsed.summary, "fields": fields}
