"""Check that "Make it yours" keeps the suite green: customise a copy, run the tests there.

    python -m tools.customise_check                 # the whole suite on a customised copy
    python -m tools.customise_check tests/test_call.py -k greeting   # arguments go to pytest
    python -m tools.customise_check --keep out/my-copy --no-tests    # just make the copy

Copies this checkout (tracked and new files, not ignored ones) to a temporary folder and makes
there the edits the README's "Make it yours" describes, as a user would:

- the prompt's first sentence (`system_prompt()` in bot.py) rewritten;
- a much longer English greeting (`inbound_greeting` in phrases.py);
- every other English phrase reworded (each starts differently);
- the brand "Acme Store" renamed everywhere in bot.py and phrases.py, every language;
- a new tool (`check_return`) written in bot.py and added to `tools=[...]`.

Then it runs pytest in the copy (without tests/test_make_it_yours.py, which runs this tool).
Exit code: pytest's, or 2 when an edit does not find its place (bot.py or phrases.py was
restructured: update EDITS below).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BRAND, NEW_BRAND = "Acme Store", "Zephyr Outfitters"
NEW_FIRST_SENTENCE = "You are the voice of Zephyr Outfitters' help line, patient and precise."
LONG_GREETING = (
    "{hello}! Thanks for calling Zephyr Outfitters, where every order ships free and every "
    "return is easy. I can tell you where an order is, help you start a return, or put you "
    "through to a person on our team. What can I do for you today?"
)
# The English phrases reworded (each gets an opening of its own), besides the greeting.
REWORDED = (
    "outbound_greeting",
    "voicemail",
    "check_in",
    "silence_goodbye",
    "goodbye",
    "transfer",
    "time_up",
    "apology",
    "trouble_goodbye",
    "recorded_apology",
)
NEW_TOOL = '''

async def check_return(params: FunctionCallParams, order_id: str):
    """Say whether one of the caller's orders can still be returned.

    Args:
        order_id: The order number the caller gives, digits only.
    """
    await params.result_callback({"returnable": True, "until": "thirty days after delivery"})
'''


class EditFailed(Exception):
    """An edit did not find its place in the copy."""


def copy_checkout(dest: Path) -> None:
    """This checkout's files (tracked and new, not ignored) into `dest`."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def new_first_sentence(bot: str) -> str:
    """The first sentence of the string `system_prompt()` returns, replaced."""
    match = re.search(r"def system_prompt\(.*?\n    return \(\s*\n\s*\"([^\"]*?\.) ", bot, re.S)
    if not match:
        raise EditFailed("bot.py: the first sentence of system_prompt()'s returned prompt")
    return bot[: match.start(1)] + NEW_FIRST_SENTENCE + bot[match.end(1) :]


def new_tool(bot: str) -> str:
    """check_return() after lookup_order(), and in the tools list."""
    match = re.search(r"\nasync def lookup_order\(.*?\n(?=\S)", bot, re.S)
    tools = re.search(r"tools=\[", bot)
    if not match or not tools:
        raise EditFailed("bot.py: lookup_order() and the tools=[...] list")
    bot = bot[: match.end()].rstrip("\n") + "\n" + NEW_TOOL + "\n\n" + bot[match.end() :]
    return re.sub(r"tools=\[", "tools=[check_return, ", bot, count=1)


def english_table(phrases: str) -> tuple[int, int]:
    """Where the English table (`ENGLISH = Phrases(...)`) starts and ends in phrases.py."""
    start = phrases.find("ENGLISH = Phrases(")
    end = phrases.find("\n)\n", start)
    if start < 0 or end < 0:
        raise EditFailed("phrases.py: the English table, ENGLISH = Phrases(...)")
    return start, end


def reworded_english(phrases: str) -> str:
    """The English greeting made much longer, and every other English phrase reworded."""
    start, end = english_table(phrases)
    table = phrases[start:end]
    greeting = re.compile(r'(\n    inbound_greeting=)"[^"]*"')
    if not greeting.search(table):
        raise EditFailed("phrases.py: the English inbound_greeting")
    table = greeting.sub(lambda m: m.group(1) + repr(LONG_GREETING).replace("'", '"'), table)
    for n, field in enumerate(REWORDED):
        opening = f'(\n    {field}=\\(?\\s*)"'
        if not re.search(opening, table):
            raise EditFailed(f"phrases.py: the English {field}")
        words = ("Right, ", "Well, ", "Okay, ", "So, ", "Now, ")[n % 5]
        table = re.sub(opening, lambda m, w=words: m.group(1) + '"' + w, table, count=1)
    return phrases[:start] + table + phrases[end:]


def renamed_brand(text: str, where: str) -> str:
    """The template's brand renamed; a checkout that already has its own brand keeps it."""
    return text.replace(BRAND, NEW_BRAND)


EDITS = {
    "bot.py": [lambda t: renamed_brand(t, "bot.py"), new_first_sentence, new_tool],
    "phrases.py": [reworded_english, lambda t: renamed_brand(t, "phrases.py")],
}


def customise(copy: Path) -> None:
    """Make the README's edits in `copy`, a checkout of the template."""
    for name, edits in EDITS.items():
        path = copy / name
        text = path.read_text()
        for edit in edits:
            text = edit(text)
        path.write_text(text)


def run_suite(copy: Path, pytest_args: list[str]) -> int:
    """pytest in the copy, this checkout's own test file for this tool left out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--ignore=tests/test_make_it_yours.py",
        *pytest_args,
    ]
    return subprocess.run(command, cwd=copy, env=env).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.customise_check", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--keep", metavar="DIR", help="make the copy here and keep it")
    parser.add_argument("--no-tests", action="store_true", help="make the copy, run nothing")
    args, pytest_args = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory(prefix="customised-") as tmp:
        copy = Path(args.keep).resolve() if args.keep else Path(tmp) / "my-bot"
        copy.mkdir(parents=True, exist_ok=True)
        copy_checkout(copy)
        try:
            customise(copy)
        except EditFailed as e:
            print(
                f"Could not make the edit for {e}: update tools/customise_check.py", file=sys.stderr
            )
            return 2
        print(f"Customised copy: {copy} (brand {NEW_BRAND!r}, new tool check_return)", flush=True)
        return 0 if args.no_tests else run_suite(copy, pytest_args)


if __name__ == "__main__":
    sys.exit(main())
