"""The docs speak to users: no word about how the project was made, no pointer to nothing.

Checked: README.md, CONTRIBUTING.md, env.example, docs/*.md, and the messages in the code a
user runs (its string constants: log lines, errors, help texts) plus its comments' pointers.
A pointer is a Markdown link (a file, a `#section` in it), a file path in backticks, or a
README section named in quotes; each must lead somewhere.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

# How the project was made, not how to use it.
MAKING = [
    (r"\bissues? #?\d+", "an issue number"),
    (r"\bflock\b", "the build machine's lock"),
    (r"(?<![\w.])/work/|(?<![\w.])/tmp/", "a machine path"),
    (r"\bengineers?\b", "the people who made it"),
    (r"\bthese machines\b|\bour build machine\b", "the build machine"),
    (r"\binputs? [1-9](\.\.[1-9])?\b(?!\s*(?:k?Hz|ms|s\b|seconds?|bytes?))", "an input number"),
    (r"\b(?:no longer|used to (?!\w+ the)|previously|was fixed|now fixed|fixed in)\b", "a change"),
    (r"\bbefore (?:the )?(?:fix|change)\b", "a change"),
]

USER_DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "env.example"]
USER_DOCS += sorted(ROOT.glob("docs/*.md"))


# Folders that hold no code of the template's own (in a copy without git, too).
NOT_OURS = {"tests", ".git", ".venv", "venv", "out", "calls", "__pycache__", ".pytest_cache"}


def user_code() -> list[Path]:
    """The code a user runs (not the tests): its messages are docs too."""
    return [
        path
        for path in sorted(ROOT.rglob("*.py"))
        if not NOT_OURS & set(path.relative_to(ROOT).parts)
    ]


def strings_of(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string constant in a Python file (f-strings' literal parts too)."""
    tree = ast.parse(path.read_text())
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def making_words(text: str) -> list[str]:
    return [
        f"{why}: {m.group(0)!r}"
        for pattern, why in MAKING
        for m in re.finditer(pattern, text, re.IGNORECASE)
    ]


@pytest.mark.parametrize("path", USER_DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_user_docs_say_nothing_of_how_the_project_was_made(path):
    found = [
        f"line {n}: {word}"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        for word in making_words(line)
    ]
    assert not found, found


def test_code_messages_say_nothing_of_how_the_project_was_made():
    found = [
        f"{path.relative_to(ROOT)}:{n}: {word}"
        for path in user_code()
        for n, text in strings_of(path)
        for word in making_words(text)
    ]
    assert not found, found


# --- Pointers --------------------------------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[`*_\[\]()]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def headings(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return [m.group(1) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*$", text, re.M)]


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
BACKTICKED_PATH = re.compile(r"`([\w.-]+(?:/[\w.-]+)*\.(?:py|md|toml|txt|wav|png|example))`")
README_SECTION = re.compile(r"README(?:'s)?\s+[\"“']([^\"”']+)[\"”']")
# Files the bot or a command writes at run time (not in the repository).
WRITTEN = ("calls/", "out/", "record.json", "recording.wav", "report.html", ".env")
# Files of installed packages a comment points into.
INSTALLED = ("pipecat/", "pipecatcloud/")


def dangling(path: Path, text: str) -> list[str]:
    bad = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            bad.append(f"link to missing {target}")
        elif anchor and dest.suffix == ".md" and anchor not in map(slug, headings(dest)):
            bad.append(f"link to missing section {target}")
    for name in BACKTICKED_PATH.findall(text):
        if name.startswith(WRITTEN) or name in WRITTEN:
            continue
        if name.startswith(INSTALLED):
            continue
        # From the top, or (in the code) from the file's own package up.
        bases = [ROOT] if path.suffix == ".md" else [ROOT, *path.parent.parents, path.parent]
        exists = (
            any((base / name).exists() for base in bases if ROOT in (base, *base.parents))
            if "/" in name
            else any(ROOT.glob(f"**/{name}"))
        )
        if not exists:
            bad.append(f"no file {name}")
    readme_sections = [h.lower() for h in headings(ROOT / "README.md")]
    for section in README_SECTION.findall(text):
        if section.lower() not in readme_sections:
            bad.append(f"no README section {section!r}")
    return bad


@pytest.mark.parametrize("path", USER_DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_user_docs_point_only_at_what_exists(path):
    bad = dangling(path, path.read_text())
    assert not bad, bad


def test_code_points_only_at_what_exists():
    files = [*user_code(), ROOT / "pcc-deploy.toml", ROOT / "Dockerfile", ROOT / ".dockerignore"]
    bad = [f"{p.relative_to(ROOT)}: {b}" for p in files for b in dangling(p, p.read_text())]
    assert not bad, bad


def test_the_readme_lists_every_doc_page_once():
    table = re.findall(r"^\| \[(docs/[\w-]+\.md)\]", (ROOT / "README.md").read_text(), re.M)
    pages = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("docs/*.md"))
    assert sorted(table) == pages


def test_the_checks_catch_what_they_look_for(tmp_path):
    """Each rule fires on an example of its kind (so a green run means something)."""
    for text in (
        "Fixed in issue 14.",
        "Run it under flock /work/bench.lock",
        "other engineers' tests",
        "Docker does not run on these machines",
        "camelCase (input 1)",
        "This no longer breaks.",
    ):
        assert making_words(text), text
    page = tmp_path / "page.md"
    page.write_text("# Title\n")
    assert dangling(page, "[a](missing.md)")
    assert dangling(page, "[a](page.md#nowhere)")
    assert not dangling(page, "[a](page.md#title)")
    assert dangling(page, "see `records/sinks.py`")
    assert dangling(page, 'see README "Call control"')
    assert not dangling(page, "see `exotel_bot/records/sinks.py`, `sinks.py`")
