"""Deploy files: pcc-deploy.toml loads with the CLI's loader; the image has what bot.py needs.

The build context is packed exactly as `pipecat cloud deploy` packs it (pipecatcloud's own
`get_exclusions` and `create_deterministic_tarball`), and a call is taken by the files that
context holds, laid out as the Dockerfile's COPY lines lay them out in the image.
"""

from __future__ import annotations

import ast
import io
import re
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

from simulator.caller import Dtmf, Hangup, WaitForBot, WaitForGreeting, run_call
from tests.conftest import ROOT, SECRET_KEYS, BotServer, spoken
from tests.test_vendor_failures import first_bot_audio, vendor_failures_logged


def test_pcc_deploy_toml_loads_with_the_cli_loader(monkeypatch):
    monkeypatch.setattr("pipecatcloud.cli.config.deploy_config_path", str(ROOT / "pcc-deploy.toml"))
    from pipecatcloud._utils.deploy_utils import load_deploy_config_file

    config = load_deploy_config_file()
    assert config is not None
    assert config.agent_name == "exotel-bot"
    assert re.fullmatch(r"[a-z0-9-]{1,54}", config.agent_name)
    assert config.secret_set
    # Exotel gives up after 10 s; a cold start takes about that long.
    assert config.scaling.min_agents >= 1
    assert config.image is None  # built from the Dockerfile by `pipecat cloud deploy`


def local_modules_imported_by(path) -> set[str]:
    """Top-level names of this repository's own modules that `path` imports."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return {n for n in names if (ROOT / f"{n}.py").exists() or (ROOT / n / "__init__.py").exists()}


def test_dockerfile_copies_everything_bot_imports():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM dailyco/pipecat-base", dockerfile, re.M)
    copied = set(re.findall(r"^COPY\s+\./(\S+)\s", dockerfile, re.M))
    copied = {c.removesuffix(".py").rstrip("/") for c in copied}
    needed = local_modules_imported_by(ROOT / "bot.py")
    assert needed, "bot.py imports no local module? the check would be empty"
    # ... and what those packages import from the repository, too.
    for package in list(needed):
        for source in (ROOT / package).rglob("*.py") if (ROOT / package).is_dir() else []:
            needed |= local_modules_imported_by(source)
    assert needed <= copied, f"Dockerfile does not copy {needed - copied}"
    assert "requirements.txt" in copied or "requirements" in copied


def test_requirements_allow_the_pipecat_releases_the_suite_proved():
    """A compatible range (1.14 patch releases: docs/pipecat-internals.md lists what they
    must keep), and the pipecat this suite runs on is inside it."""
    from importlib.metadata import version

    from packaging.specifiers import SpecifierSet

    requirements = (ROOT / "requirements.txt").read_text()
    line = "pipecat-ai[silero,deepgram,openai,cartesia,sarvam,websocket,rnnoise]>=1.14,<1.15"
    assert line in requirements
    assert version("pipecat-ai") in SpecifierSet(">=1.14,<1.15")


def readme_cloud_commands() -> list[list[str]]:
    """The `pipecat cloud ...` commands the README's deploy steps run (their words, no values)."""
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^pipecat cloud ([a-z ]+?)(?:\s+[\w-]+\s+--|\s*(?:#|$))", readme, re.M)
    return [c.split() for c in commands]


def test_the_readme_deploy_commands_exist_in_pipecat_cloud():
    """`pipecat cloud X` is pipecatcloud's CLI (pipecat-ai[cli] only adds the `pipecat` front,
    see requirements-deploy.txt): each command the README runs is one of its commands."""
    from pipecatcloud.cli.entry_point import entrypoint_cli_typer
    from typer.testing import CliRunner

    commands = readme_cloud_commands()
    assert ["deploy"] in commands and ["secrets", "set"] in commands
    for command in commands:
        result = CliRunner().invoke(entrypoint_cli_typer, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)


def test_the_deploy_requirements_pin_what_the_tests_use():
    deploy = (ROOT / "requirements-deploy.txt").read_text()
    dev = (ROOT / "requirements-dev.txt").read_text()
    pin = re.search(r"^pipecatcloud==\S+", dev, re.M).group(0)
    assert pin in deploy and "pipecat-ai[cli]>=1.14,<1.15" in deploy
    assert "pipecat-ai[cli]" not in dev  # the large cli extra stays out of the test install


def test_pcc_deploy_turns_on_krisp_for_phone_lines(monkeypatch):
    monkeypatch.setattr("pipecatcloud.cli.config.deploy_config_path", str(ROOT / "pcc-deploy.toml"))
    from pipecatcloud._utils.deploy_utils import load_deploy_config_file

    assert load_deploy_config_file().krisp_viva.audio_filter == "tel"  # the telephony model


# --- The cloud build context --------------------------------------------------------------------


def unpack_cloud_build_context(into: Path) -> Path:
    """The repository's build context, packed by pipecatcloud's own functions (what
    `pipecat cloud deploy` uploads), unpacked into `into`/context."""
    from pipecatcloud._utils.build_utils import create_deterministic_tarball, get_exclusions

    context = create_deterministic_tarball(str(ROOT), get_exclusions(ROOT))
    target = into / "context"
    with tarfile.open(fileobj=io.BytesIO(context.tarball), mode="r:gz") as tar:
        tar.extractall(target, filter="data")
    return target


def image_from_context(context: Path, into: Path) -> Path:
    """The app folder the Dockerfile builds from `context`: each `COPY ./src dest` done."""
    app = into / "app"
    app.mkdir()
    for source, dest in re.findall(r"^COPY\s+\./(\S+)\s+(\S+)", DOCKERFILE, re.M):
        origin = context / source
        assert origin.exists(), f"the Dockerfile copies {source}, which the build context lacks"
        if origin.is_dir():
            shutil.copytree(origin, app / dest)
        else:
            shutil.copy2(origin, app / dest)
    return app


DOCKERFILE = (ROOT / "Dockerfile").read_text()


def files_bot_reads() -> list[str]:
    """Every file of the repository bot() imports or opens at run time: bot.py, phrases.py and
    everything in exotel_bot/ (its code and the recorded apologies in exotel_bot/assets/)."""
    files = ["bot.py", "phrases.py"]
    for path in sorted((ROOT / "exotel_bot").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files.append(str(path.relative_to(ROOT)))
    return files


def test_dockerignore_has_no_exceptions_pipecat_cloud_would_ignore():
    """pipecatcloud reads `!pattern` as one more pattern to leave out, not as an exception."""
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    assert not [line for line in lines if line.startswith("!")]


def test_the_cloud_build_context_holds_every_file_bot_reads(tmp_path):
    context = unpack_cloud_build_context(tmp_path)
    needed = files_bot_reads()
    assert any(name.endswith(".wav") for name in needed)  # the recorded apologies
    missing = [name for name in needed if not (context / name).is_file()]
    assert not missing, f"pipecat cloud deploy would not upload {missing}"
    app = image_from_context(context, tmp_path)
    missing = [name for name in needed if not (app / name).is_file()]
    assert not missing, f"the image would lack {missing}"
    # ... and nothing secret or local goes up.
    packed = {str(p.relative_to(context)) for p in context.rglob("*")}
    assert not [p for p in packed if Path(p).name == ".env" or p.split("/")[0] in ("calls", "out")]
    assert not [p for p in packed if "__pycache__" in p]


@pytest.fixture(scope="module")
def server_from_the_cloud_build(stand_ins, tmp_path_factory):
    """server.py (standing in for the base image's runner) beside what the image holds."""
    tmp = tmp_path_factory.mktemp("cloud-build")
    context = unpack_cloud_build_context(tmp)
    app = image_from_context(context, tmp)
    shutil.copy2(context / "server.py", app / "server.py")
    env = {
        **SECRET_KEYS,
        **stand_ins.env(),
        "LOG_LEVEL": "DEBUG",
        "CALL_RECORDS_DIR": str(tmp / "calls"),
    }
    server = BotServer(env, tmp / "server.log", cwd=app)
    server.env.pop("PYTHONPATH", None)  # only the image's files
    server.start()
    yield server
    server.stop()


async def test_the_cloud_build_plays_the_recorded_apology_when_the_tts_is_down(
    server_from_the_cloud_build, stand_ins, tmp_path
):
    """tests/test_vendor_failures.py's TTS-down call, taken by the files the cloud would run."""
    from exotel_bot.call.fallback import recorded_apology

    server = server_from_the_cloud_build
    stand_ins.config.tts.fail_mode, stand_ins.config.tts.fail_count = "error", 1  # the greeting
    recording = tmp_path / "call.wav"
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Dtmf("5#"), WaitForBot(), Hangup()],
        record_path=recording,
    )
    assert report.ok and not report.warnings, report.summary()
    apology = np.frombuffer(recorded_apology("en", 8000), dtype="<i2")
    voiced = apology[int(np.flatnonzero(apology)[0]) :]
    assert np.array_equal(first_bot_audio(recording, 8000, len(voiced)), voiced)
    assert any("typed on the keypad: 5" in text for text in spoken(stand_ins))
    [line] = vendor_failures_logged(server, report.call_sid)
    assert "pre-recorded apology" in line


def test_pcc_deploy_caps_agents_and_the_docs_say_the_same(monkeypatch):
    monkeypatch.setattr("pipecatcloud.cli.config.deploy_config_path", str(ROOT / "pcc-deploy.toml"))
    from pipecatcloud._utils.deploy_utils import load_deploy_config_file

    scaling = load_deploy_config_file().scaling  # the CLI's own checks (max >= min >= 0) ran
    assert scaling.max_agents is not None and scaling.max_agents >= scaling.min_agents >= 1
    scaling_md = (ROOT / "docs" / "scaling.md").read_text()
    assert f"max_agents = {scaling.max_agents}" in scaling_md


def test_one_capacity_figure_per_worker_everywhere():
    """CALLS_PER_WORKER's default, env.example and docs/scaling.md's measured figure agree."""
    from exotel_bot.settings import CALLS_PER_WORKER, Settings

    assert Settings.model_fields["calls_per_worker"].default == CALLS_PER_WORKER
    example = (ROOT / "env.example").read_text()
    assert f"# CALLS_PER_WORKER={CALLS_PER_WORKER}\n" in example
    assert f"({CALLS_PER_WORKER} x 1 for one" in example
    scaling_md = (ROOT / "docs" / "scaling.md").read_text()
    figures = set(re.findall(r"\*\*CALLS_PER_WORKER = (\d+)\*\*", scaling_md))
    assert figures == {str(CALLS_PER_WORKER)}
    assert f"default {CALLS_PER_WORKER}," in scaling_md
