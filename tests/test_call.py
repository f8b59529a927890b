"""Whole Exotel calls through real websockets: simulated caller -> server.py -> stand-ins."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import websockets

from simulator.audio import fixture, load_wav
from simulator.caller import BargeIn, Hangup, Say, WaitForBot, WaitForGreeting, run_call
from tests.conftest import SECRET_KEYS, expected_greeting, record_of


def rms_db(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    return 20 * np.log10(np.sqrt(np.mean(samples**2)) / 32768 + 1e-12)


def spoken_per_context(stand_ins) -> dict[str, str]:
    """What the TTS was asked to say, per context (one bot turn), pieces joined."""
    spoken: dict[str, list[str]] = {}
    for request in stand_ins.cartesia.requests:
        if request.get("transcript"):
            spoken.setdefault(request.get("context_id"), []).append(request["transcript"])
    return {c: " ".join(" ".join(parts).split()) for c, parts in spoken.items()}


async def test_full_call(server, stand_ins):
    """Greeting, a spoken question, the reply, barge-in, hang-up: every hop checked."""
    stand_ins.config.stt.transcripts.extend(["Where is my order?", "Actually, cancel it please."])
    report = await run_call(
        server.ws_url,
        [
            WaitForGreeting(),
            Say("order_status"),
            WaitForBot(timeout=15),
            BargeIn("long_talk", after=0.5),
            WaitForBot(timeout=15),
            Hangup(),
        ],
    )
    assert report.ok, report.summary()

    # The greeting was spoken straight away, as Exotel media that decode to real audio.
    assert report.greeting_latency is not None and report.greeting_latency < 5
    assert report.bot_audio_bytes_heard > 8000 * 2  # more than a second of bot audio

    # The caller's speech reached Deepgram as 8 kHz linear16, loud where the caller spoke.
    deepgram = stand_ins.deepgram.connections[-1]
    assert deepgram.query["encoding"] == "linear16"
    assert deepgram.query["sample_rate"] == "8000"
    assert deepgram.token_auth
    audio = deepgram.audio
    spoken = load_wav(fixture("order_status", 8000), 8000)
    assert len(audio) > len(spoken) * 2  # at least the whole first utterance arrived
    assert rms_db(audio) > -45

    # Its transcript reached the LLM, and the LLM's reply came back as audio.
    user_messages = [
        m["content"]
        for request in stand_ins.openai.requests
        for m in request["messages"]
        if m["role"] == "user"
    ]
    assert "Where is my order?" in json.dumps(user_messages)
    assert "You said: Where is my order?" in " ".join(spoken_per_context(stand_ins).values())
    first_reply = report.replies[0]
    assert first_reply.latency is not None and first_reply.first_audio > first_reply.speech_end

    # Barge-in: talking over the bot's reply made the bot send Exotel a `clear`.
    assert report.barge_ins and report.barge_ins[0].interrupted, report.summary()

    # Exotel's chunking rules: every payload a multiple of 320 bytes, 3.2 KB at 8 kHz.
    assert report.media_payload_sizes
    assert all(size % 320 == 0 for size in report.media_payload_sizes)
    assert max(report.media_payload_sizes, key=report.media_payload_sizes.get) == 3200

    # The caller hung up with `stop`: the call ended and freed its resources.
    assert report.ended_by == "caller"
    assert server.wait_for_no_calls()["active_calls"] == 0


async def test_caller_details_reach_greeting_and_prompt(server, stand_ins):
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("yes"), WaitForBot(timeout=15), Hangup()],
        from_number="+919812345678",
        custom_parameters={"name": "Asha", "plan": "gold"},
    )
    assert report.ok, report.summary()
    greeting = stand_ins.cartesia.requests[0]["transcript"]
    assert greeting == expected_greeting(name="Asha")
    system = stand_ins.openai.requests[0]["messages"][0]
    assert system["role"] == "system"
    assert "+919812345678" in system["content"] and "Asha" in system["content"]


async def test_16khz_stream(server, stand_ins):
    """`?sample-rate=16000`: Deepgram hears 16 kHz and Cartesia speaks 16 kHz, end to end."""
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("order_status"), WaitForBot(timeout=15), Hangup()],
        sample_rate=16000,
    )
    assert report.ok, report.summary()
    assert stand_ins.deepgram.connections[-1].query["sample_rate"] == "16000"
    formats = {
        r["output_format"]["sample_rate"]
        for r in stand_ins.cartesia.requests
        if "output_format" in r
    }
    assert formats == {16000}
    assert report.replies[0].latency is not None
    assert all(size % 320 == 0 for size in report.media_payload_sizes)
    assert max(report.media_payload_sizes, key=report.media_payload_sizes.get) == 6400


@pytest.mark.parametrize(
    "first_messages",
    [
        pytest.param(
            [
                {"event": "connected"},
                {"event": "start", "start": {"streamSid": "x", "callSid": "y"}},
            ],
            id="twilio-start",
        ),
        pytest.param(["this is not json", "{}"], id="malformed-json"),
        pytest.param([b"\x00\x01\x02"], id="binary-frame"),
        pytest.param(
            [{"event": "connected"}, {"event": "media", "media": {"payload": "AAAA"}}],
            id="media-before-start",
        ),
    ],
)
async def test_non_exotel_openings_are_refused(server, first_messages):
    async with websockets.connect(server.ws_url) as ws:
        for message in first_messages:
            await ws.send(message if isinstance(message, (str, bytes)) else json.dumps(message))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 1008
    # No pipeline started, and the server keeps serving: the next real call works.
    assert server.wait_for_no_calls()["active_calls"] == 0
    log = server.log()
    assert "Refusing websocket" in log
    assert "Traceback" not in log


async def test_server_survives_refusals_and_serves_next_call(server, stand_ins):
    async with websockets.connect(server.ws_url) as ws:
        await ws.send("garbage")
        await ws.close()
    report = await run_call(server.ws_url, [WaitForGreeting(), Hangup()])
    assert report.ok, report.summary()


async def test_no_secret_in_logs(server, stand_ins):
    """A call (and whatever ran before on this server): the sentinel keys never reached its
    log."""
    report = await run_call(server.ws_url, [WaitForGreeting(), Hangup()])
    assert report.ok, report.summary()
    log = server.log()
    assert "Call from" in log  # the log does hold the calls
    for value in SECRET_KEYS.values():
        assert value not in log


def test_body_query_parameter_is_decoded():
    from server import decode_body

    body = base64.b64encode(json.dumps({"campaign": "renewals"}).encode()).decode()
    assert decode_body(body) == {"campaign": "renewals"}
    assert decode_body("%%%not-base64") == {}
    assert decode_body(base64.b64encode(b"[1, 2]").decode()) == {}
    assert decode_body(None) == {}


async def test_a_one_word_opening_right_after_the_greeting_is_kept(server, stand_ins):
    """ "Hi," a second after the greeting ends, then the question: the caller's turn keeps every
    word (a turn starts on one word once the caller has heard the bot end)."""
    stand_ins.config.stt.transcripts.append(
        "Hi, | I would like to know the status of my order please."
    )
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("order_status"), WaitForBot(timeout=20), Hangup()],
        call_sid="CAhi-first",
    )
    assert report.ok, report.summary()
    caller = [
        t["text"] for t in record_of(server, "CAhi-first")["turns"] if t["speaker"] == "caller"
    ]
    assert caller and caller[0].startswith("Hi,"), caller
