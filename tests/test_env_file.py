"""The `.env` a user makes from env.example works the same locally and on Pipecat Cloud.

`pipecat cloud secrets set NAME --file .env` reads the file with its own rules (pipecatcloud's
`secrets set` command): a trailing `# comment` stays part of the value, and an empty value
stops the whole upload. The bot reads `.env` with python-dotenv. Both must read the same
settings from env.example as a user fills it in, and from every `.env` line the docs show.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
from pathlib import Path

import pytest
import typer
from dotenv import dotenv_values

from exotel_bot.settings import Settings
from tests.conftest import ROOT

ASSIGNMENT = re.compile(r"^#\s?([A-Z][A-Z0-9_]*)=(.*)$")
# A line of a code block that is one `.env` line: KEY=value, perhaps a trailing comment.
ENV_LINE = re.compile(r"^\s*([A-Z][A-Z0-9_]*)=(\S*)\s*(#.*)?$")


class Parsed(Exception):
    def __init__(self, secrets: dict[str, str]):
        self.secrets = secrets


def pipecat_cloud_reads(path: Path, monkeypatch) -> dict[str, str]:
    """What `pipecat cloud secrets set exotel-bot-secrets --file PATH` would upload: the
    command's own code runs up to its own validation, then stops before the network."""
    from pipecatcloud.cli.commands import secrets as command

    validate = command.validate_secrets

    def validate_then_stop(secrets: dict) -> None:
        validate(secrets)  # pipecatcloud's own checks (names, empty values)
        raise Parsed(dict(secrets))

    monkeypatch.setattr(command, "validate_secrets", validate_then_stop)
    create_set = inspect.unwrap(command.create_set)  # past the login check
    try:
        asyncio.run(
            create_set(
                name="exotel-bot-secrets",
                secrets=None,
                from_file=str(path),
                skip_confirm=True,
                organization="acme",
                region=None,
            )
        )
    except Parsed as parsed:
        return parsed.secrets
    except typer.Exit as exit_:
        message = f"pipecat cloud secrets set refuses {path}: exit {exit_.exit_code}"
        raise AssertionError(message) from None
    raise AssertionError("pipecat cloud secrets set read nothing")


def filled_in(example: str) -> str:
    """env.example as a user fills it in: every key and secret uncommented with one pasted,
    every other setting that shows a value uncommented as shown (the rest left commented)."""
    lines = []
    for line in example.splitlines():
        match = ASSIGNMENT.match(line)
        if match and match.group(1).endswith(("_API_KEY", "_SECRET")):
            line = f"{match.group(1)}=key-{match.group(1).lower()}-0123456789"
        elif match and match.group(2).strip():
            line = line.removeprefix("#").lstrip()
        lines.append(line)
    return "\n".join(lines) + "\n"


def settings_from(values: dict[str, str], monkeypatch) -> dict:
    for name in list(os.environ):
        if name.upper() in {*values, *(n.upper() for n in Settings.model_fields)}:
            monkeypatch.delenv(name, raising=False)
    with monkeypatch.context() as m:
        for name, value in values.items():
            m.setenv(name, value)
        return Settings().model_dump()


def test_env_example_copied_unchanged_is_accepted_by_pipecat_cloud(tmp_path, monkeypatch):
    """Nothing uncommented is empty: the copy uploads (it only lacks the keys)."""
    example = (ROOT / "env.example").read_text()
    empty = [line for line in example.splitlines() if re.match(r"^[A-Z][A-Z0-9_]*=\s*$", line)]
    assert not empty, f"empty values stop `pipecat cloud secrets set`: {empty}"
    copy = tmp_path / ".env"
    copy.write_text(example + "OPENAI_API_KEY=sk-test\n")  # at least one secret to upload
    assert pipecat_cloud_reads(copy, monkeypatch) == {"OPENAI_API_KEY": "sk-test"}


def test_env_example_filled_in_reads_the_same_on_pipecat_cloud_and_locally(tmp_path, monkeypatch):
    env = tmp_path / ".env"
    env.write_text(filled_in((ROOT / "env.example").read_text()))
    cloud = pipecat_cloud_reads(env, monkeypatch)
    local = dotenv_values(env)
    assert len(cloud) > 30  # the defaults shown in env.example, uncommented
    assert cloud == local, {k: (cloud.get(k), local.get(k)) for k in cloud.keys() | local.keys()}
    assert settings_from(cloud, monkeypatch) == settings_from(local, monkeypatch)


def env_lines_in_docs() -> list[tuple[str, str]]:
    """(file, line) for every `.env` line in a code block of the README, CONTRIBUTING, docs/."""
    found = []
    for path in [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted(ROOT.glob("docs/*.md"))]:
        in_code = False
        for line in path.read_text().splitlines():
            if line.strip().startswith("```"):
                in_code = not in_code
            elif in_code and ENV_LINE.match(line):
                found.append((path.name, line.strip()))
    return found


def test_the_docs_show_env_lines():
    assert len(env_lines_in_docs()) >= 5  # docs/languages.md and docs/outbound.md show some


@pytest.mark.parametrize(("page", "line"), env_lines_in_docs())
def test_every_env_line_the_docs_show_reads_the_same_on_pipecat_cloud(
    page, line, tmp_path, monkeypatch
):
    env = tmp_path / ".env"
    env.write_text(line + "\n")
    assert pipecat_cloud_reads(env, monkeypatch) == dotenv_values(env), (page, line)


def test_a_mistyped_name_in_env_is_named_with_the_setting_it_is_close_to(tmp_path):
    """A start with `.env` holding DEEPGRAM_APIKEY says which setting was meant; names of other
    tools' settings, and every name env.example uses, pass without a word."""
    import subprocess
    import sys

    from exotel_bot.settings import misspelled_names, setting_names

    example = tmp_path / "example.env"
    example.write_text(filled_in((ROOT / "env.example").read_text()))
    assert misspelled_names(str(example)) == []

    env = tmp_path / ".env"
    env.write_text(
        "DEEPGRAM_APIKEY=dg-123\nOPENAI_API_KEY=sk-test\nHF_TOKEN=x\nSILENCE_TIMEOUT=5\n"
    )
    code = "from exotel_bot.settings import load_settings; load_settings(require_keys=False)"
    ours = setting_names()
    clean = {k: v for k, v in os.environ.items() if k.upper() not in ours}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**clean, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "DEEPGRAM_APIKEY is not a setting and is ignored; did you mean DEEPGRAM_API_KEY?" in (
        result.stderr
    )
    assert (
        "SILENCE_TIMEOUT is not a setting and is ignored; did you mean SILENCE_TIMEOUT_SECS?"
        in (result.stderr)
    )
    assert "HF_TOKEN" not in result.stderr and "OPENAI_API_KEY is not" not in result.stderr
