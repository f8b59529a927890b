"""A user's first edits keep the suite green: a copy of the template with its greeting, prompt
and one phrase rewritten runs the tests that exercise them, and passes.

The edits are the ones README's "Make it yours" points at: `system_prompt()` in bot.py and the
English table in phrases.py (the greeting and the silence check-in).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from tests.conftest import ROOT

# The tests that hear the greeting, read the prompt and the check-in.
TESTS = [
    "tests/test_call.py::test_caller_details_reach_greeting_and_prompt",
    "tests/test_call_control.py::test_silence_check_ins_then_hang_up",
    "tests/test_records.py::test_transcript_has_every_turn_in_order",
    "tests/test_outbound.py::test_an_inbound_call_is_still_greeted_as_inbound",
]

EDITS = {
    "bot.py": [
        (
            "You are a friendly, efficient phone assistant for Acme Store. ",
            "You are Zed Bank's voice assistant; be brief and warm. ",
        )
    ],
    "phrases.py": [
        (
            '"{hello}! Thanks for calling Acme Store. How can I help you today?"',
            '"{hello}, welcome to Zed Bank. What brings you here today?"',
        ),
        ('check_in="Are you still there?"', 'check_in="Hello? Can you hear me?"'),
    ],
}


def _copy_template(dest):
    ignore = shutil.ignore_patterns(".git", "__pycache__", ".venv", "venv", "out", "calls")
    shutil.copytree(ROOT, dest, ignore=ignore)
    for name, replacements in EDITS.items():
        path = dest / name
        text = path.read_text()
        for old, new in replacements:
            assert old in text, f"{name} no longer holds {old!r}: update this test's edits"
            text = text.replace(old, new)
        path.write_text(text)


def test_rewritten_greeting_prompt_and_phrase_keep_the_tests_green(tmp_path):
    copy = tmp_path / "my-bot"
    _copy_template(copy)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", *TESTS],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert f"{len(TESTS)} passed" in result.stdout
    # ... and the copy really speaks the user's words (the tests compared against them).
    assert "Zed Bank" in (copy / "phrases.py").read_text()
