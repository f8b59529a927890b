"""Krisp noise filtering: used where the image has Krisp's SDK (Pipecat Cloud), skipped with one
log line elsewhere. Here, as on any laptop or CI machine, `krisp_audio` is absent: it is not on
PyPI, so the path with the SDK present is exercised only on Pipecat Cloud."""

from __future__ import annotations

import importlib.util

from loguru import logger

from exotel_bot.services.krisp import krisp_available, krisp_filter


def test_without_krisp_the_bot_runs_unfiltered_and_says_so_once():
    assert importlib.util.find_spec("krisp_audio") is None  # as on every machine but PCC
    krisp_available.cache_clear()
    lines: list[str] = []
    sink = logger.add(lines.append, level="INFO", format="{message}")
    try:
        filters = [krisp_filter() for _ in range(3)]  # three calls
    finally:
        logger.remove(sink)
    assert filters == [None, None, None]
    said = [line for line in lines if "Krisp" in line]
    assert len(said) == 1 and "running without it" in said[0]


async def test_calls_work_without_krisp(server, stand_ins):
    from simulator.caller import Hangup, Say, WaitForBot, WaitForGreeting, run_call

    report = await run_call(
        server.ws_url, [WaitForGreeting(15), Say("yes"), WaitForBot(15), Hangup()]
    )
    assert report.ok and report.replies, report.summary()
    server.wait_for_no_calls()
    assert server.log().count("Krisp noise filter: not available here") == 1
