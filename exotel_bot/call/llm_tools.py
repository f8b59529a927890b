"""The LLM's call-control tools: `end_call` (hang up, goodbye first) and `transfer_to_agent`.

`CallControl.end_call_tool` and `CallControl.transfer_tool` (call/control.py) hand them to
bot.py, which lists them in the `LLMContext`'s tools; pipecat registers their handlers. Each
handler answers the tool call at once with `{"status": ...}` and no second LLM turn, then
hangs up or transfers in a task of its own. Neither is cancelled by a barge-in: once the LLM
decided to hang up or transfer, that stands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipecat.adapters.llm.schemas.direct_function import tool_options
from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
from pipecat.frames.frames import FunctionCallResultProperties
from pipecat.services.llm_service import FunctionCallParams

from exotel_bot.call.phrases import Phrases

if TYPE_CHECKING:
    from exotel_bot.call.control import CallControl

END_CALL = {
    "description": (
        "Hang up the phone call. Use it when the caller says goodbye, asks to end the call, "
        "or the conversation is clearly over."
    ),
    "properties": {
        "reason": {"type": "string", "description": "Why the call ends, in a few words."},
        "goodbye": {
            "type": "string",
            "description": "The last sentence to say to the caller before hanging up.",
        },
    },
    "required": ["reason"],
}

TRANSFER_TO_AGENT = {
    "description": (
        "Connect the caller to a human agent. Use it when the caller asks for a person, or "
        "when you cannot help with their request."
    ),
    "properties": {
        "reason": {"type": "string", "description": "Why the caller needs a human."},
    },
    "required": ["reason"],
}


def end_call_tool(control: CallControl, phrases: Phrases) -> FunctionSchema:
    """`end_call(reason, goodbye?)`: `control.hang_up()`, saying `goodbye` (or the phrase's)."""

    @tool_options(cancel_on_interruption=False)
    async def end_call(params: FunctionCallParams) -> None:
        reason = str(params.arguments.get("reason") or "conversation over")
        goodbye = str(params.arguments.get("goodbye") or phrases.goodbye)
        await _acknowledge(control, params, "ending call", control.hang_up(reason, goodbye))

    return FunctionSchema(name="end_call", handler=end_call, **END_CALL)


def transfer_tool(control: CallControl) -> FunctionSchema:
    """`transfer_to_agent(reason)`: `control.transfer_to_agent()`."""

    @tool_options(cancel_on_interruption=False)
    async def transfer_to_agent(params: FunctionCallParams) -> None:
        reason = str(params.arguments.get("reason") or "caller asked for a person")
        await _acknowledge(control, params, "transferring", control.transfer_to_agent(reason))

    return FunctionSchema(name="transfer_to_agent", handler=transfer_to_agent, **TRANSFER_TO_AGENT)


async def _acknowledge(
    control: CallControl, params: FunctionCallParams, status: str, action
) -> None:
    """Answer the tool call at once (no second LLM turn), then run `action` on its own."""
    await params.result_callback(
        {"status": status}, properties=FunctionCallResultProperties(run_llm=False)
    )
    control.processor().create_task(action, name=status.replace(" ", "-"))
