"""Many calls at a glance: 50 records from simulated calls, one page, its charts seen in
headless Chromium (the screenshot's pixels, not just the file)."""

from __future__ import annotations

import asyncio
import copy
import json
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

import bot
from simulator.caller import ExpectClose, Hangup, Say, WaitForBot, WaitForGreeting, run_call
from tests.conftest import ROOT
from tests.test_after_call import record_where

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CALLS = 50
# The charts' colours (tools/calls_overview.py): outcome bars, end-reason bars, durations.
CHART_COLOURS = {"blue": (37, 99, 235), "orange": (234, 88, 12), "teal": (13, 148, 136)}


async def three_real_calls(server, stand_ins) -> list[dict]:
    """An order question, a transfer to billing, a caller who says nothing: their records."""
    stand_ins.config.stt.transcripts += ["Where is my order 1234?", "I was charged twice."]
    stand_ins.config.llm.rules.append(
        {
            "match": "charged",
            "tool_call": {
                "name": "transfer_to_agent",
                "arguments": {
                    "department": "billing",
                    "reason": "double charge",
                    "handoff_summary": "Charged twice.",
                },
            },
        }
    )
    scripts = [
        [WaitForGreeting(), Say("order_status"), WaitForBot(timeout=15), Hangup()],
        [WaitForGreeting(), Say("yes"), ExpectClose(timeout=20)],
        [WaitForGreeting(), Hangup()],
    ]
    records = []
    for script in scripts:
        report = await run_call(server.ws_url, script)
        assert report.greeting_latency is not None, report.summary()
        records.append(record_where(server, report.call_sid, lambda r: "outcome" in r))
    return records


def varied(records: list[dict], folder: Path) -> None:
    """CALLS records from the real ones: other sids, three days, longer or shorter waits."""
    intents = bot.CallOutcome.model_fields["intent"].annotation.__args__
    first_day = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    for i in range(CALLS):
        record = copy.deepcopy(records[i % len(records)])
        scale = 0.6 + (i % 7) * 0.15
        record["call_sid"] = f"CA-overview-{i:02d}"
        started = first_day + timedelta(days=(i // 3) % 3, minutes=7 * i)
        record["started_at"] = started.isoformat(timespec="milliseconds")
        record["duration_secs"] = round(record["duration_secs"] * scale, 3)
        for turn in record["turns"]:
            for key, value in (turn.get("latency") or {}).items():
                if isinstance(value, float):
                    turn["latency"][key] = round(value * scale, 3)
        if record["outcome"]["status"] == "filled":
            record["outcome"]["fields"]["intent"] = intents[i % len(intents)]
        target = folder / record["call_sid"]
        target.mkdir(parents=True)
        (target / "record.json").write_text(json.dumps(record))


@pytest.fixture(scope="module")
def overview_server(server_factory):
    return server_factory()


async def test_fifty_calls_render_as_charts_in_chromium(overview_server, stand_ins, tmp_path):
    # A failure, not a skip: the page's charts are only checked where a browser draws them.
    assert CHROMIUM, "needs headless Chromium on PATH (apt-get install chromium)"
    records = await three_real_calls(overview_server, stand_ins)
    assert {r["end"]["reason"] for r in records} >= {"caller_hung_up", "transferred"}
    folder = tmp_path / "calls"
    varied(records, folder)

    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "tools.call_report", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    html = (folder / "index.html").read_text()
    assert html.count("<svg") == 4  # outcomes, end reasons, durations, latency per day
    # Self-contained: nothing to fetch (no scripts, stylesheets, images or fonts from elsewhere).
    assert not re.search(r"<script|<link|<img|src=|url\((?!#)|@import", html)
    for i in range(CALLS):  # every call linked to its own report, which exists
        assert f"href='CA-overview-{i:02d}/report.html'" in html
        assert (folder / f"CA-overview-{i:02d}" / "report.html").is_file()
    one_call = (folder / "CA-overview-00" / "report.html").read_text()
    assert "<h2>Outcome</h2>" in one_call  # each call's own page shows what the LLM filled
    for day in ("2026-12-01", "2026-12-02", "2026-12-03"):
        assert f"<td>{day}</td>" in html

    shot = tmp_path / "overview.png"
    await asyncio.to_thread(
        subprocess.run,
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1200,1500",
            f"--screenshot={shot}",
            (folder / "index.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    image = Image.open(shot).convert("RGB")
    counts = dict.fromkeys(CHART_COLOURS, 0)
    for pixel in image.getdata():
        for name, colour in CHART_COLOURS.items():
            if all(abs(a - b) <= 12 for a, b in zip(pixel, colour, strict=True)):
                counts[name] += 1
    # Each chart's bars are drawn: thousands of pixels of its colour, not a stray legend dot.
    assert all(n > 2000 for n in counts.values()), counts
