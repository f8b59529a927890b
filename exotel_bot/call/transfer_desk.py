"""The LLM's `transfer_to_agent` tool with a department (call/departments.py says how it works)."""

from __future__ import annotations

from typing import Any

from loguru import logger
from pipecat.adapters.llm.schemas.direct_function import tool_options
from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
from pipecat.frames.frames import FunctionCallResultProperties
from pipecat.services.llm_service import FunctionCallParams

from exotel_bot.call.control import CallControl
from exotel_bot.call.departments import Department, transfer_decision
from exotel_bot.call.phrases import Phrases


class TransferDesk:
    """The LLM's department-aware `transfer_to_agent`, and the hand-off it leaves behind."""

    def __init__(self, control: CallControl, departments: list[Department], phrases: Phrases):
        self.control = control
        self.departments = {d.name.lower(): d for d in departments}
        self.phrases = phrases
        self.handoff: dict[str, Any] = {}  # filled when the LLM transfers: for the record

    @property
    def tool(self) -> FunctionSchema:
        """`transfer_to_agent(department, reason, handoff_summary)`; without departments,
        call control's own `transfer_to_agent(reason)`."""
        if not self.departments:
            return self.control.transfer_tool
        guide = "; ".join(f"{d.name}: {d.when}" for d in self.departments.values())

        @tool_options(cancel_on_interruption=False)
        async def transfer_to_agent(params: FunctionCallParams) -> None:
            args = params.arguments
            await params.result_callback(
                {"status": "transferring"}, properties=FunctionCallResultProperties(run_llm=False)
            )
            self.control.processor().create_task(
                self.transfer(
                    str(args.get("department") or ""),
                    str(args.get("reason") or "caller asked for a person"),
                    str(args.get("handoff_summary") or ""),
                ),
                name="transferring",
            )

        return FunctionSchema(
            name="transfer_to_agent",
            handler=transfer_to_agent,
            description=(
                "Put the caller through to people in one of these departments, when they ask "
                f"for a person or you cannot help. Departments: {guide}."
            ),
            properties={
                "department": {
                    "type": "string",
                    "enum": [d.name for d in self.departments.values()],
                    "description": "The department that can help this caller.",
                },
                "reason": {"type": "string", "description": "Why, in a few words."},
                "handoff_summary": {
                    "type": "string",
                    "description": (
                        "For the person who picks up, in one or two sentences: who the caller "
                        "is, what they want, and what was already tried on this call."
                    ),
                },
            },
            required=["department", "reason", "handoff_summary"],
        )

    async def transfer(self, department_name: str, reason: str, summary: str) -> None:
        """Keep the decision, say so, hang up (an unknown name: a plain transfer)."""
        department = self.departments.get(department_name.strip().lower())
        if department is None:
            logger.warning(f"No department {department_name!r}; transferring without one")
        self.handoff = {
            "department": department.name if department else None,
            "number": department.number if department else None,
            "reason": reason,
            "summary": summary,
        }
        await self.control.transfer_to_agent(
            reason,
            decision=transfer_decision(department, reason, summary),
            notice=self.phrases.transfer_notice(department.name if department else None),
        )
