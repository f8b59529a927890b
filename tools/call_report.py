"""Turn call records into pages people can read: one call, or a summary of many.

    python -m tools.call_report calls/CA123/record.json -o report.html
    python -m tools.call_report --summary calls/ -o summary.html
    python -m tools.call_report calls/      # a folder of records: the charts page (calls_overview)

A call's page shows both sides' waveforms (when the call was recorded), the turns on one
timeline with the wait before each reply, each reply's latency split into its parts, and the
transcript. The summary gives p50/p95 of each latency part across every reply of every call.
Pages are self-contained HTML with inline SVG: no scripts, no network, open them anywhere.
Only the standard library and numpy; the bot does not need this at run time.
"""

from __future__ import annotations

import argparse
import json
import sys
import wave
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np

# The parts of each reply's wait, in the order they happen; they add up to the total.
PARTS = ("vad", "stt", "turn", "llm", "tts", "other")
# The services' own time-to-first-byte figures (they may overlap the parts above).
METRICS = ("stt_ttfb", "llm_ttfb", "tts_ttfb")
PART_LABELS = {
    "vad": "VAD: silence until it says the caller stopped",
    "stt": "waiting for the final transcript",
    "turn": "turn decision: waiting for more words",
    "llm": "LLM: until its first token",
    "tts": "TTS: until its first audio",
    "other": "other: sentence aggregation, pipeline",
}
COLORS = {
    "caller": "#2563eb",
    "bot": "#ea580c",
    "vad": "#94a3b8",
    "stt": "#7c3aed",
    "turn": "#475569",
    "llm": "#0d9488",
    "tts": "#d97706",
    "other": "#cbd5e1",
    "cut": "#dc2626",
}
WIDTH = 1100
LEFT = 70  # room for row labels
ONE_ROW_MAX_SECS = 45  # longer calls are drawn in rows of ROW_SECS
ROW_SECS = 30


class ReportError(Exception):
    """The input is not a call record we can read; the message says why."""


@dataclass
class Audio:
    """A call's stereo recording: caller left, bot right."""

    rate: int
    caller: np.ndarray
    bot: np.ndarray


# --- Reading ----------------------------------------------------------------------------------


def find_record(path: Path) -> Path:
    """`record.json` itself, or the folder that holds it."""
    if path.is_dir():
        path = path / "record.json"
    if not path.is_file():
        raise ReportError(f"{path}: no such call record")
    return path


def load_record(path: Path) -> dict:
    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ReportError(f"{path}: not a readable call record ({e})") from None
    if not isinstance(record, dict) or not isinstance(record.get("turns"), list):
        raise ReportError(f"{path}: not a call record (no turns)")
    return record


def load_audio(record: dict, record_path: Path) -> Audio | None:
    """The recording next to the record, if the call was recorded and the file is there."""
    info = record.get("recording")
    if not isinstance(info, dict):
        return None
    wav_path = record_path.parent / str(info.get("file", "recording.wav"))
    try:
        with wave.open(str(wav_path), "rb") as wav:
            channels, rate = wav.getnchannels(), wav.getframerate()
            frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    except (OSError, wave.Error, EOFError):
        return None
    if channels != 2:
        return None
    frames = frames.reshape(-1, 2)
    return Audio(rate, frames[:, 0], frames[:, 1])


def replies(record: dict) -> list[dict]:
    """The bot turns that answered a caller turn, with their latency."""
    return [
        t
        for t in record["turns"]
        if isinstance(t.get("latency"), dict) and t.get("reply_to") is not None
    ]


# --- Formatting helpers -----------------------------------------------------------------------


def secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.0f} ms"


def clock(value: float | None) -> str:
    if value is None:
        return "–"
    minutes, seconds = divmod(value, 60)
    return f"{int(minutes)}:{seconds:04.1f}"


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#0f172a;
margin:24px auto;max-width:1140px;padding:0 16px;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.sub{color:#475569}.tiles{display:flex;gap:10px;flex-wrap:wrap;margin:14px 0}
.tile{border:1px solid #e2e8f0;border-radius:8px;padding:8px 12px;min-width:120px}
.tile b{display:block;font-size:18px}.tile span{color:#64748b;font-size:12px}
table{border-collapse:collapse;width:100%}td,th{padding:5px 8px;border-bottom:1px solid #e2e8f0;
text-align:left;vertical-align:top}th{color:#475569;font-weight:600;font-size:12px}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.caller{color:#2563eb;font-weight:600}.bot{color:#ea580c;font-weight:600}
.tag{font-size:11px;border-radius:4px;padding:1px 5px;margin-left:4px;white-space:nowrap}
.cut{background:#fee2e2;color:#b91c1c}.barge{background:#dbeafe;color:#1d4ed8}
.event{color:#64748b;font-style:italic}.error{color:#b91c1c}
.legend span{display:inline-block;margin-right:14px;font-size:12px;color:#334155}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:4px;
vertical-align:-2px}svg text{font-family:inherit}
"""


def page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def tile(value: str, label: str) -> str:
    return f"<div class='tile'><b>{escape(value)}</b><span>{escape(label)}</span></div>"


def legend(keys: list[str]) -> str:
    items = "".join(
        f"<span><i style='background:{COLORS[k]}'></i>{escape(PART_LABELS.get(k, k))}</span>"
        for k in keys
    )
    return f"<div class='legend'>{items}</div>"


# --- One call ---------------------------------------------------------------------------------


def envelope(samples: np.ndarray, rate: int, start: float, end: float, columns: int):
    """Min and max of the samples in each of `columns` slices of [start, end), in [-1, 1]."""
    first, last = int(start * rate), int(end * rate)
    part = samples[first : min(last, len(samples))].astype(np.float32) / 32768.0
    edges = np.linspace(0, last - first, columns + 1).astype(int)
    lows, highs = np.zeros(columns), np.zeros(columns)
    for i in range(columns):
        chunk = part[edges[i] : edges[i + 1]]
        if len(chunk):
            lows[i], highs[i] = chunk.min(), chunk.max()
    return lows, highs


def waveform_path(lows, highs, x0: float, width: float, y_mid: float, half: float) -> str:
    """An SVG path outlining the waveform's envelope (peaks scaled to the lane height)."""
    peak = max(float(np.max(np.abs(highs))), float(np.max(np.abs(lows))), 1e-3)
    xs = x0 + np.arange(len(highs)) * width / max(1, len(highs))
    top = [f"{x:.1f},{y_mid - h / peak * half:.1f}" for x, h in zip(xs, highs, strict=True)]
    bottom = [f"{x:.1f},{y_mid - lo / peak * half:.1f}" for x, lo in zip(xs, lows, strict=True)]
    return "M" + " L".join(top + bottom[::-1]) + " Z"


def waits(record: dict) -> list[tuple[float, float, str]]:
    """(from, to, label) of each wait: call start to greeting, caller's end to each reply."""
    found = []
    greeting = record.get("greeting_latency_secs")
    if greeting:
        found.append((0.0, float(greeting), f"greeting {secs(greeting)}"))
    by_index = {t["index"]: t for t in record["turns"]}
    for reply in replies(record):
        asked = by_index.get(reply.get("reply_to"))
        if asked is not None:
            total = reply["latency"].get("total")
            found.append((float(asked["end"]), float(reply["start"]), secs(total)))
    return found


def timeline(record: dict, audio: Audio | None) -> str:
    """The call on a time axis: waveforms, turns, and the wait before each reply."""
    duration = max(float(record.get("duration_secs") or 0), 0.1)
    row_secs = duration if duration <= ONE_ROW_MAX_SECS else ROW_SECS
    rows = int(np.ceil(duration / row_secs - 1e-9))
    lane = 46 if audio is not None else 22
    row_height = 2 * lane + 76
    plot = WIDTH - LEFT - 10
    svg = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{rows * row_height}' "
        f"viewBox='0 0 {WIDTH} {rows * row_height}' role='img' aria-label='call timeline'>"
    ]
    for row in range(rows):
        start, end = row * row_secs, min(duration, (row + 1) * row_secs)
        top = row * row_height + 8
        width = plot * (end - start) / row_secs

        def x(t, start=start):
            return LEFT + (t - start) / row_secs * plot

        caller_mid, bot_mid = top + lane / 2, top + lane * 1.5 + 6
        for label, mid, color in (("Caller", caller_mid, "caller"), ("Bot", bot_mid, "bot")):
            svg.append(
                f"<text x='4' y='{mid + 4:.1f}' font-size='12' fill='{COLORS[color]}' "
                f"font-weight='600'>{label}</text>"
                f"<line x1='{LEFT}' x2='{LEFT + width:.1f}' y1='{mid:.1f}' y2='{mid:.1f}' "
                "stroke='#e2e8f0'/>"
            )
        for turn in record["turns"]:
            t0, t1 = float(turn["start"]), float(turn.get("end") or turn["start"])
            if t1 < start or t0 > end:
                continue
            mid = caller_mid if turn["speaker"] == "caller" else bot_mid
            x0, x1 = x(max(t0, start)), x(min(t1, end))
            color = COLORS["caller" if turn["speaker"] == "caller" else "bot"]
            svg.append(
                f"<rect x='{x0:.1f}' y='{mid - lane / 2:.1f}' width='{max(1.0, x1 - x0):.1f}' "
                f"height='{lane}' rx='3' fill='{color}' fill-opacity='0.12'>"
                f"<title>{escape(turn['speaker'])} {clock(t0)}–{clock(t1)}: "
                f"{escape(turn.get('text') or '')}</title></rect>"
            )
            if turn.get("interrupted") and start <= t1 <= end:
                svg.append(
                    f"<line x1='{x1:.1f}' x2='{x1:.1f}' y1='{mid - lane / 2 - 3:.1f}' "
                    f"y2='{mid + lane / 2 + 3:.1f}' stroke='{COLORS['cut']}' stroke-width='2'/>"
                    f"<text x='{x1 + 3:.1f}' y='{mid - lane / 2 + 9:.1f}' font-size='10' "
                    f"fill='{COLORS['cut']}'>cut off</text>"
                )
        if audio is not None:
            columns = max(2, int(width))
            for samples, mid, color in (
                (audio.caller, caller_mid, "caller"),
                (audio.bot, bot_mid, "bot"),
            ):
                lows, highs = envelope(samples, audio.rate, start, end, columns)
                if np.any(highs != lows):
                    path = waveform_path(lows, highs, LEFT, width, mid, lane / 2 - 2)
                    svg.append(f"<path d='{path}' fill='{COLORS[color]}' fill-opacity='0.75'/>")
        for t0, t1, label in waits(record):
            if t1 < start or t0 > end:
                continue
            x0, x1 = x(max(t0, start)), x(min(t1, end))
            y = bot_mid + lane / 2 + 14
            svg.append(
                f"<line x1='{x0:.1f}' x2='{x1:.1f}' y1='{y:.1f}' y2='{y:.1f}' stroke='#0f172a' "
                f"stroke-width='1.5'/><line x1='{x0:.1f}' x2='{x0:.1f}' y1='{caller_mid:.1f}' "
                f"y2='{y + 3:.1f}' stroke='#0f172a' stroke-dasharray='2 2'/>"
                f"<line x1='{x1:.1f}' x2='{x1:.1f}' y1='{bot_mid:.1f}' y2='{y + 3:.1f}' "
                f"stroke='#0f172a' stroke-dasharray='2 2'/>"
                f"<text x='{(x0 + x1) / 2:.1f}' y='{y + 14:.1f}' font-size='11' "
                f"text-anchor='middle' font-weight='600'>{escape(label)}</text>"
            )
        axis_y = top + 2 * lane + 48
        step = 1 if row_secs <= 12 else 2 if row_secs <= 30 else 5
        for tick in np.arange(np.ceil(start / step) * step, end + 1e-9, step):
            svg.append(
                f"<line x1='{x(tick):.1f}' x2='{x(tick):.1f}' y1='{axis_y - 4:.1f}' "
                f"y2='{axis_y:.1f}' stroke='#94a3b8'/><text x='{x(tick):.1f}' "
                f"y='{axis_y + 11:.1f}' font-size='10' fill='#64748b' "
                f"text-anchor='middle'>{int(tick) // 60}:{int(tick) % 60:02d}</text>"
            )
    svg.append("</svg>")
    return "".join(svg)


def latency_bars(record: dict) -> str:
    """One stacked bar per reply: where the wait between the caller and the bot went."""
    rows = replies(record)
    if not rows:
        return "<p class='sub'>No replies to a caller turn in this call.</p>"
    longest = max(float(r["latency"].get("total") or 0) for r in rows) or 1.0
    label_w, bar_w, row_h = 150, WIDTH - 150 - 90, 34
    svg = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{len(rows) * row_h + 6}' "
        "role='img' aria-label='latency per reply'>"
    ]
    for i, reply in enumerate(rows):
        latency = reply["latency"]
        y = i * row_h + 4
        svg.append(
            f"<text x='0' y='{y + 15}' font-size='12'>Reply at {clock(reply['start'])}</text>"
        )
        x = float(label_w)
        for part in PARTS:
            value = latency.get(part)
            if not value:
                continue
            w = value / longest * bar_w
            svg.append(
                f"<rect x='{x:.1f}' y='{y}' width='{w:.1f}' height='18' fill='{COLORS[part]}'>"
                f"<title>{escape(PART_LABELS[part])}: {ms(value)}</title></rect>"
            )
            if w > 44:
                svg.append(
                    f"<text x='{x + w / 2:.1f}' y='{y + 13}' font-size='10' fill='#fff' "
                    f"text-anchor='middle'>{ms(value)}</text>"
                )
            x += w
        svg.append(
            f"<text x='{x + 6:.1f}' y='{y + 14}' font-size='12' font-weight='600'>"
            f"{secs(latency.get('total'))}</text>"
        )
    svg.append("</svg>")
    return "".join(svg)


def latency_table(record: dict) -> str:
    columns = ("total", *PARTS, *METRICS)
    head = "".join(f"<th class='num'>{c.replace('_', ' ')}</th>" for c in columns)
    body = []
    for reply in replies(record):
        latency = reply["latency"]
        cells = "".join(f"<td class='num'>{ms(latency.get(c))}</td>" for c in columns)
        cut = "<span class='tag cut'>cut off</span>" if reply.get("interrupted") else ""
        body.append(f"<tr class='reply'><td>{clock(reply['start'])}{cut}</td>{cells}</tr>")
    return f"<table class='latency'><tr><th>reply</th>{head}</tr>{''.join(body)}</table>"


def transcript(record: dict) -> str:
    """Turns, tool calls, keypad presses and errors, in the order they happened."""
    rows: list[tuple[float, str]] = []
    for turn in record["turns"]:
        who = "Caller" if turn["speaker"] == "caller" else "Bot"
        tags = ""
        if turn.get("barge_in"):
            tags += "<span class='tag barge'>barged in</span>"
        if turn.get("interrupted"):
            tags += "<span class='tag cut'>cut off</span>"
        latency = turn.get("latency") or {}
        text = escape(turn.get("text") or "") or "<span class='event'>(no text)</span>"
        rows.append(
            (
                float(turn["start"]),
                f"<tr><td class='num'>{clock(turn['start'])}</td>"
                f"<td class='{turn['speaker']}'>{who}{tags}</td><td>{text}</td>"
                f"<td class='num'>{secs(latency.get('total')) if latency else ''}</td></tr>",
            )
        )
    for event in record.get("events", []):
        rows.append(
            (
                float(event["at"]),
                f"<tr><td class='num'>{clock(event['at'])}</td><td class='event'>"
                f"{escape(event['kind'])}</td><td class='event' colspan='2'>"
                f"{escape(event['detail'])}</td></tr>",
            )
        )
    for error in record.get("errors", []):
        rows.append(
            (
                float(error["at"]),
                f"<tr><td class='num'>{clock(error['at'])}</td><td class='error'>error</td>"
                f"<td class='error' colspan='2'>{escape(error.get('source', ''))}: "
                f"{escape(error['error'])}</td></tr>",
            )
        )
    rows.sort(key=lambda row: row[0])
    head = "<tr><th class='num'>time</th><th>who</th><th>said</th><th class='num'>waited</th></tr>"
    return f"<table class='transcript'>{head}{''.join(r for _, r in rows)}</table>"


def render_call(record: dict, audio: Audio | None) -> str:
    """The HTML page for one call."""
    totals = [r["latency"]["total"] for r in replies(record) if r["latency"].get("total")]
    end = record.get("end") or {}
    usage = record.get("usage") or {}
    ended = str(end.get("reason", "unknown")).replace("_", " ")
    if end.get("detail"):
        ended += f" ({end['detail']})"
    title = f"Call {record.get('call_sid', '?')}"
    sub = (
        f"{escape(str(record.get('from', '')))} → {escape(str(record.get('to', '')))} · "
        f"{escape(str(record.get('direction', '')))} · "
        f"{escape(str(record.get('started_at', '')))} · {secs(record.get('duration_secs'))} · "
        f"ended: {escape(ended)}"
    )
    tiles = "".join(
        [
            tile(str(len(totals)), "replies"),
            tile(secs(percentile(totals, 50)), "reply latency p50"),
            tile(secs(max(totals) if totals else None), "slowest reply"),
            tile(secs(record.get("greeting_latency_secs")), "greeting latency"),
            tile(
                str(usage.get("llm_prompt_tokens", 0) + usage.get("llm_completion_tokens", 0)),
                "LLM tokens",
            ),
            tile(str(usage.get("tts_characters", 0)), "TTS characters"),
            tile(str(len(record.get("errors", []))), "errors"),
        ]
    )
    recorded = (
        ""
        if audio is not None
        else (
            "<p class='sub'>No recording for this call "
            "(set RECORD_AUDIO=true to see waveforms).</p>"
        )
    )
    body = (
        f"<h1>{escape(title)}</h1><div class='sub'>{sub}</div><div class='tiles'>{tiles}</div>"
        f"<h2>Timeline</h2>{recorded}{timeline(record, audio)}"
        "<p class='sub'>Each bracket is a wait: from the call's start to the greeting, and from "
        "the moment the caller stopped speaking to the bot's first audio. A red line marks a "
        "bot turn the caller cut off.</p>"
        f"<h2>Where the time went, per reply</h2>{legend(list(PARTS))}"
        f"{latency_bars(record)}"
        "<p class='sub'>The parts follow the wait from the moment the caller stopped speaking "
        "to the bot's first audio; the services' own time to first byte (ttfb) is in the "
        "table: a speculative LLM run can start before the turn is decided.</p>"
        f"{latency_table(record)}"
        f"{after_call(record)}<h2>Transcript</h2>{transcript(record)}"
    )
    return page(title, body)


def after_call(record: dict) -> str:
    """The outcome bot.py declares, the hand-off of a transfer, and the webhook's delivery."""
    parts = []
    outcome = record.get("outcome")
    if outcome:
        rows = "".join(
            f"<tr><td>{escape(str(k))}</td>"
            f"<td>{escape(json.dumps(v, ensure_ascii=False))}</td></tr>"
            for k, v in (outcome.get("fields") or {}).items()
        )
        said = outcome.get("summary") or f"unknown: {outcome.get('reason', '')}"
        parts.append(f"<h2>Outcome</h2><p>{escape(str(said))}</p><table>{rows}</table>")
    handoff = record.get("handoff")
    if handoff:
        parts.append(
            f"<h2>Hand-off to {escape(str(handoff.get('department') or 'a person'))}</h2>"
            f"<p>{escape(str(handoff.get('summary') or handoff.get('reason') or ''))}</p>"
        )
    webhook = record.get("webhook")
    if webhook:
        status = f"{webhook.get('status')} after {webhook.get('attempts', 0)} attempt(s)"
        error = f": {webhook['error']}" if webhook.get("error") else ""
        parts.append(f"<p class='sub'>Webhook: {escape(status + error)}</p>")
    return "".join(parts)


# --- Many calls -------------------------------------------------------------------------------


def collect(folder: Path) -> list[tuple[Path, dict]]:
    """Every readable record under `folder`; unreadable ones are reported and skipped."""
    found = []
    for path in sorted(folder.rglob("record.json")):
        try:
            found.append((path, load_record(path)))
        except ReportError as e:
            print(f"skipping {e}", file=sys.stderr)
    return found


def summary_stats(records: list[dict]) -> dict[str, dict[str, float | int | None]]:
    """p50/p95/max of every latency part over every reply of every call."""
    values: dict[str, list[float]] = {p: [] for p in ("total", *PARTS, *METRICS)}
    for record in records:
        for reply in replies(record):
            for part, bucket in values.items():
                value = reply["latency"].get(part)
                if value is not None:
                    bucket.append(float(value))
    greetings = [r["greeting_latency_secs"] for r in records if r.get("greeting_latency_secs")]
    values["greeting"] = [float(g) for g in greetings]
    return {
        part: {
            "count": len(bucket),
            "p50": percentile(bucket, 50),
            "p95": percentile(bucket, 95),
            "max": max(bucket) if bucket else None,
        }
        for part, bucket in values.items()
    }


def render_summary(found: list[tuple[Path, dict]], folder: Path) -> str:
    records = [record for _, record in found]
    stats = summary_stats(records)
    reasons: dict[str, int] = {}
    for record in records:
        reason = str((record.get("end") or {}).get("reason", "unknown"))
        reasons[reason] = reasons.get(reason, 0) + 1
    rows = "".join(
        f"<tr><td>{escape(part)}</td><td class='num'>{s['count']}</td>"
        f"<td class='num'>{ms(s['p50'])}</td><td class='num'>{ms(s['p95'])}</td>"
        f"<td class='num'>{ms(s['max'])}</td></tr>"
        for part, s in stats.items()
    )
    calls = "".join(
        f"<tr><td>{escape(str(r.get('call_sid', '')))}</td>"
        f"<td>{escape(str(r.get('started_at', '')))}</td>"
        f"<td class='num'>{secs(r.get('duration_secs'))}</td>"
        f"<td>{escape(str((r.get('end') or {}).get('reason', '')))}</td>"
        f"<td class='num'>{len(replies(r))}</td>"
        f"<td class='num'>{secs(percentile([x['latency']['total'] for x in replies(r)], 50))}"
        f"</td><td class='num'>{len(r.get('errors', []))}</td>"
        f"<td>{escape(str(path.parent))}</td></tr>"
        for path, r in found
    )
    tiles = tile(str(len(records)), "calls") + "".join(
        tile(str(n), reason.replace("_", " ")) for reason, n in sorted(reasons.items())
    )
    body = (
        f"<h1>Call records: {escape(str(folder))}</h1><div class='tiles'>{tiles}</div>"
        "<h2>Latency across all replies</h2><table><tr><th>part</th><th class='num'>replies</th>"
        "<th class='num'>p50</th><th class='num'>p95</th><th class='num'>max</th></tr>"
        f"{rows}</table><h2>Calls</h2><table><tr><th>call</th><th>started</th>"
        "<th class='num'>duration</th><th>ended</th><th class='num'>replies</th>"
        "<th class='num'>p50</th><th class='num'>errors</th><th>folder</th></tr>"
        f"{calls}</table>"
    )
    return page(f"Call records: {folder}", body)


def summary_text(stats: dict) -> str:
    lines = [f"{'part':<12}{'count':>7}{'p50':>10}{'p95':>10}{'max':>10}"]
    for part, s in stats.items():
        lines.append(
            f"{part:<12}{s['count']:>7}{ms(s['p50']):>10}{ms(s['p95']):>10}{ms(s['max']):>10}"
        )
    return "\n".join(lines)


# --- Command line -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.call_report", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "path",
        type=Path,
        help="a record.json (or its folder); with --summary, a folder of call records",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="HTML file to write (default: "
        "report.html next to the record, or summary.html in the folder)",
    )
    parser.add_argument("--summary", action="store_true", help="summarise every record under PATH")
    args = parser.parse_args(argv)
    try:
        if args.path.is_dir() and not (args.path / "record.json").exists() and not args.summary:
            from tools.calls_overview import write_overview  # needs matplotlib

            output = write_overview(args.path, args.output)
            print(f"Overview: {output}")
            return 0
        if args.summary:
            if not args.path.is_dir():
                raise ReportError(f"{args.path}: not a folder of call records")
            found = collect(args.path)
            if not found:
                raise ReportError(f"{args.path}: no record.json found")
            html = render_summary(found, args.path)
            output = args.output or args.path / "summary.html"
            print(summary_text(summary_stats([r for _, r in found])))
        else:
            record_path = find_record(args.path)
            record = load_record(record_path)
            html = render_call(record, load_audio(record, record_path))
            output = args.output or record_path.parent / "report.html"
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(html, encoding="utf-8")
    except ReportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: could not write the report: {e}", file=sys.stderr)
        return 2
    print(f"Report: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
