"""What happens once a call's record is written: its outcome, its hand-off, the webhook.

`after_call()` is what bot.py runs after the pipeline has ended and the record is saved:

1. the outcome bot.py declares, filled by the LLM from the transcript (records/outcome.py);
2. the hand-off summary of a call transferred to a department (call/departments.py);
3. the record written again with both;
4. with POST_CALL_WEBHOOK_URL, the call sent to it (records/webhook.py) in a task of the
   process's sender, and the record written again when the delivery has succeeded or failed.

The session waits for the delivery at most WEBHOOK_WAIT_SECS (Pipecat Cloud ends the session's
process when `bot()` returns, so the attempt must be made before); on a server of your own the
delivery goes on after that. The call itself (hang-up, the next call's greeting) never waits.
"""

from __future__ import annotations

import asyncio
from typing import Any

from loguru import logger
from pydantic import BaseModel

from exotel_bot.records.call_record import call_summary
from exotel_bot.records.outcome import fill_outcome
from exotel_bot.records.recorder import CallRecorder
from exotel_bot.records.webhook import webhook_id, webhook_sender
from exotel_bot.settings import Settings
from exotel_bot.wire.handshake import ExotelCall

EVENT = "call.ended"


def webhook_body(record: dict[str, Any], call: ExotelCall, where: str | None) -> dict[str, Any]:
    """The JSON a webhook receiver gets for one finished call (fields in docs/records.md)."""
    latency = call_summary(record)
    recording = record.get("recording")
    outbound = getattr(call, "direction", "inbound") == "outbound"
    return {
        "id": webhook_id(record),
        "event": EVENT,
        "call_sid": record.get("call_sid"),
        "stream_sid": record.get("stream_sid"),
        "account_sid": record.get("account_sid"),
        "direction": record.get("direction"),
        "from": record.get("from"),
        "to": record.get("to"),
        "custom_parameters": record.get("custom_parameters") or {},
        "started_at": record.get("started_at"),
        "ended_at": record.get("ended_at"),
        "duration_secs": record.get("duration_secs"),
        "end": record.get("end"),
        "transcript": [
            {k: t.get(k) for k in ("speaker", "text", "start", "end")}
            for t in record.get("turns") or []
            if t.get("text")
        ],
        "latency": {
            k: latency[k] for k in ("replies", "latency_p50", "latency_max", "greeting_latency")
        },
        "record_location": where,
        "recording": {**recording, "location": where} if recording and where else None,
        "outcome": record.get("outcome"),
        "handoff": record.get("handoff"),
        "dial_context": dict(getattr(call, "dial_context", {}) or {}) if outbound else None,
    }


async def after_call(
    recorder: CallRecorder,
    call: ExotelCall,
    settings: Settings,
    *,
    outcome_model: type[BaseModel] | None = None,
    summary_instruction: str = "",
    handoff: dict[str, Any] | None = None,
) -> None:
    """Outcome, hand-off and webhook for a call whose record `recorder` has saved. Never
    raises; returns within SUMMARY_TIMEOUT_SECS + WEBHOOK_WAIT_SECS (and two record writes)."""
    record = recorder.saved_record
    if record is None:
        return
    try:
        if outcome_model is not None:
            record["outcome"] = await fill_outcome(
                record, outcome_model, summary_instruction, settings
            )
        if handoff:
            record["handoff"] = handoff
        url = settings.post_call_webhook_url
        if url:
            record["webhook"] = {"id": webhook_id(record), "status": "pending"}
        await recorder.rewrite()
        if not url:
            return
        body = webhook_body(record, call, recorder.saved_to)

        async def delivered(result: dict[str, Any]) -> None:
            record["webhook"] = result
            await recorder.rewrite()

        task = webhook_sender(settings).submit(body, delivered)
        done, _ = await asyncio.wait({task}, timeout=settings.webhook_wait_secs)
        if not done:
            logger.info(
                f"Webhook still being delivered after {settings.webhook_wait_secs:.0f} s; "
                "the session ends, the delivery goes on in this process"
            )
    except Exception as e:  # the steps after a call must never fail the session
        logger.opt(exception=True).error(f"After the call: {e.__class__.__name__}: {e}")
