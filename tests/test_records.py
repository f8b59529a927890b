"""Call records through real calls: simulated caller -> server.py -> stand-ins -> record.json.

The simulated caller measures the call from the outside (when its speech ended, when the bot's
audio arrived) and records what it sent and heard; the bot's record must agree with it to
within one caller audio chunk, the resolution of the caller's own clock.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import websockets

from exotel_bot.records.sinks import LocalDirectorySink, folder_name
from exotel_bot.settings import ConfigError, read_settings
from simulator.caller import (
    BargeIn,
    CallReport,
    Hangup,
    Say,
    Silence,
    WaitForBot,
    WaitForGreeting,
    run_call,
)
from tests.conftest import SECRET_KEYS, expected_greeting
from tools import call_report

CHUNK_MS = 100  # the simulated caller's media chunk: the resolution of its timings
CHUNK = CHUNK_MS / 1000
FRAME = 0.02  # the record places speech on 20 ms frames of the caller's audio
LLM_DELAY, TTS_DELAY = 0.3, 0.2  # the stand-ins' time to first token / first audio byte


def resolution(report: CallReport) -> float:
    """How far the caller's and the bot's clocks may disagree about one moment.

    The simulator times speech by the chunk that carries it: when that chunk left, which is up
    to one chunk after the audio in it, plus the simulator's own sending lag.
    """
    return CHUNK + report.max_send_lag + FRAME


def records_dir(server) -> Path:
    return Path(server.env["CALL_RECORDS_DIR"])


def read_record(server, call_sid: str) -> dict:
    return json.loads((records_dir(server) / call_sid / "record.json").read_text())


def read_stereo(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 2 and wav.getsampwidth() == 2
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        return frames.reshape(-1, 2), wav.getframerate()


def sounding_stretches(samples: np.ndarray, rate: int, gap: float = 0.3) -> list[tuple[int, int]]:
    """(first, last + 1) sample of each run of non-silent audio, runs split by `gap` seconds."""
    loud = np.flatnonzero(samples != 0)
    if not len(loud):
        return []
    breaks = np.flatnonzero(np.diff(loud) > gap * rate)
    starts = [loud[0], *loud[breaks + 1]]
    ends = [*loud[breaks], loud[-1]]
    return [(int(s), int(e) + 1) for s, e in zip(starts, ends, strict=True)]


def log_lines(log: str, call_sid: str, kind: str) -> list[dict]:
    pattern = re.compile(rf"\| {re.escape(call_sid)} \|.* - {kind} (\{{.*\}})$", re.M)
    return [json.loads(m) for m in pattern.findall(log)]


# --- One recorded call, checked from every side ------------------------------------------------


@dataclass
class RecordedCall:
    report: CallReport
    record: dict
    folder: Path
    caller_wav: Path
    log: str


@pytest.fixture(scope="module")
def recording_server(server_factory):
    # No silence check-in in the recorded call: its slow greeting may be long (bot.py's).
    return server_factory(RECORD_AUDIO="true", SILENCE_TIMEOUT_SECS="60")


@pytest.fixture(scope="module")
def recorded_call(recording_server, stand_ins, tmp_path_factory) -> RecordedCall:
    """Greeting, a question, the caller cutting the answer short, the second answer, hang-up.

    The caller speaks `order_status` both times: its pauses are all shorter than the VAD's
    0.2 s, so each utterance is one turn, every run.
    """
    stand_ins.reset()
    stand_ins.config.stt.transcripts.extend(["Where is my order?", "Cancel it please."])
    stand_ins.config.llm.first_token_delay = LLM_DELAY
    stand_ins.config.tts.first_byte_delay = TTS_DELAY
    # Slow speech: the answer is ~5 s of audio. The server sends ahead of what the caller hears
    # (Exotel buffers), so at the default pace (~2.6 s) it had finished sending ~1.2 s in, and a
    # barge-in reaching it late on a busy machine found no bot turn left to interrupt.
    stand_ins.config.tts.ms_per_char = 100
    caller_wav = tmp_path_factory.mktemp("caller") / "caller.wav"
    # The greeting is slow too: wait for the whole of it, however long bot.py makes it.
    greeting_secs = len(expected_greeting()) * stand_ins.config.tts.ms_per_char / 1000
    script = [
        WaitForGreeting(timeout=15 + greeting_secs),
        Say("order_status"),
        BargeIn("order_status", after=0.5),  # well inside the reply (~5 s of audio)
        WaitForBot(timeout=15),
        Hangup(),
    ]
    report = asyncio.run(
        run_call(recording_server.ws_url, script, chunk_ms=CHUNK_MS, record_path=caller_wav)
    )
    assert report.ok, report.summary()
    assert recording_server.wait_for_no_calls()["active_calls"] == 0  # the record is written
    folder = records_dir(recording_server) / report.call_sid
    record = json.loads((folder / "record.json").read_text())
    return RecordedCall(report, record, folder, caller_wav, recording_server.log())


def test_record_describes_the_call(recorded_call):
    record, report = recorded_call.record, recorded_call.report
    assert record["call_sid"] == report.call_sid
    assert record["stream_sid"] == report.stream_sid
    assert record["account_sid"] == "ACsimulator"
    assert (record["from"], record["to"]) == ("+919876543210", "+918047491899")
    assert record["direction"] == "inbound"
    assert record["sample_rate"] == 8000
    assert record["end"] == {"reason": "caller_hung_up", "detail": "callended"}
    assert abs(record["duration_secs"] - report.duration) <= CHUNK
    assert record["errors"] == []
    usage = record["usage"]
    assert usage["llm_prompt_tokens"] > 0 and usage["llm_completion_tokens"] > 0
    assert usage["tts_characters"] >= sum(
        len(t["text"]) for t in record["turns"] if t["speaker"] == "bot" and not t["interrupted"]
    )


def test_transcript_has_every_turn_in_order(recorded_call):
    record, report = recorded_call.record, recorded_call.report
    turns = record["turns"]
    assert [t["speaker"] for t in turns] == ["bot", "caller", "bot", "caller", "bot"]
    greeting, question, first_answer, cut_in, second_answer = turns
    assert greeting["text"] == expected_greeting()
    assert question["text"] == "Where is my order?" and not question["barge_in"]
    assert first_answer["interrupted"] and first_answer["reply_to"] == question["index"]
    # Only what the caller heard before cutting in: the start of the stand-in's answer.
    assert "You said: Where is my order?".startswith(first_answer["text"][:20])
    assert "How else can I help" not in first_answer["text"]
    assert cut_in["text"] == "Cancel it please." and cut_in["barge_in"]
    assert second_answer["text"].startswith("You said: Cancel it please.")
    assert not second_answer["interrupted"]
    assert second_answer["reply_to"] == cut_in["index"]

    # Plausible times, in order, within the call.
    starts = [t["start"] for t in turns]
    assert starts == sorted(starts) and starts[0] >= 0
    for turn in turns:
        assert turn["start"] <= turn["end"] <= record["duration_secs"]
    for caller, bot in ((question, first_answer), (cut_in, second_answer)):
        assert caller["end"] <= caller["endpointed_at"] <= bot["start"]
    assert first_answer["end"] <= cut_in["end"]  # the bot stopped while the caller spoke
    # The caller's speech, as the simulator sent it (its times are chunk-resolution).
    for turn, said in zip((question, cut_in), report.replies, strict=True):
        assert abs(turn["start"] - said.speech_start) <= resolution(report)
        assert abs(turn["end"] - said.speech_end) <= resolution(report)


def test_latency_per_reply_matches_what_the_caller_measured(recorded_call):
    record, report = recorded_call.record, recorded_call.report
    answers = [t for t in record["turns"] if t.get("cause") == "reply"]
    assert len(answers) == len(report.replies) == 2
    for answer, measured in zip(answers, report.replies, strict=True):
        latency = answer["latency"]
        assert abs(latency["total"] - measured.latency) <= resolution(report), measured
        parts = [latency[part] for part in call_report.PARTS]
        assert all(part >= 0 for part in parts), latency
        assert sum(parts) == pytest.approx(latency["total"], abs=0.005)
        # The services' delays, injected into the stand-ins, show up where they belong.
        assert latency["llm_ttfb"] >= LLM_DELAY and latency["tts_ttfb"] >= TTS_DELAY, latency
        assert latency["tts"] >= TTS_DELAY - 0.005, latency  # the TTS cannot start early
        assert latency["stt_ttfb"] > 0
    assert abs(record["greeting_latency_secs"] - report.greeting_latency) <= resolution(report)


def test_recording_lines_up_with_what_the_caller_sent_and_heard(recorded_call):
    ours, rate = read_stereo(recorded_call.folder / "recording.wav")
    theirs, their_rate = read_stereo(recorded_call.caller_wav)
    assert rate == their_rate == 8000
    assert recorded_call.record["recording"] == {
        "file": "recording.wav",
        "sample_rate": 8000,
        "channels": ["caller", "bot"],
    }
    common = min(len(ours), len(theirs))
    assert common >= (recorded_call.report.duration - CHUNK) * rate
    # Left: exactly the samples the caller sent, at exactly their place in the call.
    assert np.abs(theirs[:common, 0]).max() > 1000
    assert np.array_equal(ours[:common, 0], theirs[:common, 0])
    # Right: each stretch of bot audio the caller heard (the greeting, the answer cut short by
    # the `clear`, the second answer), at the same place, with the same samples in the same
    # order. (On a busy machine the caller's playback can run dry for a moment, a few silent
    # samples inside a stretch that the server could not know of: silence is not compared.)
    heard = sounding_stretches(theirs[:, 1], rate)
    sent = sounding_stretches(ours[:, 1], rate)
    assert len(heard) == len(sent) == 3, (heard, sent)
    chunk = round(CHUNK * rate)
    for (h0, h1), (s0, s1) in zip(heard, sent, strict=True):
        assert abs(s0 - h0) <= chunk and abs(s1 - h1) <= chunk, ((h0, h1), (s0, s1))
        ours_sound, their_sound = ours[s0:s1, 1], theirs[h0:h1, 1]
        ours_sound, their_sound = ours_sound[ours_sound != 0], their_sound[their_sound != 0]
        length = min(len(ours_sound), len(their_sound))
        assert length > 0.5 * rate  # the cut answer included: it played for a while
        assert np.array_equal(ours_sound[:length], their_sound[:length])


def test_one_log_line_per_bot_turn_and_per_call_end(recorded_call):
    call_sid, record = recorded_call.report.call_sid, recorded_call.record
    turns = log_lines(recorded_call.log, call_sid, "call_turn")
    bot_turns = [t for t in record["turns"] if t["speaker"] == "bot"]
    assert [t["turn"] for t in turns] == [t["index"] for t in bot_turns]
    assert [t["latency"] for t in turns] == [t["latency"] for t in bot_turns]
    assert [t["interrupted"] for t in turns] == [False, True, False]
    (end,) = log_lines(recorded_call.log, call_sid, "call_end")
    assert end["end_reason"] == "caller_hung_up" and end["replies"] == 2
    replies = [t["latency"]["total"] for t in bot_turns if t.get("reply_to") is not None]
    assert end["latency_max"] == max(replies)  # the replies' (the greeting has its own field)


def test_report_shows_the_call(recorded_call, tmp_path):
    output = tmp_path / "report.html"
    assert call_report.main([str(recorded_call.folder / "record.json"), "-o", str(output)]) == 0
    html = output.read_text()
    record = recorded_call.record
    assert record["call_sid"] in html
    for turn in record["turns"]:
        assert turn["text"].replace("'", "&#x27;") in html
    # One latency row per reply, with its figures; the cut-off and the barge-in are marked.
    rows = re.findall(r"<tr class='reply'>(.*?)</tr>", html)
    answers = [t for t in record["turns"] if t.get("cause") == "reply"]
    assert len(rows) == len(answers) == 2
    for row, answer in zip(rows, answers, strict=True):
        for part in ("total", *call_report.PARTS, *call_report.METRICS):
            assert call_report.ms(answer["latency"][part]) in row
    assert "cut off" in rows[0] and "cut off" not in rows[1]
    assert html.count("<span class='tag barge'>") == 1
    # Both waveforms (the call was recorded), and nothing fetched from anywhere.
    assert html.count(" fill-opacity='0.75'/>") == 2
    assert "<script" not in html and "src=" not in html and "href=" not in html


def test_summary_across_calls(recorded_call, tmp_path, capsys):
    folder = recorded_call.folder.parent
    output = tmp_path / "summary.html"
    assert call_report.main(["--summary", str(folder), "-o", str(output)]) == 0
    records = [json.loads(p.read_text()) for p in folder.rglob("record.json")]
    totals = [
        t["latency"]["total"] for r in records for t in r["turns"] if t.get("cause") == "reply"
    ]
    html = output.read_text()
    total_row = re.search(r"<tr><td>total</td>(.*?)</tr>", html).group(1)
    assert f"<td class='num'>{len(totals)}</td>" in total_row
    assert call_report.ms(float(np.percentile(totals, 50))) in total_row
    assert call_report.ms(float(np.percentile(totals, 95))) in total_row
    assert recorded_call.report.call_sid in html
    assert "p95" in capsys.readouterr().out


# --- Calls that go wrong still leave a record --------------------------------------------------


async def test_llm_failure_mid_call_still_leaves_a_record(server, stand_ins):
    stand_ins.config.stt.transcripts.append("Where is my order?")
    stand_ins.config.llm.fail_mode = "500"
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("order_status"), Silence(3.0), Hangup()],
    )
    assert report.ended_by == "caller", report.summary()
    server.wait_for_no_calls()
    record = read_record(server, report.call_sid)
    greeting, question = record["turns"][:2]  # any apology that follows depends on bot.py
    assert greeting["speaker"] == "bot" and greeting["text"] == expected_greeting()
    assert question["speaker"] == "caller" and question["text"] == "Where is my order?"
    assert record["errors"] and "OpenAILLMService" in record["errors"][0]["source"]
    assert "500" in record["errors"][0]["error"]
    assert question["end"] <= record["errors"][0]["at"] <= record["duration_secs"]
    assert record["end"] == {"reason": "caller_hung_up", "detail": "callended"}


async def test_a_dropped_line_still_leaves_a_record(server):
    """The socket closes with no `stop`: the record says so."""
    call_sid = "CAdropped0001"
    silence = base64.b64encode(bytes(1600)).decode()
    start = {
        "event": "start",
        "sequence_number": "1",
        "stream_sid": "MZdropped",
        "start": {
            "stream_sid": "MZdropped",
            "call_sid": call_sid,
            "account_sid": "ACsimulator",
            "from": "+911111111111",
            "to": "+912222222222",
            "custom_parameters": {},
            "media_format": {"encoding": "audio/x-raw", "sample_rate": "8000", "bit_rate": "16"},
        },
    }
    async with websockets.connect(server.ws_url) as ws:
        await ws.send(json.dumps({"event": "connected"}))
        await ws.send(json.dumps(start))
        for chunk in range(10):
            await asyncio.sleep(CHUNK)
            media = {"chunk": str(chunk + 1), "payload": silence}
            await ws.send(json.dumps({"event": "media", "stream_sid": "MZdropped", "media": media}))
    server.wait_for_no_calls()
    record = read_record(server, call_sid)
    assert record["end"] == {
        "reason": "caller_hung_up",
        "detail": "websocket closed without a stop message",
    }
    assert record["from"] == "+911111111111"


async def test_unwritable_records_folder_is_logged_and_the_call_completes(
    server_factory, stand_ins, tmp_path
):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    server = server_factory(CALL_RECORDS_DIR=str(blocker / "calls"), RECORD_AUDIO="true")
    report = await run_call(
        server.ws_url, [WaitForGreeting(), Say("yes"), WaitForBot(timeout=15), Hangup()]
    )
    assert report.ok, report.summary()
    assert report.replies[0].latency is not None
    assert server.wait_for_no_calls()["active_calls"] == 0
    log = server.log()
    assert "Could not write the call record" in log
    assert log_lines(log, report.call_sid, "call_end")  # the figures still reach the log
    assert "Traceback" not in log
    # The server still takes calls.
    assert (await run_call(server.ws_url, [WaitForGreeting(), Hangup()])).ok


# --- The pieces ---------------------------------------------------------------------------------


def test_local_sink_keeps_every_call_in_its_own_safe_folder(tmp_path):
    sink = LocalDirectorySink(tmp_path / "calls")
    first = sink.write({"call_sid": "CA1"}, b"RIFF....")
    again = sink.write({"call_sid": "CA1"}, None)  # Exotel retried the stream: keep both
    sneaky = sink.write({"call_sid": "../../etc/passwd"}, None)
    assert Path(first) == tmp_path / "calls" / "CA1"
    assert (Path(first) / "recording.wav").read_bytes() == b"RIFF...."
    assert Path(again) == tmp_path / "calls" / "CA1-2"
    assert not (Path(again) / "recording.wav").exists()
    assert Path(sneaky).parent == tmp_path / "calls"
    assert json.loads((Path(sneaky) / "record.json").read_text()) == {
        "call_sid": "../../etc/passwd"
    }
    assert folder_name("") == "unknown-call"
    assert not list((tmp_path / "calls").rglob(".*"))  # no temporary files left behind


@pytest.fixture
def keys(monkeypatch):
    for name, value in SECRET_KEYS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CALL_RECORDS_DIR", raising=False)
    monkeypatch.delenv("RECORD_AUDIO", raising=False)
    return monkeypatch


def test_record_settings(keys):
    settings = read_settings()
    assert (settings.call_records_dir, settings.record_audio) == ("calls", False)
    keys.setenv("CALL_RECORDS_DIR", "")
    keys.setenv("RECORD_AUDIO", "yes")
    settings = read_settings()
    assert (settings.call_records_dir, settings.record_audio) == ("", True)
    keys.setenv("RECORD_AUDIO", "sometimes")
    with pytest.raises(ConfigError, match="RECORD_AUDIO"):
        read_settings()


def test_report_explains_bad_input(tmp_path, capsys):
    assert call_report.main([str(tmp_path / "missing.json")]) == 2
    broken = tmp_path / "record.json"
    broken.write_text("{not json")
    assert call_report.main([str(broken)]) == 2
    assert call_report.main(["--summary", str(tmp_path / "nowhere")]) == 2
    errors = capsys.readouterr().err
    assert "no such call record" in errors and "not a readable call record" in errors
