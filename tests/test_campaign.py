"""Campaigns: 200 contacts dialled through a real server.py and the Exotel REST stand-in, which
ends every call by itself with the outcome chosen per number. The stand-in's request log shows
the rate and concurrency limits held and the retries made; the campaign process is killed
(SIGKILL) mid-run, restarted, stopped with --stop and resumed, and nobody is dialled twice."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from exotel_bot.outbound.campaign import CallingHours, read_contacts
from simulator.standins.exotel_rest import ExotelRestStandIn
from tests.conftest import ROOT

DIALOUT_TOKEN = "dialout-sentinel-campaign-9f3d"
CONTACTS = 200
RATE, PER, CONCURRENCY, RETRIES = 50, 1, 12, 1


def number(i: int) -> str:
    return f"+91981{i:07d}"


def first_outcome(i: int) -> str:
    """Every 10th contact is busy at first, every 20th never answers, the rest pick up."""
    return "no-answer" if i % 20 == 3 else "busy" if i % 10 == 7 else "completed"


def expected_attempts(i: int) -> int:
    return 1 if first_outcome(i) == "completed" else 1 + RETRIES


@pytest.fixture(scope="module")
def exotel_api():
    stand_in = ExotelRestStandIn(api_token="exotel-token-sentinel-campaign").start()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="module")
def server(server_factory, exotel_api):
    return server_factory(
        DIALOUT_TOKEN=DIALOUT_TOKEN, PUBLIC_URL="http://127.0.0.1:1", **exotel_api.env()
    )


def contacts_csv(folder: Path) -> Path:
    path = folder / "contacts.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["number", "name", "order", "timezone"])
        for i in range(CONTACTS):
            writer.writerow([number(i), f"Contact {i}", f"A-{i}", "Asia/Kolkata"])
    return path


def start_campaign(contacts: Path, server, env: dict[str, str], *extra: str) -> subprocess.Popen:
    args = [
        *("--rate", str(RATE), "--per", str(PER), "--concurrency", str(CONCURRENCY)),
        *("--retries", str(RETRIES), "--retry-delay", "0.3", "--poll", "0.05"),
        *("--hours", "00:00-23:59:59", "--server", server.http_url),
    ]
    return subprocess.Popen(
        [sys.executable, "-m", "exotel_bot.outbound", "campaign", str(contacts), *args, *extra],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "DIALOUT_TOKEN": DIALOUT_TOKEN, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    most, first = 0, 0
    for last, t in enumerate(times):
        while t - times[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


@pytest.mark.parametrize("backend", ["redis", "file"])
def test_a_campaign_survives_a_kill_and_a_stop_and_dials_nobody_twice(
    backend, exotel_api, redis_server, server, tmp_path
):
    exotel_api.reset()
    outcomes = {number(i): i for i in range(CONTACTS)}
    exotel_api.auto_status(
        lambda n, attempt: (
            first_outcome(outcomes[n]) if attempt == 1 or outcomes[n] % 20 == 3 else "completed"
        ),
        ring_secs=0.2,
        rewrite=lambda url: url.replace("http://127.0.0.1:1", server.http_url),
    )
    env = {"REDIS_URL": redis_server.url, "REDIS_KEY_PREFIX": f"test-{backend}:"}
    env = env if backend == "redis" else {}
    contacts = contacts_csv(tmp_path)
    runs: list[int] = []  # the request count when each run ended

    # A first run, killed outright mid-campaign.
    first = start_campaign(contacts, server, env)
    wait_until(lambda: len(exotel_api.requests) >= 60)
    first.kill()
    first.wait(10)
    runs.append(len(exotel_api.requests))

    # A second run resumes; it is asked to stop (another process) and stops.
    second = start_campaign(contacts, server, env)
    wait_until(lambda: len(exotel_api.requests) >= runs[0] + 60)
    stop = start_campaign(contacts, server, env, "--stop")
    assert stop.wait(30) == 0, stop.stderr.read()
    assert second.wait(30) == 0, second.stderr.read()
    runs.append(len(exotel_api.requests))
    stopped = list(csv.DictReader((tmp_path / "contacts-results.csv").open()))
    assert any(row["status"] != "done" for row in stopped)  # stopped before the end

    # A third run finishes the campaign.
    third = start_campaign(contacts, server, env)
    assert third.wait(120) == 0, third.stderr.read()
    runs.append(len(exotel_api.requests))

    results = list(csv.DictReader((tmp_path / "contacts-results.csv").open()))
    assert len(results) == CONTACTS
    requests = [r for r in exotel_api.requests if r.status == 200]
    dialled: dict[str, int] = {}
    for request in requests:
        dialled[request.fields["From"]] = dialled.get(request.fields["From"], 0) + 1
    unknown = {row["number"] for row in results if row["outcome"] == "unknown"}
    assert len(unknown) <= 1  # at most the one being dialled when the run was killed
    for i, row in enumerate(results):
        n = number(i)
        assert row["number"] == n and row["status"] == "done"
        # Nobody is dialled more often than the retries allow: never twice for one attempt.
        assert dialled.get(n, 0) <= expected_attempts(i), n
        if n in unknown:
            continue
        assert dialled[n] == expected_attempts(i) == int(row["attempts"]), n
        final = "no-answer" if first_outcome(i) == "no-answer" else "completed"
        assert row["outcome"] == final, row
        assert row["call_sid"] and Path(row["record_path"]).is_file(), row
        if final == "completed":
            assert row["duration_secs"] == "3.0"

    # The limits, measured from the stand-in's log: each run kept to RATE requests in any
    # PER-second window, and never had more than CONCURRENCY calls live at once.
    start = 0
    for end in runs:
        run_times = [r.at for r in exotel_api.requests[start:end]]
        assert most_in_any_window(run_times, PER) <= RATE
        start = end
    assert 0 < exotel_api.max_in_progress <= CONCURRENCY
    assert all(code == 200 for _, status, code in exotel_api.status_posts)


def test_calling_hours_are_the_callees():
    hours = CallingHours.parse("09:00-21:00")
    now = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)  # 07:30 in Kolkata, 18:00 in Los Angeles
    kolkata, los_angeles = ZoneInfo("Asia/Kolkata"), ZoneInfo("America/Los_Angeles")
    assert hours.next_open(now, los_angeles) == now
    opens = hours.next_open(now, kolkata)
    assert opens.astimezone(kolkata).isoformat() == "2026-01-05T09:00:00+05:30"
    late = datetime(2026, 1, 5, 16, 0, tzinfo=UTC)  # 21:30 in Kolkata: tomorrow morning
    assert hours.next_open(late, kolkata).astimezone(kolkata).day == 6
    with pytest.raises(ValueError, match="09:00-21:00"):
        CallingHours.parse("9 to 5")


def test_contacts_need_a_number_column(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,order\nAsha,A-1\n")
    with pytest.raises(ValueError, match="'number' column"):
        read_contacts(bad)
    good = tmp_path / "good.csv"
    good.write_text("Number,Name,Order,Timezone\n09812345678,Asha,A-1,Asia/Kolkata\nxyz,Ravi,,\n")
    asha, ravi = read_contacts(good)
    assert asha.number == "+919812345678" and asha.context == {"name": "Asha", "order": "A-1"}
    assert ravi.number == ""  # kept, reported as invalid-number in the results
