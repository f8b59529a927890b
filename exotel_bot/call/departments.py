"""Transfer to a department: bot.py lists them, the LLM picks one, a Connect applet dials it.

bot.py declares `DEPARTMENTS = [Department("billing", "+9180...", "payments, refunds"), ...]`.
`TransferDesk(control, DEPARTMENTS, phrases).tool` (call/transfer_desk.py) is the LLM's
`transfer_to_agent` tool with a `department` argument (one of the names) and a
`handoff_summary` (who the caller is, what they want, what was tried). When the LLM calls
it, the bot tells the caller in their language (`transfer_to` in phrases.py), keeps the
decision in the shared store (memory or Redis, where the Passthru decision always went:
`exotel_bot/stores/`), and hangs up its leg. The flow's Connect applet then asks
`GET /exotel/connect` (http/connect_routes.py) whom to dial.

This module holds what the control plane needs too (it loads no pipecat). A decision in the
store is the word `transfer`, alone (the keypad's transfer digit, an older bot) or followed by
a space and JSON: `transfer {"department", "number", "reason", "summary"}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from loguru import logger

TRANSFER = "transfer"


@dataclass(frozen=True)
class Department:
    """People a caller can be put through to: `name` (said to the caller as written, and
    what the LLM chooses by), `number` (what the Connect applet dials, as Exotel takes it:
    e.g. +919876543210 or 0XXXXXXXXXX), and `when` (for the LLM: when to send a caller there)."""

    name: str
    number: str
    when: str


def transfer_decision(department: Department | None, reason: str, summary: str) -> str:
    """What the store keeps for a transfer to `department` (None: no department chosen)."""
    if department is None:
        return TRANSFER
    data = {
        "department": department.name,
        "number": department.number,
        "reason": reason,
        "summary": summary,
    }
    return f"{TRANSFER} {json.dumps(data, ensure_ascii=False)}"


def is_transfer(decision: str | None) -> bool:
    """The stored decision asks for a transfer (with or without a department)."""
    return bool(decision) and (decision == TRANSFER or decision.startswith(TRANSFER + " "))


def read_decision(decision: str | None) -> dict[str, Any] | None:
    """The department part of a stored decision, or None (no transfer, or no department)."""
    if not is_transfer(decision) or decision == TRANSFER:
        return None
    try:
        data = json.loads(decision[len(TRANSFER) + 1 :])
    except ValueError:
        logger.warning("A transfer decision in the store is not readable; using the fallback")
        return None
    return data if isinstance(data, dict) and data.get("number") else None
