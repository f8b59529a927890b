"""Every shape of Exotel call the wire accepts, each a whole call through a real websocket.

Each variant is a `Dialect` of the simulated caller (simulator/dialect.py). For each, the
caller must hear the greeting and the reply decoded correctly in its own encoding, Deepgram
must hear the caller's words intact, and what the bot sent must follow the call's dialect
(stream id key, sequence numbers, `chunk`/`timestamp`) and Exotel's payload-size rules.
"""

from __future__ import annotations

import json

import pytest
import websockets

from simulator.caller import Hangup, Say, WaitForBot, WaitForGreeting, run_call
from simulator.dialect import Dialect
from tests.wire_checks import (
    assert_deepgram_heard,
    assert_heard_the_bot,
    assert_sent_like_exotel,
)

# (dialect, stream rate, caller payload ms) -> (payload step bytes, usual payload bytes)
VARIANTS = {
    # Exotel's Voicebot docs: snake_case, string values, `connected` first, ids in both places.
    "documented": (Dialect(), 8000, 100, 320, 3200),
    # Input 1: AgentStream/Connect paths' camelCase.
    "camelCase": (Dialect(key_style="camel"), 8000, 100, 320, 3200),
    # Input 2: G.711 mu-law at 8 kHz, one byte per sample.
    "mulaw-8k": (Dialect(encoding="audio/x-mulaw"), 8000, 100, 160, 1600),
    "pcmu-camel": (Dialect(encoding="pcmu", key_style="camel"), 8000, 100, 160, 1600),
    # Input 6: Exotel's test client: ids at the top level only, numbers, no from/to.
    "top-level-ids-numbers": (
        Dialect(ids="top", numbers=True, from_to=False),
        8000,
        100,
        320,
        3200,
    ),
    "ids-inside-start-only": (Dialect(ids="start"), 8000, 100, 320, 3200),
    # Input 7: `start` first, no `connected` (with 2 s payloads in the test below, losing the
    # first frame after `start` would lose the first words).
    "start-first": (Dialect(connected=False), 8000, 100, 320, 3200),
    # L16 at 16 kHz, under another of its names.
    "l16-16k": (Dialect(encoding="raw/slin"), 16000, 100, 640, 6400),
    "l16-24k-numbers": (Dialect(encoding="audio/l16", numbers=True), 24000, 100, 960, 9600),
    "base64-encoding-name": (Dialect(encoding="base64"), 8000, 100, 320, 3200),
    # Exotel's test clients' spelling of L16, and with MIME parameters (`;rate=`).
    "x-l16": (Dialect(encoding="audio/x-l16"), 8000, 100, 320, 3200),
    "x-l16-rate-16k": (Dialect(encoding="audio/x-l16;rate=16000"), 16000, 100, 640, 6400),
    # A name the bot has never seen is L16, as Exotel's own bridges read it ...
    "unknown-name-is-l16": (Dialect(encoding="audio/x-exotel-pcm"), 8000, 100, 320, 3200),
    # ... unless it names mu-law.
    "mu-law-spelled-out": (Dialect(encoding="μ-law"), 8000, 100, 160, 1600),
}


@pytest.mark.parametrize("name", list(VARIANTS))
async def test_variant_is_served_in_its_own_dialect(name, server, stand_ins):
    dialect, rate, chunk_ms, step, size = VARIANTS[name]
    stand_ins.config.stt.transcripts.extend(["Where is my order?"])
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("order_status"), WaitForBot(), Hangup()],
        sample_rate=rate,
        chunk_ms=chunk_ms,
        dialect=dialect,
    )
    assert report.ok and not report.warnings and not report.protocol_errors, report.summary()
    assert report.replies[0].latency is not None, report.summary()
    assert_heard_the_bot(report, rate, turns=2)  # the greeting and the reply
    deepgram = stand_ins.deepgram.connections[-1]
    listen_rate = min(rate, 16000)
    assert deepgram.query["sample_rate"] == str(listen_rate)
    assert_deepgram_heard(deepgram.audio, "order_status", listen_rate)
    assert_sent_like_exotel(report, key_style=dialect.key_style, step=step, size=size)


async def test_large_ragged_payloads_are_cut_for_the_vad(server, stand_ins):
    """Input 8: 2 s per media message, the last of each utterance not a multiple of 320 bytes:
    both utterances are heard and answered, and each reply comes promptly."""
    stand_ins.config.stt.transcripts.extend(["Where is my order?", "Yes please."])
    report = await run_call(
        server.ws_url,
        [
            WaitForGreeting(),
            Say("order_status"),
            WaitForBot(),
            Say("yes"),
            WaitForBot(),
            Hangup(),
        ],
        chunk_ms=2000,
        dialect=Dialect(pad_last=False, connected=False),
    )
    assert report.ok and not report.warnings, report.summary()
    assert all(r.latency is not None for r in report.replies), report.summary()
    assert_heard_the_bot(report, 8000, turns=3)
    said = [r.get("transcript", "") for r in stand_ins.cartesia.requests]
    assert any("Where is my order?" in t for t in said)
    assert any("Yes please." in t for t in said)
    # The VAD saw each utterance stop (pipecat then asks Deepgram to finalize): with 2 s
    # frames, a short utterance starts and stops inside one frame and the VAD sees neither.
    assert stand_ins.deepgram.connections[-1].finalize_count >= 2


async def test_start_first_keeps_the_first_media_frame(server, stand_ins):
    """Input 7: no `connected`, and the caller's first words are in the very first `media`
    after `start` (2 s payloads): Deepgram hears them from their first sample."""
    stand_ins.config.stt.transcripts.extend(["Where is my order?"])
    report = await run_call(
        server.ws_url,
        [Say("order_status"), WaitForBot(), Hangup()],
        chunk_ms=2000,
        dialect=Dialect(connected=False),
    )
    assert report.ok and report.sent.get("connected") is None, report.summary()
    assert_deepgram_heard(stand_ins.deepgram.connections[-1].audio, "order_status", 8000)
    said = [r.get("transcript", "") for r in stand_ins.cartesia.requests]
    assert any("Where is my order?" in t for t in said)


@pytest.mark.parametrize(
    ("media_format", "named"),
    [
        ({"encoding": "audio/opus", "sample_rate": "8000"}, "audio/opus"),
        ({"encoding": "audio/x-mulaw", "sample_rate": "16000"}, "16000"),
        ({"encoding": "audio/x-raw", "sample_rate": 44100}, "44100"),
        ({"encoding": ["audio/x-raw"]}, "['audio/x-raw']"),
    ],
)
async def test_unspeakable_encoding_is_refused_at_start_naming_it(server, media_format, named):
    start = {
        "event": "start",
        "stream_sid": "MZ1",
        "start": {"stream_sid": "MZ1", "call_sid": "CA1", "account_sid": "AC1"},
    }
    start["start"]["media_format"] = media_format
    async with websockets.connect(server.ws_url) as ws:
        await ws.send(json.dumps({"event": "connected"}))
        await ws.send(json.dumps(start))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 1008
    assert named in closed.value.rcvd.reason
    assert server.wait_for_no_calls()["active_calls"] == 0


async def test_twilio_start_is_still_refused(server):
    twilio = {
        "event": "start",
        "sequenceNumber": "1",
        "streamSid": "MZ1",
        "start": {
            "streamSid": "MZ1",
            "accountSid": "AC1",
            "callSid": "CA1",
            "tracks": ["inbound"],
            "customParameters": {},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
    }
    async with websockets.connect(server.ws_url) as ws:
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await ws.send(json.dumps(twilio))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 1008
    assert "tracks" in closed.value.rcvd.reason


async def test_event_key_spelled_Event_and_upper_case_names(server):
    """Some Connect paths spell the key `Event`; names in capitals are read the same."""
    start = {
        "Event": "Start",
        "streamSid": "MZevent1",
        "start": {"callSid": "CAevent1", "accountSid": "AC1", "mediaFormat": {"sampleRate": 8000}},
    }
    silence = {"Event": "MEDIA", "streamSid": "MZevent1", "media": {"payload": "AAAA" * 400}}
    async with websockets.connect(server.ws_url) as ws:
        await ws.send(json.dumps(start))
        await ws.send(json.dumps(silence))
        greeting = json.loads(await ws.recv())  # the bot answers: the call was accepted
        assert greeting["streamSid"] == "MZevent1" and "stream_sid" not in greeting
        await ws.send(json.dumps({"Event": "STOP", "streamSid": "MZevent1", "stop": None}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await ws.recv()
    assert closed.value.rcvd.code == 1000
