"""The Deepgram stand-in finalizes only the words heard so far, as Deepgram does.

The bot now asks for a final as soon as the caller goes quiet, which can be a pause in the
middle of a sentence: a stand-in that answered that with the whole scripted sentence would
let a test (and the latency benchmark) see words the caller has not said yet.
"""

from __future__ import annotations

import json

import aiohttp

from simulator.audio import load_wav
from simulator.standins import StandIns

RATE = 8000
CHUNK = RATE // 50  # 20 ms of samples


async def _finals_after(ws, count: int) -> list[dict]:
    """The next `count` final Results messages (interim ones skipped)."""
    finals = []
    while len(finals) < count:
        message = json.loads((await ws.receive(timeout=5)).data)
        if message.get("type") == "Results" and message["is_final"]:
            finals.append(message)
    return finals


async def _send_audio(ws, samples, start_s: float, end_s: float) -> None:
    segment = samples[int(start_s * RATE) : int(end_s * RATE)]
    for i in range(0, len(segment), CHUNK):
        await ws.send_bytes(segment[i : i + CHUNK].tobytes())


async def _listen(stand_ins: StandIns):
    url = f"http://127.0.0.1:{stand_ins.port}/v1/listen?encoding=linear16&sample_rate={RATE}"
    session = aiohttp.ClientSession()
    ws = await session.ws_connect(url, headers={"Authorization": "Token test"})
    return session, ws


def _text(message: dict) -> str:
    return message["channel"]["alternatives"][0]["transcript"]


async def test_finalize_in_a_pause_returns_the_words_before_it():
    """'Yes, [260 ms] that's right.': a Finalize in the pause gives "Yes,", the rest later."""
    samples = load_wav("simulator/fixtures/yes_8k.wav", RATE)  # speech 0.2-0.52, 0.78-1.44 s
    async with StandIns() as stand_ins:
        stand_ins.config.stt.transcripts.append("Yes, | that's right.")
        session, ws = await _listen(stand_ins)
        async with session, ws:
            await _send_audio(ws, samples, 0.0, 0.66)
            await ws.send_str(json.dumps({"type": "Finalize"}))
            (first,) = await _finals_after(ws, 1)
            assert _text(first) == "Yes,"
            assert first["from_finalize"] is True

            await _send_audio(ws, samples, 0.66, 1.6)
            await ws.send_str(json.dumps({"type": "Finalize"}))
            (second,) = await _finals_after(ws, 1)
            assert _text(second) == "that's right."
            assert second["start"] >= first["start"] + first["duration"]

            # Nothing new since: Deepgram still answers the Finalize, with no words.
            await ws.send_str(json.dumps({"type": "Finalize"}))
            (empty,) = await _finals_after(ws, 1)
            assert _text(empty) == "" and empty["from_finalize"] is True


async def test_finalize_while_the_caller_speaks_holds_back_the_unfinished_part():
    """A Finalize mid-word finalizes no half-heard part; the whole line comes at the end."""
    samples = load_wav("simulator/fixtures/order_status_8k.wav", RATE)  # speech 0.22-3.26 s
    async with StandIns() as stand_ins:
        line = "Hi, I would like to know the status of my order please."
        stand_ins.config.stt.transcripts.append(line)
        session, ws = await _listen(stand_ins)
        async with session, ws:
            await _send_audio(ws, samples, 0.0, 1.5)  # loud at 1.5 s
            await ws.send_str(json.dumps({"type": "Finalize"}))
            (early,) = await _finals_after(ws, 1)
            assert _text(early) == ""

            await _send_audio(ws, samples, 1.5, 3.3)  # quiet for 40 ms: too soon to tell
            await ws.send_str(json.dumps({"type": "Finalize"}))
            (soon,) = await _finals_after(ws, 1)
            assert _text(soon) == ""  # the line marks no pauses: it may go on

            await _send_audio(ws, samples, 3.3, 3.5)  # quiet for 240 ms: the VAD would stop
            await ws.send_str(json.dumps({"type": "Finalize"}))
            (final,) = await _finals_after(ws, 1)
            assert _text(final) == line


async def test_an_endpoint_between_parts_sends_each_part_once():
    """Without any Finalize, Deepgram's own endpointing (300 ms of silence) splits the line at
    the caller's pauses, and the next speech continues the same line."""
    samples = load_wav("simulator/fixtures/pause_mid_sentence_8k.wav", RATE)  # pause 1.24-1.88
    async with StandIns() as stand_ins:
        stand_ins.config.stt.transcripts.extend(["My order number is | one two three four.", "x"])
        session, ws = await _listen(stand_ins)
        async with session, ws:
            await _send_audio(ws, samples, 0.0, len(samples) / RATE)
            first, second = await _finals_after(ws, 2)
            assert [_text(first), _text(second)] == ["My order number is", "one two three four."]
            assert first["from_finalize"] is False


async def test_a_marked_comma_is_where_a_finalize_splits_the_line():
    """'Hi, | I would like ...': a Finalize in the 140 ms after "Hi," gives "Hi,"; without one,
    the line comes whole."""
    samples = load_wav("simulator/fixtures/order_status_8k.wav", RATE)  # "Hi," 0.22-0.58 s
    line = "Hi, | I would like to know the status of my order please."
    async with StandIns() as stand_ins:
        stand_ins.config.stt.transcripts.extend([line, line])
        session, ws = await _listen(stand_ins)
        async with session, ws:
            await _send_audio(ws, samples, 0.0, 0.66)
            await ws.send_str(json.dumps({"type": "Finalize"}))
            await _send_audio(ws, samples, 0.66, 3.4)  # quiet since 3.26 s
            await ws.send_str(json.dumps({"type": "Finalize"}))
            first, second = await _finals_after(ws, 2)
            assert [_text(first), _text(second)] == ["Hi,", line.split("| ")[1]]

            await ws.send_bytes(bytes(RATE * 2))  # a second of silence: the next line
            await _send_audio(ws, samples, 0.0, 3.4)
            await ws.send_str(json.dumps({"type": "Finalize"}))
            (whole,) = await _finals_after(ws, 1)
            assert _text(whole) == line.replace("| ", "")


async def test_a_final_in_a_pause_the_script_does_not_mark_is_counted():
    """The line sent whole in a pause it does not mark: the speech after it adds no words, does
    not take the next line, and the connection counts it."""
    samples = load_wav("simulator/fixtures/yes_8k.wav", RATE)  # speech 0.2-0.52, 0.78-1.44 s
    async with StandIns() as stand_ins:
        stand_ins.config.stt.transcripts.extend(["Yes, that's right.", "Next line."])
        session, ws = await _listen(stand_ins)
        async with session, ws:
            await _send_audio(ws, samples, 0.0, 0.76)  # 240 ms into the 260 ms pause
            await ws.send_str(json.dumps({"type": "Finalize"}))
            (first,) = await _finals_after(ws, 1)
            assert _text(first) == "Yes, that's right."
            await _send_audio(ws, samples, 0.76, 1.7)
            await ws.send_str(json.dumps({"type": "Finalize"}))
            (rest,) = await _finals_after(ws, 1)
            assert _text(rest) == ""
        (connection,) = stand_ins.deepgram.connections
        assert connection.unmarked_pauses == 1
        assert stand_ins.config.stt.transcripts == ["Next line."]
