"""Deploy files: pcc-deploy.toml loads with the CLI's loader; the image has what bot.py needs."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys

from tests.conftest import ROOT


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


def test_the_deploy_command_is_installed():
    """README's deploy steps use `pipecat cloud ...`: pipecat-ai[cli] gives `pipecat`, and
    pipecatcloud adds its `cloud` commands (both in requirements-dev.txt)."""
    pipecat = shutil.which("pipecat", path=os.path.dirname(sys.executable))
    assert pipecat, "no `pipecat` command beside this Python: install pipecat-ai[cli]"
    result = subprocess.run(
        [pipecat, "cloud", "deploy", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "deploy" in result.stdout.lower()


def test_pcc_deploy_turns_on_krisp_for_phone_lines(monkeypatch):
    monkeypatch.setattr("pipecatcloud.cli.config.deploy_config_path", str(ROOT / "pcc-deploy.toml"))
    from pipecatcloud._utils.deploy_utils import load_deploy_config_file

    assert load_deploy_config_file().krisp_viva.audio_filter == "tel"  # the telephony model
