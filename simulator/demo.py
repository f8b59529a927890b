"""The keyless demo: run the real bot against local vendor stand-ins and phone it once.

    python -m simulator.demo [--record out/demo-call.wav] [--sample-rate 8000]
    python -m simulator.demo --stt sarvam --tts sarvam --language hi
    python -m simulator.demo --say "Where is order 1234?" --tool lookup_order '{"order_id": "1234"}'
    python -m simulator.demo --say "Hi" --say "Can I return my shoes?" --reply "Here: {result}"

Starts the vendor stand-ins (Deepgram, OpenAI, Cartesia, Sarvam) in this process, then `python
server.py` with its settings pointed at them (no API keys, no network), plays a simulated
Exotel call (greeting, a question about an order, the bot's reply, hang-up), and prints the
call's timeline, what was said, and where the call record and its report are. The bot speaks
real words (espeak-ng, from the `espeakng-loader` wheel; a tone where it cannot load).

Your own bot.py runs: its greeting, its prompt (sent to the LLM stand-in) and its tools. The
stand-in LLM does not think: `--say` gives the caller's lines (one turn each), and `--tool NAME
ARGS` makes the LLM call your tool NAME with the JSON ARGS on the first line, then answer with
`--reply`, where `{result}` is what your tool returned. Without `--tool` the LLM echoes what it
heard. The demo ignores your `.env` and the bot's settings in your environment (a Basic-auth
password, your keys): it runs with the settings it prints.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from simulator.caller import Hangup, Say, WaitForBot, WaitForGreeting, run_call
from simulator.standins import StandIns

ROOT = Path(__file__).resolve().parent.parent
DEMO_KEYS = ("DEEPGRAM_API_KEY", "OPENAI_API_KEY", "CARTESIA_API_KEY", "SARVAM_API_KEY")

# What the simulated caller "says" in each BOT_LANGUAGE (the STT stand-in's transcript; the
# audio itself is a speech fixture): "Where is my order?".
# The words of the English recording, its one pause marked (see CONTRIBUTING.md).
ENGLISH_QUESTION = "Hi, | I would like to know the status of my order please."
ORDER_QUESTION = {
    "hi": "मेरा ऑर्डर कहाँ है?",
    "hinglish": "मेरा order कहाँ है?",
    "bn": "আমার অর্ডার কোথায়?",
    "ta": "என் ஆர்டர் எங்கே?",
    "te": "నా ఆర్డర్ ఎక్కడ ఉంది?",
    "kn": "ನನ್ನ ಆರ್ಡರ್ ಎಲ್ಲಿದೆ?",
    "ml": "എന്റെ ഓർഡർ എവിടെ?",
    "mr": "माझी ऑर्डर कुठे आहे?",
    "gu": "મારો ઓર્ડર ક્યાં છે?",
    "pa": "ਮੇਰਾ ਆਰਡਰ ਕਿੱਥੇ ਹੈ?",
    "or": "ମୋ ଅର୍ଡର କେଉଁଠି ଅଛି?",
}
FIXTURE = {"hi": "hindi", "hinglish": "hinglish", "ta": "tamil"}  # else the English one


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """`python server.py` on `port` with only `env` for settings; returns once /health answers.
    It runs from the log's folder, so no `.env` of the repository is read."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "w")  # noqa: SIM115 - lives as long as the server process
    full_env = {**clean_environment(), "HOST": "127.0.0.1", "PORT": str(port), **env}
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "server.py")],
        cwd=log_path.parent,
        env=full_env,
        stdout=log,
        stderr=log,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            # server.py's last line names what stopped it (a setting, a language, a key).
            lines = [line for line in log_path.read_text(errors="replace").splitlines() if line]
            reason = lines[-1] if lines else "no output"
            raise SystemExit(f"server.py exited early: {reason}\n(whole log: {log_path})")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server.py did not start within 60 s; see {log_path}")


def demo_env(stand_ins: StandIns, records_dir: Path) -> dict[str, str]:
    """The settings a user would put in .env, pointed at the stand-ins instead of the vendors.
    RECORD_AUDIO: the call record keeps its recording, so its report shows the waveforms."""
    return {
        **stand_ins.env(),
        **dict.fromkeys(DEMO_KEYS, "demo-key"),
        "CALL_RECORDS_DIR": str(records_dir),
        "RECORD_AUDIO": "true",
    }


def clean_environment() -> dict[str, str]:
    """This process's environment without any of the bot's settings: the demo's own are the
    only ones its server sees (a user's EXOTEL_WS_AUTH would refuse the simulated caller)."""
    from exotel_bot.settings import setting_names

    ours = setting_names()
    return {k: v for k, v in os.environ.items() if k.upper() not in ours}


# The tools every call has besides bot.py's own (exotel_bot/call/llm_tools.py).
PHONE_TOOLS = ("end_call", "transfer_to_agent")


def bot_tools(bot_file: Path = ROOT / "bot.py") -> list[str]:
    """The tools the bot's LLM can call: bot.py's tool functions (`async def NAME(params:
    FunctionCallParams, ...)`, read without running bot.py) and the phone's own."""
    tree = ast.parse(bot_file.read_text(encoding="utf-8"))
    own = [
        node.name
        for node in tree.body
        if isinstance(node, ast.AsyncFunctionDef)
        and node.args.args
        and ast.unparse(node.args.args[0].annotation or ast.Constant("")).endswith(
            "FunctionCallParams"
        )
    ]
    return [*own, *PHONE_TOOLS]


def script_tool_call(stand_ins: StandIns, first_line: str, tool: str, args: str, reply: str):
    """The LLM stand-in answers the caller's first line by calling `tool` with the JSON `args`,
    then says `reply` with `{result}` replaced by what the tool returned."""
    tools = bot_tools()
    if tool not in tools:
        raise SystemExit(f"--tool {tool}: bot.py has no such tool (its tools: {', '.join(tools)})")
    try:
        arguments = json.loads(args or "{}")
    except ValueError as e:
        raise SystemExit(f"--tool {tool}: its arguments are not JSON ({e}): {args!r}") from None
    if not isinstance(arguments, dict):
        raise SystemExit(f"--tool {tool}: the arguments must be a JSON object, e.g. '{{}}'")
    heard = first_line.replace("|", " ").split()
    pattern = r"\s*".join(re.escape(word) for word in heard) or ".*"
    stand_ins.config.llm.rules.append(
        {"match": pattern, "reply": "", "tool_call": {"name": tool, "arguments": arguments}}
    )
    stand_ins.config.llm.after_tool_reply = reply


def print_record(record_path: Path) -> None:
    """What was said, from the call record, and the command that turns it into a report."""
    if not record_path.exists():
        print(f"\n(no call record at {record_path})")
        return
    record = json.loads(record_path.read_text())
    print("\nWhat was said (from the call record):")
    for turn in record.get("turns", []):
        who = "caller" if turn.get("speaker") == "caller" else "bot   "
        print(f"  {turn.get('start', 0):6.2f}s  {who}  {turn.get('text', '')}")
    rel = record_path.relative_to(ROOT) if record_path.is_relative_to(ROOT) else record_path
    print(f"\nCall record: {rel}")
    print(f"Its report:  python -m tools.call_report {rel} -o out/demo-report.html")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", default="out/demo-call.wav", help="caller-side WAV to write")
    parser.add_argument("--sample-rate", type=int, default=8000, choices=(8000, 16000, 24000))
    parser.add_argument("--log", default="out/demo-server.log", help="where the server logs go")
    parser.add_argument("--records", default="out/calls", help="where call records go")
    parser.add_argument("--stt", choices=("deepgram", "sarvam"), help="STT_SERVICE (stand-in)")
    parser.add_argument("--tts", choices=("cartesia", "sarvam"), help="TTS_SERVICE (stand-in)")
    parser.add_argument("--language", help="BOT_LANGUAGE, e.g. hi, ta, hinglish")
    parser.add_argument(
        "--say",
        action="append",
        metavar="TEXT",
        help="what the caller says, one turn per --say (default: a question about an order)",
    )
    parser.add_argument(
        "--tool",
        nargs=2,
        metavar=("NAME", "ARGS"),
        help="the LLM calls your tool NAME with the JSON ARGS on the first caller line",
    )
    parser.add_argument(
        "--reply",
        help="the LLM's answer after --tool; {result} is what the tool returned "
        "(default: 'Here is what I found: {result}.')",
    )
    args = parser.parse_args()
    if args.reply and not args.tool:
        parser.error("--reply is the LLM's answer after --tool: give --tool NAME ARGS too")
    language = (args.language or "").lower()
    lines = args.say or [ORDER_QUESTION.get(language, ENGLISH_QUESTION)]

    stand_ins = StandIns(host="127.0.0.1", port=0)
    stand_ins.config.tts.voice = "espeak"  # real words; the tests use the cheaper tone
    # What the caller "says", in the bot's language (English: the recording's own words).
    stand_ins.config.stt.transcripts.extend(lines)
    if args.tool:
        reply = args.reply or "Here is what I found: {result}."
        script_tool_call(stand_ins, lines[0], *args.tool, reply)
    stand_ins.start()
    port = _free_port()
    env = demo_env(stand_ins, ROOT / args.records)
    for name, value in (("STT_SERVICE", args.stt), ("TTS_SERVICE", args.tts)):
        if value:
            env[name] = value
    if language:
        env["BOT_LANGUAGE"] = language
    print(f"Starting the bot with local stand-ins on port {port} (log: {args.log}).")
    print("Its settings (your .env and environment are not read):")
    for name, value in sorted(env.items()):
        print(f"  {name}={value}")
    server = start_server(port, env, ROOT / args.log)
    try:
        script = [WaitForGreeting()]
        for _ in lines:  # the recording stands for each line (the STT stand-in hears its words)
            script += [Say(FIXTURE.get(language, "order_status")), WaitForBot(timeout=20)]
        script.append(Hangup())
        report = asyncio.run(
            run_call(
                f"ws://127.0.0.1:{port}/ws",
                script,
                sample_rate=args.sample_rate,
                custom_parameters={"name": "Asha"},
                record_path=ROOT / args.record,
            )
        )
    finally:
        server.terminate()
        server.wait(10)
        stand_ins.stop()

    print(report.summary())
    print(f"\nWhat the caller heard: {args.record} (left: caller, right: bot)")
    print_record(ROOT / args.records / report.call_sid / "record.json")
    failures = tool_failures(ROOT / args.log)
    for failure in failures:
        print(f"\nYour tool failed: {failure}\n(the whole traceback is in {args.log})")
    return 0 if report.ok and not failures else 1


def tool_failures(log: Path) -> list[str]:
    """What pipecat logged as "Error executing function call [NAME]: ..." in the server's log:
    a tool that raised (the caller then heard the bot's apology, not your result)."""
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    found = re.findall(
        r"Error executing function call \[(\w+)\]: (.*?)(?: \| |, fatal: |$)", text, re.M
    )
    return [f"{name}: {error}" for name, error in dict.fromkeys(found)]


if __name__ == "__main__":
    sys.exit(main())
