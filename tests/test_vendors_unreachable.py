"""Every vendor unreachable (a firewall, no network): the caller still hears the recorded
apology and a clean hang-up, and the log says only what the caller really heard. A vendor
that refuses its key gets a log line naming the setting to fix (a placeholder key is refused
at start: tests/test_config.py).

The vendors' URLs point at ports nothing listens on, so each connection is refused at once,
as a firewall that rejects does.
"""

from __future__ import annotations

import numpy as np
import pytest

from exotel_bot.call.fallback import recorded_apology
from simulator.caller import ExpectClose, WaitForGreeting, run_call
from tests.conftest import free_port, record_of, spoken
from tests.test_vendor_failures import first_bot_audio, vendor_failures_logged


@pytest.fixture(scope="module")
def server_without_vendors(server_factory):
    return server_factory(
        DEEPGRAM_BASE_URL=f"ws://127.0.0.1:{free_port()}",
        CARTESIA_WS_URL=f"ws://127.0.0.1:{free_port()}/tts/websocket",
        OPENAI_BASE_URL=f"http://127.0.0.1:{free_port()}/v1",
    )


async def test_every_vendor_unreachable_plays_the_recorded_apology_and_hangs_up(
    server_without_vendors, tmp_path
):
    server = server_without_vendors
    recording = tmp_path / "call.wav"
    report = await run_call(
        server.ws_url, [WaitForGreeting(), ExpectClose(30)], record_path=recording
    )
    # A clean hang-up by the bot, after the recorded apology (never silence, never a 1011).
    assert report.ended_by == "server" and report.close_code == 1000, report.summary()
    apology = np.frombuffer(recorded_apology("en", 8000), dtype="<i2")
    voiced = apology[int(np.flatnonzero(apology)[0]) :]
    assert report.bot_audio_bytes_heard, report.summary()
    assert np.array_equal(first_bot_audio(recording, 8000, len(voiced)), voiced)
    heard = report.seconds_of_bot_audio(report.bot_audio_bytes_heard)
    assert heard < len(apology) / 8000 + 0.5, report.summary()  # nothing else reached the caller
    # The log claims only what played: the recording, no spoken words.
    lines = vendor_failures_logged(server, report.call_sid)
    assert lines, server.log()
    claims = " ".join(line.split("caller heard: ", 1)[1] for line in lines)
    assert "spoken" not in claims and "goodbye" not in claims, lines
    assert "pre-recorded apology" in claims, lines
    record = record_of(server, report.call_sid)
    assert "vendor failure" in record["end"]["detail"]


async def test_a_refused_key_is_named_in_the_log(server, stand_ins):
    stand_ins.config.stt.fail_mode = "reject"  # 401, as Deepgram answers a wrong key
    report = await run_call(server.ws_url, [WaitForGreeting(), ExpectClose(30)])
    assert report.ended_by == "server", report.summary()
    lines = [line for line in server.log().splitlines() if report.call_sid in line]
    [line] = [line for line in lines if "refused its key" in line]
    assert "check DEEPGRAM_API_KEY" in line
    assert spoken(stand_ins)  # the TTS works: the goodbye is spoken, and the log says so
    assert any("caller heard: a spoken goodbye" in line for line in lines)
