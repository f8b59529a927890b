"""The HTTP side in process (the fast layer): server.py's app through FastAPI's TestClient,
its settings and stores handed in. The same routes through a real server.py:
test_wire_callbacks.py, test_outbound.py, test_scaling.py."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from exotel_bot.settings import read_settings
from server import build_app


@pytest.fixture
def client(monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://bot.example.com")
    settings = read_settings(require_keys=False)
    with TestClient(build_app(calls=False, settings=settings)) as client:
        yield client


def test_health_answers_for_the_control_plane(client):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["role"] == "control"
    assert health["store"] == "memory" and health["active_calls"] == 0


def test_the_dynamic_voicebot_url_points_at_this_host(client):
    answer = client.get("/exotel/voicebot-url", params={"CallSid": "CA1", "CallFrom": "x"})
    assert answer.status_code == 200
    assert answer.json()["url"] == "wss://bot.example.com/ws"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_passthru_connects_an_agent_only_after_a_transfer(client, method):
    def ask(call_sid: str):
        if method == "GET":
            return client.get("/exotel/passthru", params={"CallSid": call_sid})
        return client.post("/exotel/passthru", data={"CallSid": call_sid})

    stores = client.app.state.stores
    asyncio.run(stores.transfers.set("CA-transfer", "transfer"))
    agent = ask("CA-transfer")
    assert (agent.status_code, agent.text) == (200, "transfer")
    hang_up = client.get("/exotel/passthru", params={"CallSid": "CA-other"}, follow_redirects=False)
    assert hang_up.status_code == 302


def test_a_callback_too_large_is_refused_not_a_500(client):
    answer = client.post("/exotel/passthru", content=b"x" * (2 * 1024 * 1024))
    assert answer.status_code == 413


def test_dialout_is_off_without_its_token(client):
    answer = client.post("/dialout", json={"to": "+919812345678"})
    assert answer.status_code == 404, answer.text  # no DIALOUT_TOKEN: no such route
