"""The keyless demo shows the user's own bot: their lines, their tool, their greeting.

`python -m simulator.demo` runs as a user runs it, in a subprocess: the caller says the lines
given with --say, the LLM stand-in calls the tool given with --tool (bot.py's own function
runs), and answers with what it returned. The user's environment (here a Basic-auth password,
which would refuse the simulated caller) does not reach the demo's server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import bot
from tests.conftest import ROOT, expected_greeting


def test_the_demo_runs_the_users_tool_and_ignores_their_environment(tmp_path):
    order_id, order = next(iter(bot.ORDERS.items()))  # whatever orders the user's bot.py knows
    line = f"Where is my order {order_id}?"
    env = {**os.environ, "EXOTEL_WS_AUTH": "exotel:a-long-password-from-the-users-env"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator.demo",
            "--say",
            line,
            "--tool",
            "lookup_order",
            json.dumps({"order_id": order_id}),
            "--reply",
            "I found it: {result}.",
            "--records",
            str(tmp_path / "calls"),
            "--log",
            str(tmp_path / "server.log"),
            "--record",
            str(tmp_path / "call.wav"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "EXOTEL_WS_AUTH" not in result.stdout  # not among the settings it prints
    [record_path] = (tmp_path / "calls").glob("*/record.json")
    record = json.loads(record_path.read_text())
    said = [(t["speaker"], t["text"]) for t in record["turns"]]
    assert said[0] == ("bot", expected_greeting(name="Asha"))
    assert ("caller", line) in said
    answer = [text for who, text in said if who == "bot" and text.startswith("I found it:")]
    assert answer and all(str(value) in answer[0] for value in order.values()), said
    # The record keeps its recording, so the report the demo points at shows the waveforms.
    assert (record_path.parent / record["recording"]["file"]).is_file()
    assert "python -m tools.call_report" in result.stdout


def test_a_tool_bot_py_does_not_have_is_refused_before_anything_starts(tmp_path):
    """A mistyped --tool names bot.py's tools, instead of a call where the LLM asks for a
    function nobody has; a user's new tool (any async function taking FunctionCallParams)
    is found without running bot.py."""
    from simulator.demo import bot_tools

    result = subprocess.run(
        [sys.executable, "-m", "simulator.demo", "--tool", "lookup_ordr", "{}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "--tool lookup_ordr: bot.py has no such tool" in result.stderr
    assert f"(its tools: {', '.join(bot_tools())})" in result.stderr
    assert {"lookup_order", "end_call", "transfer_to_agent"} <= set(bot_tools())
    mine = tmp_path / "bot.py"
    mine.write_text(
        (ROOT / "bot.py").read_text()
        + "\n\nasync def book_slot(params: FunctionCallParams, day: str):\n    pass\n"
    )
    assert "book_slot" in bot_tools(mine)


def test_a_tool_that_raises_is_named_after_the_call(tmp_path):
    """The demo reads the server's log for the user's tool raising (pipecat logs it three
    ways), so a wrong argument name is reported once, not hidden behind a spoken apology."""
    from simulator.demo import tool_failures

    error = "lookup_order() got an unexpected keyword argument 'orderid'"
    prefix = "19:33:12.076 | WARNING | CA1 | "
    log = tmp_path / "server.log"
    log.write_text(
        f"{prefix}pipecat.processors.frame_processor:1023 - LLM#0 exception (x.py:287): "
        f"Error executing function call [lookup_order]: {error}\n"
        f"{prefix}pipecat.pipeline.worker:1628 - Something went wrong: ErrorFrame#0(error: "
        f"Error executing function call [lookup_order]: {error}, fatal: False, category: "
        "application)\n"
        f"{prefix}exotel_bot.call.fallback:331 - Vendor failure: llm (LLM#0): Error executing "
        f"function call [lookup_order]: {error} | caller heard: a spoken apology\n"
    )
    assert tool_failures(log) == [f"lookup_order: {error}"]
    assert tool_failures(tmp_path / "no-such.log") == []
