"""Real phone lines: the same scripted calls under each line condition, ours beside the baseline.

    python -m benchmarks.lines                       # every condition, 3 calls each
    python -m benchmarks.lines --calls 10 --conditions echo-20,echo-10,tracks-both

Each call hears the greeting, asks "Where is my order?" and hears the answer (the wordless
conditions also make a 0.5 s sound 0.4 s into the greeting and 0.5 s into the answer). The
line conditions come from simulator/line.py; the vendor stand-ins answer with realistic delays
(benchmarks/run.py's REALISTIC) in their own process. Per condition and bot it prints:

- self-interruptions: `clear`s while the caller made no sound at all (the bot cut by itself);
- self-replies: what the LLM was asked to answer that the caller never said (the bot's own
  words coming back, heard as the caller's), counted once per distinct text;
- wordless interruptions: `clear`s within 1 s of a cough, click or "hmm";
- greeting cut: calls whose greeting was cut before the caller asked anything;
- premature replies: the bot talking into the caller's question;
- missed replies: questions never answered;
- reply latency p50 / p95 (end of the question to the answer's first audio, as heard);
- CPU seconds per call of the bot's process, and for the barge-in conditions, how many of the
  caller's interruptions cleared the bot and the slowest (caller's first word to `clear`).

Nothing is asserted: these are measurements of this machine, now (tests/test_lines.py holds
the behaviour). JSON goes to out/benchmarks/lines-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from benchmarks.run import OUT_DIR, REALISTIC, BotProcess, StandInsProcess, machine_line
from exotel_bot.call.echo import words_of
from simulator.audio import write_wav
from simulator.caller import BargeIn, CallReport, Hangup, Say, WaitForBot, WaitForGreeting, run_call
from simulator.dialect import Dialect
from simulator.line import SOUNDS, LineConditions, wordless_sound
from simulator.load import percentile

BOTS = ("ours", "baseline")
# "ours+rnnoise": our bot with NOISE_FILTER=rnnoise (the default, krisp, is absent off Pipecat
# Cloud, so "ours" runs unfiltered here).
FILTERED = {"ours+rnnoise": ("ours", "rnnoise")}
QUESTION = "Where is my order?"
BARGE_IN = "Sorry, what was my order number?"
REPLY = "Your order one two three four is out for delivery and will reach you today before six."


@dataclass(frozen=True)
class Condition:
    name: str
    line: LineConditions | None = None
    sound: str | None = None  # a wordless sound during the greeting and during the reply
    barge_in: bool = False  # the caller talks over the answer (a real interruption)
    dialect: Dialect | None = None


CONDITIONS = {
    c.name: c
    for c in (
        Condition("clean"),
        Condition("echo-20", LineConditions(echo_db=-20, echo_delay=0.2)),
        Condition("echo-10", LineConditions(echo_db=-10, echo_delay=0.2)),
        Condition("echo-10-400ms", LineConditions(echo_db=-10, echo_delay=0.4)),
        Condition("tracks-both", LineConditions(both_tracks=True)),
        Condition("barge-in", barge_in=True),
        Condition("barge-in-echo-10", LineConditions(echo_db=-10, echo_delay=0.2), barge_in=True),
        *(Condition(sound, sound=sound) for sound in SOUNDS),
        Condition("babble-30", LineConditions(noise="babble", noise_dbfs=-30)),
        Condition("tv-30", LineConditions(noise="tv", noise_dbfs=-30)),
        Condition("street-30", LineConditions(noise="street", noise_dbfs=-30)),
        Condition("white-40", LineConditions(noise="white", noise_dbfs=-40)),
        Condition(
            "mulaw-jitter-echo-20",
            LineConditions(echo_db=-20, jitter_ms=60, burst_every=5),
            dialect=Dialect(encoding="audio/x-mulaw"),
        ),
    )
}


@dataclass
class Figures:
    calls: int = 0
    failed: int = 0
    self_interruptions: int = 0
    self_replies: int = 0
    wordless_interruptions: int = 0
    greeting_cut: int = 0
    premature: int = 0
    missed: int = 0
    cpu_seconds: float = 0.0  # the bot process's CPU over these calls
    latencies: list[float] = field(default_factory=list)
    barge_ins: list[float | None] = field(default_factory=list)  # caller start to `clear`, s

    def row(self) -> dict:
        return {
            **{k: v for k, v in self.__dict__.items() if k != "latencies"},
            "reply_p50": percentile(self.latencies, 50),
            "reply_p95": percentile(self.latencies, 95),
            "cpu_per_call": self.cpu_seconds / self.calls if self.calls else None,
            "barge_ins": len(self.barge_ins),
            "barge_ins_missed": sum(b is None for b in self.barge_ins),
            "barge_in_max": max((b for b in self.barge_ins if b is not None), default=None),
        }


def script(condition: Condition, sounds: dict[str, Path]) -> tuple[list, list[str]]:
    """The call's steps and what the Deepgram stand-in hears in each caller utterance."""
    if condition.barge_in:
        steps = [
            WaitForGreeting(),
            Say("order_status"),
            BargeIn("long_talk", after=0.8),
            WaitForBot(timeout=15),
            Hangup(),
        ]
        return steps, [QUESTION, BARGE_IN]
    if condition.sound is None:
        return [WaitForGreeting(), Say("order_status"), WaitForBot(timeout=15), Hangup()], [
            QUESTION
        ]
    # What Deepgram writes: "Hmm." for a hum, nothing for a cough; a click is no utterance.
    heard = {"hmm": ["Hmm."], "cough": [""]}.get(condition.sound, [])
    sound = sounds[condition.sound]
    steps = [
        BargeIn(sound, after=0.4),
        WaitForGreeting(),
        Say("order_status"),
        BargeIn(sound, after=0.5),
        WaitForBot(timeout=15),
        Hangup(),
    ]
    return steps, [*heard, QUESTION, *heard]


def _sound(barge_in, report: CallReport) -> bool:
    return report.replies[barge_in.reply - 1].audio in SOUNDS


def measure(report: CallReport, figures: Figures) -> None:
    figures.calls += 1
    figures.failed += not report.ok
    spans = [(r.speech_start, r.speech_end, r.audio) for r in report.replies if r.speech_start]
    for t in report.clears:
        near = [audio for a, b, audio in spans if a <= t <= b + 1.0]
        if not near:
            figures.self_interruptions += 1
        elif all(audio in SOUNDS for audio in near):
            figures.wordless_interruptions += 1
    figures.barge_ins += [
        b.latency for b in report.barge_ins if b.reply > 0 and not _sound(b, report)
    ]
    questions = [r for r in report.replies if r.audio not in SOUNDS and not r.barge_in]
    first_question = questions[0].speech_start if questions and questions[0].speech_start else None
    if first_question is not None and any(t < first_question for t in report.clears):
        figures.greeting_cut += 1
    for reply in questions:
        figures.premature += reply.premature
        if reply.first_audio is None:
            figures.missed += 1
        elif reply.latency is not None:
            figures.latencies.append(reply.latency)


def llm_inputs(stand_ins: StandInsProcess) -> list[str]:
    """The last user message of every chat request the LLM stand-in has had."""
    state = httpx.get(f"{stand_ins.url}/_control/state", timeout=5).json()
    inputs = []
    for request in state["openai"]["requests"]:
        last = (request.get("messages") or [{}])[-1]
        if last.get("role") == "user":
            inputs.append(str(last.get("content")))
    return inputs


def self_replies(inputs: list[str], transcripts: list[str]) -> int:
    """Distinct LLM inputs with words beyond what the caller said."""
    said = {w for line in transcripts for w in words_of(line)}
    return len({text for text in inputs if set(words_of(text)) - said})


def configure(stand_ins: StandInsProcess, transcripts: list[str]) -> None:
    """Realistic delays, this call's transcripts, and a reply long enough to echo."""
    stand_ins.configure(REALISTIC, transcripts)
    patch = {"llm": {"default_reply": REPLY}}
    httpx.post(f"{stand_ins.url}/_control/config", json=patch, timeout=5).raise_for_status()


async def bench(bot: str, conditions: list[Condition], calls: int, stand_ins, out, sounds):
    name, noise_filter = FILTERED.get(bot, (bot, "none"))
    server = BotProcess(name, out, {**stand_ins.env(), "NOISE_FILTER": noise_filter}).start()
    process = psutil.Process(server.pid)
    results = {}
    try:
        for condition in conditions:
            figures = Figures()
            cpu = process.cpu_times()
            for _ in range(calls):
                steps, transcripts = script(condition, sounds)
                configure(stand_ins, transcripts)
                asked_before = len(llm_inputs(stand_ins))
                report = await run_call(
                    server.ws_url, steps, line=condition.line, dialect=condition.dialect
                )
                measure(report, figures)
                server.wait_for_no_calls()
                asked = llm_inputs(stand_ins)[asked_before:]
                figures.self_replies += self_replies(asked, transcripts)
            after = process.cpu_times()
            figures.cpu_seconds = after.user + after.system - cpu.user - cpu.system
            results[condition.name] = figures.row()
            print(f"  {bot:9} {condition.name:22} {_line(results[condition.name])}", flush=True)
    finally:
        server.stop()
    return results


def _line(row: dict) -> str:
    p50, p95 = row["reply_p50"], row["reply_p95"]
    latency = "-" if p50 is None else f"{p50:.2f} / {p95:.2f} s"
    return (
        f"self-int {row['self_interruptions']}, self-replies {row['self_replies']}, "
        f"wordless {row['wordless_interruptions']}, greeting cut {row['greeting_cut']}, "
        f"premature {row['premature']}, missed {row['missed']}, reply {latency}"
        f", CPU {row['cpu_per_call']:.2f} s/call ({row['calls']} calls, {row['failed']} failed)"
        + (
            f", barge-ins missed {row['barge_ins_missed']}/{row['barge_ins']}, "
            f"slowest clear {_s(row['barge_in_max'])}"
            if row["barge_ins"]
            else ""
        )
    )


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def table(results: dict[str, dict]) -> str:
    lines = [
        "| condition | bot | self-interruptions | self-replies | wordless interruptions "
        "| greeting cut | premature | missed | reply p50 / p95 | CPU s/call "
        "| barge-ins cleared (slowest) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    names = list(dict.fromkeys(c for bot in results.values() for c in bot))
    for name in names:
        for bot, rows in results.items():
            r = rows.get(name)
            if r is None:
                continue
            p50, p95 = r["reply_p50"], r["reply_p95"]
            latency = "-" if p50 is None else f"{p50:.2f} / {p95:.2f} s"
            lines.append(
                f"| {name} ({r['calls']} calls) | {bot} | {r['self_interruptions']} "
                f"| {r['self_replies']} | {r['wordless_interruptions']} | {r['greeting_cut']} "
                f"| {r['premature']} | {r['missed']} | {latency} | {r['cpu_per_call']:.2f} "
                f"| {_barge(r)} |"
            )
    return "\n".join(lines)


def _barge(row: dict) -> str:
    if not row["barge_ins"]:
        return "-"
    cleared = row["barge_ins"] - row["barge_ins_missed"]
    return f"{cleared}/{row['barge_ins']} ({_s(row['barge_in_max'])})"


async def main_async(args: argparse.Namespace) -> int:
    out = OUT_DIR
    out.mkdir(parents=True, exist_ok=True)
    before = machine_line()
    print(f"Line conditions: {before}", flush=True)
    conditions = [CONDITIONS[name] for name in args.conditions]
    results: dict[str, dict] = {}
    stand_ins = StandInsProcess(out).start()
    with tempfile.TemporaryDirectory() as tmp:
        sounds = {
            k: write_wav(Path(tmp) / f"{k}.wav", wordless_sound(k, 8000), 8000) for k in SOUNDS
        }
        try:
            for bot in args.bots:
                results[bot] = await bench(bot, conditions, args.calls, stand_ins, out, sounds)
        finally:
            stand_ins.stop()
    after = machine_line()
    path = out / f"lines-{time.strftime('%Y%m%d-%H%M%S')}.json"
    data = {"command": " ".join(sys.argv), "before": before, "after": after, "results": results}
    path.write_text(json.dumps(data, indent=2))
    print(f"\nMachine: before {before}; after {after}\n")
    print(table(results))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.lines", description=__doc__.split("\n")[0]
    )
    p.add_argument("--calls", type=int, default=3, help="calls per condition and bot (3)")
    p.add_argument("--conditions", default=",".join(CONDITIONS), help="comma-separated names")
    p.add_argument("--bots", default=",".join(BOTS), help="ours, baseline, ours+rnnoise")
    args = p.parse_args(argv)
    args.conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    unknown = set(args.conditions) - set(CONDITIONS)
    if unknown:
        p.error(
            f"unknown condition(s): {', '.join(sorted(unknown))}; known: {', '.join(CONDITIONS)}"
        )
    args.bots = [b.strip() for b in args.bots.split(",") if b.strip()]
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
