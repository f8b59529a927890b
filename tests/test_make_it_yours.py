"""A user's first edits keep the suite green.

tools/customise_check.py makes the edits README's "Make it yours" describes on a copy of the
template (a new first sentence for the prompt, a much longer greeting, every English phrase
reworded, the brand renamed in every language, a new tool); `python -m tools.customise_check`
runs the whole suite on such a copy. Here: the edits land where a user makes them, and the
tests that hear the greeting, read the prompt, the phrases and the tools pass on the copy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT
from tools import customise_check

# The tests that hear the greeting, read the prompt, the phrases and the tools.
TESTS = [
    "tests/test_call.py::test_caller_details_reach_greeting_and_prompt",
    "tests/test_call_control.py::test_silence_check_ins_then_hang_up",
    "tests/test_records.py::test_transcript_has_every_turn_in_order",
    "tests/test_outbound.py::test_an_inbound_call_is_still_greeted_as_inbound",
    "tests/test_tools.py",
]


def customised_copy(tmp_path):
    copy = tmp_path / "my-bot"
    copy.mkdir()
    customise_check.copy_checkout(copy)
    customise_check.customise(copy)
    return copy


def run_in(copy, code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=copy, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_edits_land_where_a_user_makes_them(tmp_path):
    copy = customised_copy(tmp_path)
    for name in ("bot.py", "phrases.py"):
        text = (copy / name).read_text()
        assert customise_check.BRAND not in text and customise_check.NEW_BRAND in text, name
    said = run_in(
        copy,
        "import bot, phrases, json\n"
        "from tests.conftest import expected_greeting\n"
        "from exotel_bot.wire.handshake import ExotelCall\n"
        "call = ExotelCall(call_sid='c', stream_sid='s', account_sid='a', from_number='',"
        " to_number='')\n"
        "en = phrases.PHRASES['en']\n"
        "print(json.dumps({'greeting': expected_greeting(), 'check_in': en.check_in,"
        " 'prompt': bot.system_prompt(call, en), 'tool': callable(bot.check_return)}))\n",
    )
    from phrases import PHRASES  # the template's own words

    copy_said = json.loads(said.strip().splitlines()[-1])
    hello = PHRASES["en"].hello
    assert copy_said["greeting"] == customise_check.LONG_GREETING.replace("{hello}", hello)
    assert copy_said["prompt"].startswith(customise_check.NEW_FIRST_SENTENCE)
    assert copy_said["check_in"] != PHRASES["en"].check_in and copy_said["tool"]


def test_the_tests_closest_to_the_edits_pass_on_a_customised_copy(tmp_path):
    copy = customised_copy(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", *TESTS],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
    assert (ROOT / "phrases.py").read_text() != (copy / "phrases.py").read_text()
