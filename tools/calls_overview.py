"""Many calls at a glance: one HTML page over a folder of call records, with real charts.

    python -m tools.call_report calls/            # writes calls/index.html
    python -m tools.calls_overview calls/ -o overview.html

The page shows calls per outcome (the first field of the outcome bot.py declares, "unknown"
where the LLM could not tell), how calls ended, how long they lasted, the reply latency p50 and
p90 per day, the slowest replies, and every call linked to its own report (written beside its
record.json). Charts are drawn with matplotlib as SVG inside the page: one self-contained file,
no scripts, no network. Needs matplotlib (requirements-dev.txt); the bot does not.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections import Counter, defaultdict
from html import escape
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display needed
import matplotlib.pyplot as plt  # noqa: E402

from tools.call_report import (  # noqa: E402
    ReportError,
    collect,
    load_audio,
    ms,
    page,
    percentile,
    render_call,
    replies,
    secs,
    tile,
)

BLUE, ORANGE, TEAL, GREY = "#2563eb", "#ea580c", "#0d9488", "#94a3b8"
SLOWEST = 10
plt.rcParams.update({"svg.fonttype": "none", "font.size": 10, "axes.spines.top": False})
plt.rcParams["axes.spines.right"] = False


def svg(fig) -> str:
    """The figure as an inline <svg> element."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def outcome_label(record: dict[str, Any]) -> str:
    """The call's outcome in one word: its first declared field, or "unknown"."""
    outcome = record.get("outcome") or {}
    if outcome.get("status") != "filled":
        return "unknown" if outcome else "not judged"
    fields = outcome.get("fields") or {}
    first = next(iter(fields.values()), None)
    return str(first) if first is not None else "unknown"


def bar_chart(counts: Counter, title: str, color: str) -> str:
    items = counts.most_common()
    fig, ax = plt.subplots(figsize=(5.2, 0.45 * len(items) + 1.0))
    labels = [str(k).replace("_", " ") for k, _ in items][::-1]
    values = [v for _, v in items][::-1]
    bars = ax.barh(labels, values, color=color)
    ax.bar_label(bars, padding=3)
    ax.set_title(title, loc="left", fontweight="bold")
    ax.set_xlabel("calls")
    return svg(fig)


def duration_chart(durations: list[float]) -> str:
    fig, ax = plt.subplots(figsize=(5.2, 3.0))
    ax.hist(durations, bins=min(20, max(5, len(durations) // 3)), color=TEAL, edgecolor="white")
    ax.set_title("How long calls lasted", loc="left", fontweight="bold")
    ax.set_xlabel("seconds")
    ax.set_ylabel("calls")
    return svg(fig)


DayRow = tuple[str, int, float, float]


def latency_by_day(records: list[dict[str, Any]]) -> tuple[str, list[DayRow]]:
    """The p50/p90 chart of reply latency per day, and its rows (day, replies, p50, p90)."""
    per_day: dict[str, list[float]] = defaultdict(list)
    for record in records:
        day = str(record.get("started_at", ""))[:10] or "?"
        per_day[day] += [r["latency"]["total"] for r in replies(record)]
    rows = [
        (day, len(v), percentile(v, 50), percentile(v, 90))
        for day, v in sorted(per_day.items())
        if v
    ]
    fig, ax = plt.subplots(figsize=(10.6, 3.2))
    days = [r[0] for r in rows]
    ax.plot(days, [r[2] * 1000 for r in rows], marker="o", color=BLUE, label="p50")
    ax.plot(days, [r[3] * 1000 for r in rows], marker="o", color=ORANGE, label="p90")
    ax.set_title("Reply latency per day", loc="left", fontweight="bold")
    ax.set_ylabel("ms, caller stops → bot audio")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    ax.grid(axis="y", color="#e2e8f0")
    return svg(fig), rows


def call_link(path: Path, root: Path) -> str:
    return (path.parent / "report.html").relative_to(root).as_posix()


def render_overview(found: list[tuple[Path, dict]], root: Path) -> str:
    """The page for every record in `found` (paths under `root`)."""
    records = [r for _, r in found]
    durations = [float(r.get("duration_secs") or 0) for r in records]
    all_replies = [x["latency"]["total"] for r in records for x in replies(r)]
    outcomes = Counter(outcome_label(r) for r in records)
    ends = Counter(str((r.get("end") or {}).get("reason", "unknown")) for r in records)
    latency_svg, day_rows = latency_by_day(records)
    tiles = "".join(
        [
            tile(str(len(records)), "calls"),
            tile(secs(percentile(durations, 50)), "median length"),
            tile(ms(percentile(all_replies, 50)), "reply p50"),
            tile(ms(percentile(all_replies, 90)), "reply p90"),
            tile(str(outcomes.get("unknown", 0)), "outcome unknown"),
        ]
    )
    slow = sorted(
        ((x["latency"]["total"], path, r, x) for path, r in found for x in replies(r)),
        key=lambda item: -item[0],
    )[:SLOWEST]
    slow_rows = "".join(
        f"<tr><td class='num'>{ms(total)}</td><td><a href='{escape(call_link(path, root))}'>"
        f"{escape(str(r.get('call_sid', '')))}</a></td><td class='num'>{secs(x.get('start'))}</td>"
        f"<td>{escape(str(x.get('text', ''))[:90])}</td></tr>"
        for total, path, r, x in slow
    )
    call_rows = "".join(
        f"<tr><td><a href='{escape(call_link(path, root))}'>"
        f"{escape(str(r.get('call_sid', '')))}</a></td>"
        f"<td>{escape(str(r.get('started_at', ''))[:19])}</td>"
        f"<td class='num'>{secs(r.get('duration_secs'))}</td>"
        f"<td>{escape(str((r.get('end') or {}).get('reason', '')))}</td>"
        f"<td>{escape(outcome_label(r))}</td>"
        f"<td>{escape(str((r.get('outcome') or {}).get('summary') or ''))}</td></tr>"
        for path, r in sorted(found, key=lambda f: str(f[1].get("started_at", "")), reverse=True)
    )
    day_table = "".join(
        f"<tr><td>{day}</td><td class='num'>{n}</td><td class='num'>{ms(p50)}</td>"
        f"<td class='num'>{ms(p90)}</td></tr>"
        for day, n, p50, p90 in day_rows
    )
    body = (
        f"<h1>Calls: {escape(str(root))}</h1><div class='tiles'>{tiles}</div>"
        "<div class='charts'>"
        f"<figure>{bar_chart(outcomes, 'Calls per outcome', BLUE)}</figure>"
        f"<figure>{bar_chart(ends, 'How calls ended', ORANGE)}</figure>"
        f"<figure>{duration_chart(durations)}</figure></div>"
        f"<figure>{latency_svg}</figure>"
        "<table><tr><th>day</th><th class='num'>replies</th><th class='num'>p50</th>"
        f"<th class='num'>p90</th></tr>{day_table}</table>"
        f"<h2>The {SLOWEST} slowest replies</h2><table><tr><th class='num'>wait</th>"
        f"<th>call</th><th class='num'>at</th><th>bot said</th></tr>{slow_rows}</table>"
        "<h2>Every call</h2><table><tr><th>call</th><th>started (UTC)</th>"
        "<th class='num'>length</th><th>ended</th><th>outcome</th><th>summary</th></tr>"
        f"{call_rows}</table>"
        "<style>.charts{display:flex;flex-wrap:wrap;gap:8px}figure{margin:8px 0}"
        "svg{max-width:100%;height:auto}</style>"
    )
    return page(f"Calls: {root}", body)


def write_overview(folder: Path, output: Path | None = None) -> Path:
    """Write the overview of `folder` (and each call's own report); return the page's path."""
    found = collect(folder)
    if not found:
        raise ReportError(f"{folder}: no record.json found")
    for path, record in found:
        (path.parent / "report.html").write_text(
            render_call(record, load_audio(record, path)), encoding="utf-8"
        )
    output = output or folder / "index.html"
    output.write_text(render_overview(found, folder), encoding="utf-8")
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.calls_overview", description=__doc__)
    parser.add_argument("folder", type=Path, help="a folder of call records (CALL_RECORDS_DIR)")
    parser.add_argument("-o", "--output", type=Path, help="default: FOLDER/index.html")
    args = parser.parse_args(argv)
    try:
        output = write_overview(args.folder, args.output)
    except (ReportError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"Overview: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
