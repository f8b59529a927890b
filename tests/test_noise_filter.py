"""Krisp noise filtering: used where the image has Krisp's SDK (Pipecat Cloud), skipped with one
log line elsewhere. Here, as on any laptop or CI machine, `krisp_audio` is absent: it is not on
PyPI, so the path with the SDK present is exercised only on Pipecat Cloud."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from loguru import logger

from exotel_bot.services.noise_filter import krisp_available, krisp_filter


def rms_db(samples: np.ndarray) -> float:
    x = samples.astype(np.float64)
    return 20 * np.log10(np.sqrt(np.mean(x**2)) / 32768 + 1e-12)


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
        server.ws_url, [WaitForGreeting(), Say("yes"), WaitForBot(15), Hangup()]
    )
    assert report.ok and report.replies, report.summary()
    server.wait_for_no_calls()
    assert server.log().count("Krisp noise filter: not available here") == 1


def test_noise_filter_is_a_setting(monkeypatch):
    from exotel_bot.settings import ConfigError, load_settings
    from tests.conftest import SECRET_KEYS

    for name, value in SECRET_KEYS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NOISE_FILTER", "RNNoise")
    assert load_settings().noise_filter == "rnnoise"
    load_settings.cache_clear()
    monkeypatch.setenv("NOISE_FILTER", "dolby")
    with pytest.raises(ConfigError, match="NOISE_FILTER"):
        load_settings()


async def test_rnnoise_takes_steady_noise_out_of_the_callers_audio():
    from pipecat.audio.filters.rnnoise_filter import RNNoiseFilter

    from exotel_bot.services.noise_filter import noise_filter
    from simulator.line import noise_loop

    assert noise_filter("none") is None
    rnnoise = noise_filter("rnnoise")
    assert isinstance(rnnoise, RNNoiseFilter)
    await rnnoise.start(8000)
    street = noise_loop("white", 8000, -30.0)[: 8000 * 3].astype(np.int16)
    out = b"".join([await rnnoise.filter(chunk.tobytes()) for chunk in np.split(street, 150)])
    filtered = np.frombuffer(out, dtype=np.int16)[8000:]  # after its first second
    assert rms_db(filtered) < rms_db(street[8000:]) - 10


async def test_calls_work_with_rnnoise_over_street_noise(server_factory, stand_ins):
    from simulator.caller import Hangup, Say, WaitForBot, WaitForGreeting, run_call
    from simulator.line import LineConditions

    server = server_factory(NOISE_FILTER="rnnoise")
    stand_ins.config.stt.transcripts.append("Where is my order?")
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("order_status"), WaitForBot(15), Hangup()],
        line=LineConditions(noise="white", noise_dbfs=-35),
    )
    assert report.ok and report.replies[0].first_audio is not None, report.summary()
    assert "noise filter could not start" not in server.log()
