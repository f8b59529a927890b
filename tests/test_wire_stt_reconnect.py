"""Input 9: Deepgram drops its socket mid-utterance (close 1011): nothing the caller said is lost.

The stand-in closes with 1011 while the caller is speaking. The bot reconnects at once and
replays the caller's audio since the last final transcript into the new connection, so the
utterance is answered; when the STT cannot come back within 2 s of the caller stopping,
the caller hears the apology instead of silence.
"""

from __future__ import annotations

from phrases import PHRASES
from simulator.caller import Hangup, Say, WaitForBot, WaitForGreeting, run_call
from tests.conftest import spoken
from tests.wire_checks import assert_deepgram_heard

APOLOGY = PHRASES["en"].apology


async def test_drop_mid_utterance_is_replayed_and_answered(server, stand_ins):
    stand_ins.config.stt.default_transcript = "Where is my order?"  # whichever socket hears it
    stand_ins.config.stt.fail_mode, stand_ins.config.stt.fail_count = "drop_mid_utterance", 1
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("order_status"), WaitForBot(timeout=15), Hangup()],
    )
    assert report.ok and not report.warnings, report.summary()
    first, second = stand_ins.deepgram.connections[-2:]
    assert first.dropped and first.close_code == 1011
    # The new connection heard the utterance from its first words: the replayed audio.
    assert_deepgram_heard(second.audio, "order_status", 8000)
    said = spoken(stand_ins)
    # The TTS gets the reply from its first phrase on, so the words come in pieces.
    assert "You said: Where is my order?" in " ".join(said), said
    assert APOLOGY not in said
    assert report.replies[0].latency is not None


async def test_stt_not_back_within_2s_of_the_caller_stopping_gets_the_apology(server, stand_ins):
    stand_ins.config.stt.fail_mode, stand_ins.config.stt.fail_count = "drop_mid_utterance", 1
    stand_ins.config.stt.reconnect_delay = 6.0  # the new connection waits 6 s to be accepted
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("order_status"), WaitForBot(timeout=15), Hangup()],
    )
    assert report.ok and not report.warnings, report.summary()
    assert APOLOGY in spoken(stand_ins)
    assert report.replies[0].latency is not None  # the caller heard something: the apology
    log = [line for line in server.log().splitlines() if report.call_sid in line]
    assert any("Vendor failure: stt" in line and "the apology" in line for line in log)
