"""bot.py's own tools through a real call: the LLM calls `lookup_order`, the function runs in
the bot, and its result goes back to the LLM for the spoken answer."""

from __future__ import annotations

import json

import bot
from simulator.caller import Hangup, Say, WaitForBot, WaitForGreeting, run_call


def tool_results(stand_ins) -> list[dict]:
    """Every tool result the LLM was sent, newest request last."""
    messages = stand_ins.openai.requests[-1]["messages"]
    return [json.loads(m["content"]) for m in messages if m["role"] == "tool"]


async def test_lookup_order_answers_from_the_bot(server, stand_ins):
    order_id, order = next(iter(bot.ORDERS.items()))
    stand_ins.config.stt.transcripts.append(f"Where is order {order_id}?")
    stand_ins.config.llm.rules.append(
        {
            "match": "order",
            "tool_call": {"name": "lookup_order", "arguments": {"order_id": order_id}},
        }
    )
    report = await run_call(
        server.ws_url, [WaitForGreeting(), Say("yes"), WaitForBot(timeout=20), Hangup()]
    )
    assert report.ok, report.summary()
    advertised = [t["function"]["name"] for t in stand_ins.openai.requests[0]["tools"]]
    assert {"lookup_order", "end_call", "transfer_to_agent"} <= set(advertised)
    assert tool_results(stand_ins) == [order]  # the function's answer reached the LLM
    # ... and the LLM's answer to it reached the caller as speech.
    spoken = [r["transcript"] for r in stand_ins.cartesia.requests if r.get("transcript")]
    assert any(stand_ins.config.llm.after_tool_reply in text for text in spoken)
