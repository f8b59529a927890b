"""Vendors failing mid-call, through the stand-ins' fault injection: never dead silence.

For each fault the caller hears something (a spoken apology, or the pre-recorded one when the
TTS itself is down), the call either recovers with the vendor or ends politely, and the call
record says what happened.
"""

from __future__ import annotations

import wave

import numpy as np
import pytest

from exotel_bot.call.fallback import recorded_apology
from phrases import PHRASES
from simulator.caller import (
    Dtmf,
    ExpectClose,
    Hangup,
    Say,
    WaitForBot,
    WaitForGreeting,
    run_call,
)
from tests.conftest import expected_greeting, record_of, spoken

EN = PHRASES["en"]


def vendor_failures_logged(server, call_sid: str) -> list[str]:
    lines = server.log().splitlines()
    return [line for line in lines if call_sid in line and "Vendor failure" in line]


# --- The LLM ------------------------------------------------------------------------------------


async def test_llm_error_gets_a_spoken_apology_and_the_next_turn_recovers(server, stand_ins):
    # Three failures: the first request and the OpenAI SDK's two retries.
    status = "500"
    stand_ins.config.llm.fail_mode, stand_ins.config.llm.fail_count = status, 3
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(quiet=0), Dtmf("5#"), WaitForBot(), Dtmf("6#"), WaitForBot(), Hangup()],
    )
    assert report.ok and not report.warnings, report.summary()  # an answer to every key press
    said = spoken(stand_ins)
    assert EN.apology in said
    after = said[said.index(EN.apology) + 1 :]
    assert any("typed on the keypad: 6" in text for text in after)  # the LLM is back

    [line] = vendor_failures_logged(server, report.call_sid)
    assert f"Error code: {status}" in line and "a spoken apology" in line
    record = record_of(server, report.call_sid)
    assert any(f"Error code: {status}" in e["error"] for e in record["errors"])
    assert record["end"]["reason"] == "caller_hung_up"


async def test_llm_that_hangs_is_cut_off_with_an_apology(server, stand_ins):
    stand_ins.config.llm.fail_mode, stand_ins.config.llm.fail_count = "hang", 1
    report = await run_call(
        server.ws_url,
        [
            WaitForGreeting(quiet=0),
            Dtmf("5#"),
            WaitForBot(timeout=20),  # LLM_TIMEOUT_SECS is 6 s
            Dtmf("6#"),
            WaitForBot(),
            Hangup(),
        ],
    )
    assert report.ok and not report.warnings, report.summary()
    said = spoken(stand_ins)
    assert said.count(EN.apology) == 1
    assert any("typed on the keypad: 6" in text for text in said)
    [line] = vendor_failures_logged(server, report.call_sid)
    assert "no reply within 6 s" in line


async def test_llm_that_stays_down_ends_the_call_politely(server, stand_ins):
    stand_ins.config.llm.fail_mode = "429"  # rate limited, on every request (and retry)
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(quiet=0), Dtmf("5#"), WaitForBot(), Dtmf("6#"), ExpectClose(30)],
    )
    # The bot hung up itself, cleanly, after an apology and then a goodbye.
    assert report.ended_by == "server" and report.close_code == 1000, report.summary()
    said = spoken(stand_ins)
    assert said.index(EN.apology) < said.index(EN.trouble_goodbye)
    record = record_of(server, report.call_sid)
    assert sum("Error code: 429" in e["error"] for e in record["errors"]) == 2  # two turns
    assert record["end"]["reason"] == "bot_hung_up"
    assert "vendor failure: llm" in record["end"]["detail"]


# --- The STT ------------------------------------------------------------------------------------


async def test_stt_drop_reconnects_and_the_call_goes_on(server, stand_ins):
    stand_ins.config.stt.transcripts.extend(["Where is my order?", "And the refund?"])
    stand_ins.config.stt.fail_mode = "drop_after_first_final"
    stand_ins.config.stt.fail_count = 1
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(quiet=0), Say("yes"), WaitForBot(), Say("yes"), WaitForBot(), Hangup()],
    )
    assert report.ok and not report.warnings, report.summary()
    connections = stand_ins.deepgram.connections
    assert len(connections) == 2 and connections[0].dropped  # pipecat opened a new socket
    said = spoken(stand_ins)
    assert any("And the refund?" in text for text in said)  # heard through the new socket
    assert EN.apology not in said  # nothing was lost, so nothing to apologise for
    [line] = vendor_failures_logged(server, report.call_sid)
    assert "stt" in line and "reconnects" in line


async def test_stt_that_rejects_us_ends_the_call_with_a_goodbye(server, stand_ins):
    stand_ins.config.stt.fail_mode = "reject"  # 401: a key Deepgram will never accept
    report = await run_call(server.ws_url, [WaitForGreeting(), ExpectClose(30)])
    assert report.ended_by == "server" and report.close_code == 1000, report.summary()
    said = spoken(stand_ins)
    # greeting first, then goodbye
    assert said[-1] == EN.trouble_goodbye and said[0] == expected_greeting()
    record = record_of(server, report.call_sid)
    assert "vendor failure: stt" in record["end"]["detail"]


# --- The TTS ------------------------------------------------------------------------------------


def first_bot_audio(wav_path, rate: int, length: int) -> np.ndarray:
    """The first `length` samples of bot audio the caller heard (right channel)."""
    bot = load_wav_stereo_right(wav_path, rate)
    start = int(np.flatnonzero(bot)[0])
    return bot[start : start + length]


def load_wav_stereo_right(path, rate: int) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        assert wav.getframerate() == rate and wav.getnchannels() == 2
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return frames.reshape(-1, 2)[:, 1]


@pytest.mark.parametrize("fault", ["error", "close"])
async def test_tts_failure_plays_the_recorded_apology_and_recovers(
    server, stand_ins, tmp_path, fault
):
    stand_ins.config.tts.fail_mode, stand_ins.config.tts.fail_count = fault, 1  # the greeting
    recording = tmp_path / "call.wav"
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Dtmf("5#"), WaitForBot(), Hangup()],
        record_path=recording,
    )
    assert report.ok and not report.warnings, report.summary()
    # What the caller heard first is, sample for sample, the pre-recorded apology.
    apology = np.frombuffer(recorded_apology("en", 8000), dtype="<i2")
    voiced = apology[int(np.flatnonzero(apology)[0]) :]
    assert np.array_equal(first_bot_audio(recording, 8000, len(voiced)), voiced)
    # Cartesia is back for the next turn (after a reconnect, for a closed socket).
    assert any("typed on the keypad: 5" in text for text in spoken(stand_ins))
    [line] = vendor_failures_logged(server, report.call_sid)
    assert "tts" in line and "pre-recorded apology" in line


async def test_tts_that_stays_down_apologises_and_hangs_up(server, stand_ins):
    stand_ins.config.tts.fail_mode = "error"  # every sentence, for good
    report = await run_call(
        server.ws_url, [WaitForGreeting(), Dtmf("5#"), WaitForBot(), ExpectClose(30)]
    )
    assert report.greeting_latency is not None  # the recording, where the greeting failed
    assert report.ended_by == "server" and report.close_code == 1000, report.summary()
    record = record_of(server, report.call_sid)
    assert "vendor failure: tts" in record["end"]["detail"]
    assert any("CartesiaTTSService" in e["source"] for e in record["errors"])


def test_recorded_apologies_exist_for_every_language_and_rate():
    for language in PHRASES:
        for rate in (8000, 16000, 24000):
            pcm = recorded_apology(language, rate)
            seconds = len(pcm) / (2 * rate)
            assert 1.0 < seconds < 4.0, (language, rate, seconds)
            samples = np.frombuffer(pcm, dtype="<i2").astype(float)
            assert 20 * np.log10(np.sqrt(np.mean(samples**2)) / 32768) > -35  # audible speech
    # The same sentence at every rate: the 16 kHz file is the 8 kHz one, resampled.
    low, high = (len(recorded_apology("en", r)) / r for r in (8000, 16000))
    assert abs(low - high) < 0.01
