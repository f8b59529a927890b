"""The benchmark: our bot beside an official-example-style baseline, same machine, same run.

    python -m benchmarks.run            # the full run (about 20 minutes on 2 cores)
    python -m benchmarks.run --quick    # a smoke run (about 5 minutes)

For each bot (`benchmarks/serve.py` runs it through server.py's own /ws handoff) it measures:

- launch: seconds from process start to /health answering, and the idle process's RSS;
- latency: calls one after another, with the vendor stand-ins answering instantly and with
  realistic delays (STT final 150 ms after Finalize, LLM first token 350 ms then 20 ms a
  token, TTS first byte 120 ms): greeting, reply and long-answer latency as the simulated
  caller hears them, each reply split into its parts from
  the server's BENCH_TIMING lines, and premature replies (the bot talking into the caller's
  mid-sentence pause in the `pause_mid_sentence` fixture);
- memory left behind: RSS after each of those sequential calls;
- capacity: 1, 10, 25, 50, 100 simultaneous calls (instant stand-ins): latency percentiles,
  failures, server CPU seconds per call-minute and RSS per extra call.

It prints a table with both bots' figures and their ratios, and writes everything as JSON to
out/benchmarks/. Timing is never asserted: these are measurements of this machine, now.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from benchmarks.timings import parse_timings
from simulator.caller import CallReport, Hangup, Reply, Say, WaitForBot, WaitForGreeting, run_call
from simulator.load import LoadReport, percentile, run_load

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "out" / "benchmarks"
MB = 1024 * 1024
BOTS = ("ours", "baseline", "baseline-prompt")
# The baseline with a turn detector that answers as soon as the final transcript is in (see
# benchmarks/baseline_bot.py): what the official pipeline does when its turn detector is not
# the bottleneck. Latency only; its CPU and memory are the baseline's minus Smart Turn.
LATENCY_ONLY_BOTS = ("baseline-prompt",)


@dataclass(frozen=True)
class Delays:
    """How long the vendor stand-ins take: STT final (after Finalize), LLM first token and
    each token after it (the stand-in streams one word per chunk, about a token), TTS first
    byte."""

    name: str
    stt: float
    llm: float
    token: float
    tts: float

    def patch(self) -> dict:
        return {
            "stt": {"final_delay": self.stt},
            "llm": {
                "first_token_delay": self.llm,
                "token_interval": self.token,
                "words_per_chunk": 1,
                "rules": [LONG_ANSWER_RULE],
            },
            "tts": {"first_byte_delay": self.tts},
        }


INSTANT = Delays("instant", 0.0, 0.0, 0.0, 0.0)
REALISTIC = Delays("realistic", 0.15, 0.35, 0.02, 0.12)

# One sequential latency call: a question, an answer with a 600 ms mid-sentence pause, then a
# question whose answer is long (its first sentence is 40 words, about 40-50 tokens).
# (Fixtures with a ~0.18 s gap, like "Yes, [gap] that's right", sit on the edge of the VAD's
# 0.2 s stop window, so they would measure the VAD's luck with chunk boundaries.)
LATENCY_SCRIPT = [
    WaitForGreeting(),
    Say("order_status"),
    WaitForBot(timeout=15),
    Say("pause_mid_sentence"),
    WaitForBot(timeout=15),
    Say("address"),
    WaitForBot(timeout=15),
    Hangup(),
]
# What the Deepgram stand-in hears in each utterance of that script, in order; "|" marks the
# pauses in the recordings where a Finalize can land (simulator/standins/deepgram.py): the
# comma after "Hi" (140 ms), the 600 ms mid-sentence pause and the 80 ms between the digits.
LATENCY_TRANSCRIPTS = [
    "Hi, | I would like to know the status of my order please.",
    "My order number is | one | two | three | four.",
    "Can you read me the delivery address on my account? |",  # no pause: heard when quiet
]
# The long answer: the first sentence is 40 words, as an LLM reading out an address would say.
LONG_ANSWER_UTTERANCE = "address"
LONG_ANSWER = (
    "Sure, the delivery address on your account is flat twelve on the second floor of Green "
    "Park Apartments, near the old water tank on Station Road in Koramangala, Bengaluru, "
    "Karnataka, five six zero zero three four, and it was last changed in March. "
    "Would you like to change it?"
)
LONG_ANSWER_RULE = {"match": "delivery address", "reply": LONG_ANSWER}

# The steps of a reply, in order, and the server moments that end them (see split_reply).
REPLY_PARTS = ("went quiet", "STT final", "turn decision", "LLM", "first sentence", "TTS", "out")
GREETING_PARTS = ("call setup", "LLM", "to TTS", "TTS", "out")


# ---------------------------------------------------------------------------------------------
# Processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited early; see {log}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s; see {log}")


class StandInsProcess:
    """The vendor stand-ins in their own process, so their CPU is not the server's."""

    def __init__(self, out: Path):
        self.port = free_port()
        self.log = out / "standins.log"
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> StandInsProcess:
        cmd = [sys.executable, "-m", "simulator.standins", "--port", str(self.port)]
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=log)
        wait_for_http(f"{self.url}/_control/config", self.process, 30, self.log)
        return self

    def env(self) -> dict[str, str]:
        return {
            "DEEPGRAM_BASE_URL": f"ws://127.0.0.1:{self.port}",
            "OPENAI_BASE_URL": f"http://127.0.0.1:{self.port}/v1",
            "CARTESIA_WS_URL": f"ws://127.0.0.1:{self.port}/tts/websocket",
        }

    def configure(self, delays: Delays, transcripts: list[str] | None = None) -> None:
        patch = delays.patch()
        patch["stt"]["transcripts"] = list(transcripts or [])
        httpx.post(f"{self.url}/_control/config", json=patch, timeout=5).raise_for_status()

    def unmarked_pauses(self) -> list[str]:
        """Finals the Deepgram stand-in sent whole in a pause its script did not mark."""
        state = httpx.get(f"{self.url}/_control/state", timeout=5).json()
        connections = state.get("deepgram", {}).get("connections", [])
        return [where for c in connections for where in c.get("unmarked_at", [])]

    def stop(self) -> None:
        stop(self.process)


class BotProcess:
    """`python -m benchmarks.serve <bot>`: the bot behind server.py, log in a file."""

    def __init__(self, bot: str, out: Path, env: dict[str, str]):
        self.bot = bot
        self.port = free_port()
        self.log = out / f"server-{bot}.log"
        self.env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "LOG_LEVEL": "INFO",
            "MAX_CONCURRENT_CALLS": "0",  # no admission cap: the benchmark finds the limit
            "DEEPGRAM_API_KEY": "benchmark",
            "OPENAI_API_KEY": "benchmark",
            "CARTESIA_API_KEY": "benchmark",
            **env,
        }
        self.process: subprocess.Popen | None = None
        self.launch_secs: float | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> BotProcess:
        cmd = [sys.executable, "-m", "benchmarks.serve", self.bot]
        started = time.monotonic()
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        wait_for_http(f"http://127.0.0.1:{self.port}/health", self.process, 120, self.log)
        self.launch_secs = time.monotonic() - started
        return self

    def rss(self) -> int:
        return psutil.Process(self.pid).memory_info().rss

    def wait_for_no_calls(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            health = httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=5).json()
            if not health.get("active_calls"):
                return
            time.sleep(0.1)

    def timings(self) -> dict[str, list[dict]]:
        return parse_timings(self.log.read_text(errors="replace"))

    def stop(self) -> None:
        stop(self.process)


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


# ---------------------------------------------------------------------------------------------
# Splitting a reply into its parts


def _chain(start: float, moments: list[float | None], end: float) -> list[float] | None:
    """Durations between consecutive moments, each clamped to be no earlier than the last.

    A missing moment (None) adds a zero-length step. The durations add up to `end - start`.
    """
    points, last = [], start
    for moment in moments:
        last = max(last, moment) if moment is not None else last
        points.append(last)
    points.append(max(last, end))
    previous, parts = start, []
    for point in points:
        parts.append(point - previous)
        previous = point
    return parts


def _match(records: list[dict], kind: str, heard_at: float) -> dict | None:
    """The server's record of the bot turn the caller started hearing at `heard_at`."""
    candidates = [r for r in records if r["kind"] == kind and r["bot_started"] <= heard_at + 0.05]
    return max(candidates, key=lambda r: r["bot_started"], default=None)


def _tts_request(record: dict) -> float | None:
    if "tts_first_byte" in record and "tts_ttfb" in record:
        return record["tts_first_byte"] - record["tts_ttfb"]
    return None


def split_reply(report: CallReport, reply: Reply, records: list[dict]) -> dict | None:
    """Seconds in each of REPLY_PARTS for one answered reply (they add up to its latency)."""
    if reply.latency is None or report.started_at is None:
        return None
    speech_end = report.started_at + reply.speech_end
    heard = report.started_at + reply.first_audio
    record = _match(records, "reply", heard)
    if record is None or record.get("vad_stop", 0) < speech_end - 1:
        return None
    # The first act on the silence: ours asks for the final when the caller goes quiet, the
    # official pipeline when the VAD stops.
    quiet = record.get("quiet", record.get("vad_stop"))
    moments = [
        quiet,
        record.get("final"),
        record.get("turn"),
        record.get("llm_text"),
        _tts_request(record),
        record.get("tts_audio"),
    ]
    parts = _chain(speech_end, moments, heard)
    split = dict(zip(REPLY_PARTS, parts, strict=True))
    split["vad_stop"] = record["vad_stop"] - speech_end
    split["llm_ttfb"] = record.get("llm_ttfb")
    split["speculative"] = record.get("speculative", 0)
    return split


def split_greeting(report: CallReport, records: list[dict]) -> dict | None:
    """Seconds in each of GREETING_PARTS from `start` to the caller hearing the greeting."""
    if report.greeting_latency is None or report.started_at is None:
        return None
    heard = report.started_at + report.greeting_latency
    record = _match(records, "greeting", heard)
    if record is None:
        return None
    moments = [record.get("started"), record.get("llm_text"), _tts_request(record)]
    parts = _chain(report.started_at, [*moments, record.get("tts_audio")], heard)
    return dict(zip(GREETING_PARTS, parts, strict=True))


# ---------------------------------------------------------------------------------------------
# Phases


@dataclass
class LatencyResult:
    delays: str
    greetings: list[float] = field(default_factory=list)
    replies: list[float] = field(default_factory=list)
    long_answers: list[float] = field(default_factory=list)
    by_utterance: dict[str, list[float]] = field(default_factory=dict)
    premature: int = 0
    premature_pause: int = 0
    pause_calls: int = 0
    unanswered: int = 0
    # Stand-in finals sent whole in a pause the script does not mark (should be none).
    unmarked_pauses: list[str] = field(default_factory=list)
    failed: int = 0
    gaps: int = 0  # the caller's playback ran dry inside a bot turn (a stutter)
    reply_splits: list[dict] = field(default_factory=list)
    long_splits: list[dict] = field(default_factory=list)
    greeting_splits: list[dict] = field(default_factory=list)
    first_call: dict = field(default_factory=dict)
    rss_after_call: list[int] = field(default_factory=list)

    def stats(self) -> dict:
        return {
            "delays": self.delays,
            "greeting_p50": percentile(self.greetings, 50),
            "greeting_p95": percentile(self.greetings, 95),
            "reply_p50": percentile(self.replies, 50),
            "reply_p95": percentile(self.replies, 95),
            "long_answer_p50": percentile(self.long_answers, 50),
            "long_answer_max": max(self.long_answers, default=None),
            "by_utterance_p50": {k: percentile(v, 50) for k, v in self.by_utterance.items()},
            "premature": self.premature,
            "premature_pause": self.premature_pause,
            "pause_calls": self.pause_calls,
            "unanswered": self.unanswered,
            "unmarked_pauses": self.unmarked_pauses,
            "failed": self.failed,
            "gaps": self.gaps,
            "reply_split_p50": _median_split(self.reply_splits, (*REPLY_PARTS, "vad_stop")),
            "long_split_p50": _median_split(self.long_splits, (*REPLY_PARTS, "vad_stop")),
            "greeting_split_p50": _median_split(self.greeting_splits, GREETING_PARTS),
            "speculative_replies": sum(
                1 for s in self.reply_splits + self.long_splits if s.get("speculative")
            ),
            "first_call": self.first_call,
            "rss_after_call": self.rss_after_call,
        }


def _median_split(splits: list[dict], parts: tuple[str, ...]) -> dict:
    return {p: percentile([s[p] for s in splits], 50) for p in parts} if splits else {}


async def latency_phase(
    server: BotProcess, stand_ins: StandInsProcess, delays: Delays, calls: int
) -> LatencyResult:
    """`calls` calls one after another; RSS noted after each (for the leak figure)."""
    result = LatencyResult(delays.name)
    reports: list[CallReport] = []
    unmarked_before = stand_ins.unmarked_pauses()
    for index in range(calls):
        stand_ins.configure(delays, LATENCY_TRANSCRIPTS)
        report = await run_call(server.ws_url, LATENCY_SCRIPT)
        reports.append(report)
        server.wait_for_no_calls()
        await asyncio.sleep(0.3)
        result.rss_after_call.append(server.rss())
        if index == 0:
            result.first_call = {
                "greeting": report.greeting_latency,
                "replies": [r.latency for r in report.replies],
            }
    result.unmarked_pauses = stand_ins.unmarked_pauses()[len(unmarked_before) :]
    timings = server.timings()
    for report in reports:
        records = timings.get(report.call_sid, [])
        result.failed += not report.ok
        result.gaps += report.bot_audio_gaps
        if report.greeting_latency is not None:
            result.greetings.append(report.greeting_latency)
        greeting = split_greeting(report, records)
        if greeting:
            result.greeting_splits.append(greeting)
        for reply in report.replies:
            result.premature += reply.premature
            if reply.audio == "pause_mid_sentence":
                result.pause_calls += 1
                result.premature_pause += reply.premature
            if reply.latency is None:
                result.unanswered += 1
                continue
            long = reply.audio == LONG_ANSWER_UTTERANCE
            (result.long_answers if long else result.replies).append(reply.latency)
            result.by_utterance.setdefault(reply.audio, []).append(reply.latency)
            split = split_reply(report, reply, records)
            if split:
                (result.long_splits if long else result.reply_splits).append(split)
    return result


async def capacity_phase(
    server: BotProcess, stand_ins: StandInsProcess, levels: list[int]
) -> list[dict]:
    """Each level of simultaneous calls in turn, instant stand-ins, the server measured."""
    stand_ins.configure(INSTANT)
    results = []
    for calls in levels:
        server.wait_for_no_calls(30)
        await asyncio.sleep(1.0)
        report: LoadReport = await run_load(server.ws_url, calls, server_pid=server.pid)
        stats = report.stats()
        server.wait_for_no_calls(30)
        await asyncio.sleep(1.0)
        stats["rss_settled"] = server.rss()
        results.append(stats)
        print(f"    {report.summary()}".replace("\n", "\n    "), flush=True)
    return results


async def bench_bot(bot: str, stand_ins: StandInsProcess, args, out: Path) -> dict:
    print(f"\n== {bot} ==", flush=True)
    server = BotProcess(bot, out, stand_ins.env()).start()
    try:
        await asyncio.sleep(2.0)  # let the process settle before reading its idle memory
        result = {"bot": bot, "launch_secs": server.launch_secs, "rss_idle": server.rss()}
        print(f"  ready in {server.launch_secs:.2f} s, idle RSS {result['rss_idle'] / MB:.0f} MB")
        for delays in (INSTANT, REALISTIC):
            latency = await latency_phase(server, stand_ins, delays, args.sequential)
            result[f"latency_{delays.name}"] = latency.stats()
            print(f"  {delays.name}: {_latency_line(latency.stats())}", flush=True)
        rss = (
            result["latency_instant"]["rss_after_call"]
            + result["latency_realistic"]["rss_after_call"]
        )
        result["rss_after_sequential_calls"] = rss
        result["rss_left_per_call"] = (rss[-1] - rss[0]) / (len(rss) - 1) if len(rss) > 1 else None
        levels = [] if bot in LATENCY_ONLY_BOTS else args.levels
        if levels:
            print("  capacity (instant stand-ins):", flush=True)
        result["capacity"] = await capacity_phase(server, stand_ins, levels)
        return result
    finally:
        server.stop()


def _latency_line(s: dict) -> str:
    return (
        f"greeting p50 {_s(s['greeting_p50'])} | reply p50 {_s(s['reply_p50'])} "
        f"p95 {_s(s['reply_p95'])} | long answer p50 {_s(s['long_answer_p50'])} "
        f"| premature {s['premature']} "
        f"(pause {s['premature_pause']}/{s['pause_calls']}) | unanswered {s['unanswered']}"
        f" | stand-in finals in unmarked pauses {len(s.get('unmarked_pauses', []))}"
    )


# ---------------------------------------------------------------------------------------------
# The table


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value / MB:.0f} MB"


def _level(result: dict, calls: int) -> dict | None:
    return next((c for c in result["capacity"] if c["calls"] == calls), None)


def _cpu_per_minute(result: dict) -> float | None:
    """CPU per call-minute at the 10-call level (else the busiest level with no failures)."""
    level = _level(result, 10)
    if level is None:
        clean = [c for c in result["capacity"] if not c["failed"]]
        level = clean[-1] if clean else None
    return level["cpu_per_call_minute"] if level else None


def headline(result: dict) -> dict[str, tuple[str, float | None]]:
    """Each figure of the comparison table: (text, value for the ratio)."""
    rows: dict[str, tuple[str, float | None]] = {}
    instant, realistic = result["latency_instant"], result["latency_realistic"]
    rows["reply p50, instant stand-ins"] = (_s(instant["reply_p50"]), instant["reply_p50"])
    rows["reply p50, realistic delays"] = (_s(realistic["reply_p50"]), realistic["reply_p50"])
    rows["reply p95, realistic delays"] = (_s(realistic["reply_p95"]), realistic["reply_p95"])
    rows["long answer first audio p50, realistic delays"] = (
        _s(realistic["long_answer_p50"]),
        realistic["long_answer_p50"],
    )
    by = realistic["by_utterance_p50"]
    rows["p50 per utterance (order / pause tail / long), realistic"] = (
        " / ".join(_s(by.get(k)) for k in ("order_status", "pause_mid_sentence", "address")),
        None,
    )
    rows["greeting p50, realistic delays"] = (
        _s(realistic["greeting_p50"]),
        realistic["greeting_p50"],
    )
    premature = instant["premature_pause"] + realistic["premature_pause"]
    pauses = instant["pause_calls"] + realistic["pause_calls"]
    rows["premature replies in the mid-sentence pause"] = (f"{premature} of {pauses}", premature)
    gaps = instant["gaps"] + realistic["gaps"]
    rows["stutters: playback ran dry inside a bot turn"] = (str(gaps), None)
    cpu = _cpu_per_minute(result)
    rows["CPU per minute of call"] = ("-" if cpu is None else f"{cpu:.2f} CPU-s", cpu)
    for calls in (25, 50, 100):
        level = _level(result, calls)
        if level is None:
            continue
        answered = level["replies"]
        rows[f"{calls} calls: greeting p50 / p95"] = (
            f"{_s(level['greeting_p50'])} / {_s(level['greeting_p95'])}",
            level["greeting_p95"],
        )
        rows[f"{calls} calls: reply p50 / p95"] = (
            f"{_s(level['reply_p50'])} / {_s(level['reply_p95'])}",
            level["reply_p95"],
        )
        rows[f"{calls} calls: failed calls, replies answered"] = (
            f"{level['failed']} failed, {answered} of {level['replies_expected']}",
            None,
        )
    per_call = [c["rss_per_call"] for c in result["capacity"] if c["calls"] >= 10]
    extra = max(per_call) if per_call else None
    rows["memory per extra call (peak)"] = (_mb(extra), extra)
    rows["idle process memory"] = (_mb(result["rss_idle"]), result["rss_idle"])
    left = result["rss_left_per_call"]
    rows["memory left behind per finished call"] = (
        "-" if left is None else f"{left / MB:+.1f} MB",
        left,
    )
    rows["launch to ready"] = (_s(result["launch_secs"]), result["launch_secs"])
    return rows


def comparison_table(results: dict[str, dict]) -> str:
    names = [b for b in BOTS if b in results]
    tables = {b: headline(results[b]) for b in names}
    keys = list(dict.fromkeys(k for b in names for k in tables[b]))
    bases = [b for b in names if b != "ours"] if "ours" in names else []
    header = "| figure | " + " | ".join(names) + " |"
    header += "".join(f" ours / {b} |" for b in bases)
    lines = [header, "|---" * (len(names) + 1 + len(bases)) + "|"]
    for key in keys:
        cells = [tables[b].get(key, ("-", None))[0] for b in names]
        row = f"| {key} | " + " | ".join(cells) + " |"
        ours = tables["ours"].get(key, ("-", None))[1] if bases else None
        for b in bases:
            base = tables[b].get(key, ("-", None))[1]
            row += f" {ours / base:.2f} |" if ours is not None and base else " - |"
        lines.append(row)
    return "\n".join(lines)


def split_table(results: dict[str, dict]) -> str:
    lines = []
    kinds = (("reply", REPLY_PARTS), ("long", REPLY_PARTS), ("greeting", GREETING_PARTS))
    for kind, parts in kinds:
        title = "long answer" if kind == "long" else kind
        lines.append(f"| {title} p50 split | " + " | ".join(parts) + " |")
        lines.append("|---" * (len(parts) + 1) + "|")
        for bot in (b for b in BOTS if b in results):
            for delays in ("instant", "realistic"):
                split = results[bot][f"latency_{delays}"].get(f"{kind}_split_p50", {})
                cells = [_ms(split.get(p)) for p in parts]
                lines.append(f"| {bot}, {delays} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms"


def capacity_table(results: dict[str, dict]) -> str:
    lines = [
        "| bot | calls | failed | replies | greeting p50 / p95 | reply p50 / p95 | premature "
        "| CPU-s per call-min | RSS peak (per call) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for bot in (b for b in BOTS if b in results):
        for c in results[bot]["capacity"]:
            lines.append(
                f"| {bot} | {c['calls']} | {c['failed']} | {c['replies']}/{c['replies_expected']} "
                f"| {_s(c['greeting_p50'])} / {_s(c['greeting_p95'])} "
                f"| {_s(c['reply_p50'])} / {_s(c['reply_p95'])} | {c['premature']} "
                f"| {_num(c['cpu_per_call_minute'])} "
                f"| {_mb(c['rss_peak'])} ({_mb(c['rss_per_call'])}) |"
            )
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


# ---------------------------------------------------------------------------------------------
# Command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.splitlines()[0]
    )
    p.add_argument("--quick", action="store_true", help="a smoke run: fewer calls, 1 and 5 calls")
    p.add_argument("--bots", default=",".join(BOTS), help="which bots (default: all of them)")
    p.add_argument("--levels", help="simultaneous calls, comma-separated (1,10,25,50,100), or none")
    p.add_argument("--sequential", type=int, help="sequential calls per delay profile (6)")
    p.add_argument("--no-workers", action="store_true", help="skip the 1-vs-2-workers step")
    args = p.parse_args(argv)
    args.bots = [b.strip() for b in args.bots.split(",") if b.strip()]
    unknown = set(args.bots) - set(BOTS)
    if unknown:
        p.error(f"unknown bot(s): {', '.join(sorted(unknown))}")
    default_levels = "1,5" if args.quick else "1,10,25,50,100"
    levels = args.levels or default_levels
    args.levels = [] if levels == "none" else [int(n) for n in levels.split(",")]
    args.sequential = args.sequential or (2 if args.quick else 6)
    return args


def machine_line() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPUs, load average {load}, Python {sys.version.split()[0]}"


async def main_async(args: argparse.Namespace) -> int:
    from benchmarks.workers import bench_workers, table  # it imports this module

    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = OUT_DIR / stamp
    out.mkdir(parents=True, exist_ok=True)
    before = machine_line()
    print(f"Benchmark {stamp}: {before}", flush=True)
    stand_ins = StandInsProcess(out).start()
    results: dict[str, dict] = {}
    workers = None
    try:
        for bot in args.bots:
            results[bot] = await bench_bot(bot, stand_ins, args, out)
        if not args.no_workers:  # 1 worker vs --workers 2 with Redis (benchmarks/workers.py)
            print("\n== several workers ==", flush=True)
            calls = 20 if args.quick else 200
            workers = await bench_workers(out, [(1, calls), (2, calls)], stand_ins)
    finally:
        stand_ins.stop()
    after = machine_line()
    data = {
        "command": "python -m benchmarks.run " + " ".join(sys.argv[1:]),
        "machine_before": before,
        "machine_after": after,
        "results": results,
        "workers": workers,
    }
    (out / "results.json").write_text(json.dumps(data, indent=2))
    print(f"\nMachine: before {before}; after {after}")
    print("\n" + comparison_table(results))
    print("\n" + split_table(results))
    print(capacity_table(results))
    if workers:
        print("\nSeveral workers (a shared machine: indicative)\n" + table(workers["runs"]))
    print(f"\nFull results and server logs: {out.relative_to(ROOT)}/")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(main_async(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
