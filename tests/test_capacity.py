"""Capacity pieces: shared vendor clients, the load simulator,
and the benchmark's arithmetic. No timing thresholds: the benchmark prints figures."""

from __future__ import annotations

import weakref

from benchmarks.run import REPLY_PARTS, split_reply
from benchmarks.timings import LOG_PREFIX, parse_timings
from exotel_bot import garbage_collection as memory
from exotel_bot.services.openai_pool import PooledOpenAILLMService
from exotel_bot.services.stt_replay import ReplayingDeepgramSTTService, shared_http_client
from simulator.caller import CallReport, Hangup, Reply, Say, WaitForBot, WaitForGreeting
from simulator.load import run_load
from tests.conftest import until


async def test_calls_share_one_openai_client():
    def llm(key="sk-test"):
        return PooledOpenAILLMService(api_key=key, base_url="http://127.0.0.1:9/v1")

    first, second = llm(), llm()
    assert first._client is second._client  # one TLS context and connection pool per process
    assert llm("sk-other")._client is not first._client  # other credentials, other client


async def test_calls_share_one_http_client_for_deepgram():
    """Each call's Deepgram client gets the process's HTTP client, not a TLS context of its own;
    pipecat's name for the SDK class is left as it was."""
    import deepgram
    import pipecat.services.deepgram.stt as pipecat_deepgram

    def stt(base_url="ws://127.0.0.1:9"):
        service = ReplayingDeepgramSTTService(api_key="dg-test", base_url=base_url)
        return service._client._client_wrapper.httpx_client.httpx_client  # the SDK's internals

    assert stt() is stt() is stt(base_url=None) is shared_http_client()
    assert pipecat_deepgram.AsyncDeepgramClient is deepgram.AsyncDeepgramClient


async def test_load_run_reports_calls_latency_and_server_cost(server):
    script = [WaitForGreeting(), Say("order_status"), WaitForBot(timeout=15), Hangup()]
    report = await run_load(server.ws_url, 2, script=script, server_pid=server.process.pid)
    stats = report.stats()
    assert stats["failed"] == 0, report.summary()
    assert stats["replies"] == stats["replies_expected"] == 2
    assert stats["greeting_p50"] is not None and stats["reply_p95"] is not None
    assert report.server.cpu_seconds > 0 and report.cpu_per_call_minute > 0
    assert report.server.rss_peak >= report.server.rss_before > 0
    assert "2 calls to" in report.summary()


def test_reply_split_adds_up_to_the_latency_the_caller_heard():
    report = CallReport(url="ws://x", sample_rate=8000, chunk_ms=100, call_sid="c", stream_sid="s")
    report.started_at = 1000.0
    reply = Reply(1, "order_status", speech_start=1.0, speech_end=4.0, first_audio=4.9)
    record = {
        "kind": "reply",
        "vad_stop": 1004.2,
        "final": 1004.35,
        "turn": 1004.36,
        "llm_text": 1004.71,  # LLM first token 350 ms after the turn
        "tts_first_byte": 1004.84,
        "tts_ttfb": 0.12,
        "tts_audio": 1004.84,
        "bot_started": 1004.86,
    }
    split = split_reply(report, reply, [record])
    parts = [split[p] for p in REPLY_PARTS]
    assert abs(sum(parts) - reply.latency) < 1e-9
    assert round(split["went quiet"], 3) == 0.2 and round(split["LLM"], 3) == 0.35
    assert round(split["TTS"], 3) == 0.12 and round(split["out"], 3) == 0.06

    # Ours asks for the final when the caller goes quiet: the split starts there.
    quiet = split_reply(report, reply, [{**record, "quiet": 1004.1}])
    assert round(quiet["went quiet"], 3) == 0.1 and round(quiet["STT final"], 3) == 0.25
    assert round(quiet["vad_stop"], 3) == 0.2


def test_timing_lines_are_found_per_call():
    log = "\n".join(
        [
            "12:00:00.000 | INFO    | CA1 | benchmarks.timings:1 - " + LOG_PREFIX + '{"kind": "x"}',
            "12:00:00.001 | INFO    | CA2 | bot:1 - Call from +91",
            "12:00:00.002 | INFO    | CA2 | benchmarks.timings:1 - " + LOG_PREFIX + '{"kind": "y"}',
        ]
    )
    assert parse_timings(log) == {"CA1": [{"kind": "x"}], "CA2": [{"kind": "y"}]}


class _Pipeline:
    """Stands for a finished call's pipeline: objects that point at each other."""

    def __init__(self):
        self.me = self


async def test_finished_calls_are_freed_and_collections_batched(monkeypatch):
    monkeypatch.setattr(memory, "RELEASE_EVERY_SECS", 0.2)
    monkeypatch.setattr(memory, "_last_release", 0.0)
    monkeypatch.setattr(memory, "_scheduled", None)
    first = _Pipeline()
    first_ref, first = weakref.ref(first), None
    memory.release_call_memory()
    assert first_ref() is None  # collected at once: no collection ran lately

    second = _Pipeline()
    second_ref, second = weakref.ref(second), None
    memory.release_call_memory()  # right after one: batched into the next
    assert second_ref() is not None
    await until(lambda: second_ref() is None)  # the batched collection runs on its own
