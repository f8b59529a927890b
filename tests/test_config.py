"""Settings: clear errors that name the variable, and no secret value in any message."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from exotel_bot.settings import ConfigError, read_settings
from tests.conftest import ROOT, SECRET_KEYS, free_port


@pytest.fixture
def env(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("DEEPGRAM_", "OPENAI_", "CARTESIA_", "EXOTEL_", "BOT_")):
            monkeypatch.delenv(name)
    for name, value in SECRET_KEYS.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_defaults(env):
    settings = read_settings()
    assert settings.deepgram_model == "nova-3"
    assert settings.audio_chunk_ms == 200
    assert settings.openai_base_url is None
    assert set(settings.secrets()) == set(SECRET_KEYS.values())


def test_missing_keys_are_named(env):
    env.delenv("OPENAI_API_KEY")
    env.setenv("CARTESIA_API_KEY", "   ")
    with pytest.raises(ConfigError) as error:
        read_settings()
    message = str(error.value)
    assert "OPENAI_API_KEY" in message and "CARTESIA_API_KEY" in message
    assert "DEEPGRAM_API_KEY" not in message
    assert "env.example" in message


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("OPENAI_BASE_URL", "localhost:8000/v1", "OPENAI_BASE_URL"),
        ("CARTESIA_WS_URL", "https://api.cartesia.ai/tts", "CARTESIA_WS_URL"),
        ("DEEPGRAM_BASE_URL", "ftp://x", "DEEPGRAM_BASE_URL"),
        ("EXOTEL_AUDIO_CHUNK_MS", "150", "multiple of 20"),
        ("EXOTEL_AUDIO_CHUNK_MS", "lots", "whole number"),
        # Nonsense durations and counts are refused at start, not met mid-call.
        ("SILENCE_TIMEOUT_SECS", "-1", "SILENCE_TIMEOUT_SECS=-1 must be a positive number"),
        ("SILENCE_TIMEOUT_SECS", "0", "SILENCE_TIMEOUT_SECS=0 must be a positive number"),
        ("SILENCE_TIMEOUT_SECS", "nan", "SILENCE_TIMEOUT_SECS=nan must be"),
        ("LLM_TIMEOUT_SECS", "inf", "LLM_TIMEOUT_SECS=inf must be"),
        ("DTMF_TIMEOUT_SECS", "-0.5", "DTMF_TIMEOUT_SECS"),
        ("MAX_CALL_SECS", "-5", "MAX_CALL_SECS=-5 must be 0 or"),
        ("SILENCE_CHECK_INS", "-1", "SILENCE_CHECK_INS=-1"),
        ("PORT", "70000", "PORT=70000"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL='LOUD' must be one of"),
    ],
)
def test_bad_values_are_explained(env, name, value, expected):
    env.setenv(name, value)
    with pytest.raises(ConfigError, match=expected):
        read_settings()


@pytest.mark.parametrize(
    "placeholder",
    [
        "...",
        "xxxx",
        "<your key>",
        "your-openai-key",
        "change-me",
        "YOUR_KEY",
        "sk-...",
        "paste-here",
    ],
)
def test_a_placeholder_key_is_refused_at_start(env, placeholder):
    """Caught without any network: a key that is visibly not a key."""
    env.setenv("OPENAI_API_KEY", placeholder)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY still holds a placeholder"):
        read_settings()


@pytest.mark.parametrize("word", ["off", "none", "OFF"])
def test_off_turns_off_what_an_empty_value_turns_off(env, word):
    """`pipecat cloud secrets set` refuses an empty value: `off` says the same."""
    env.setenv("TRANSFER_DIGIT", word)
    env.setenv("CALL_RECORDS_DIR", word)
    settings = read_settings()
    assert settings.transfer_digit == "" and settings.call_records_dir == ""


def test_settings_repr_hides_keys(env):
    text = repr(read_settings())
    for value in SECRET_KEYS.values():
        assert value not in text


def test_server_without_keys_fails_fast(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env["PORT"] = str(free_port())
    # Run from an empty folder's .env: a developer's own .env must not leak into this test.
    result = subprocess.run(
        [sys.executable, str(ROOT / "server.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Missing DEEPGRAM_API_KEY, OPENAI_API_KEY, CARTESIA_API_KEY" in result.stderr
    assert "Traceback" not in result.stderr
