"""The keyless demo: run the real bot against local vendor stand-ins and phone it once.

    python -m simulator.demo [--record out/demo-call.wav] [--sample-rate 8000] [--keep-server]
    python -m simulator.demo --stt sarvam --tts sarvam --language hi

Starts `server.py --demo` (no API keys, no network), plays a simulated Exotel call (greeting,
a question about an order, the bot's reply, hang-up), prints the call's timeline and writes what
the caller heard to a stereo WAV (left: caller, right: bot).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from simulator.caller import Hangup, Say, WaitForBot, WaitForGreeting, run_call

ROOT = Path(__file__).resolve().parent.parent

# What the simulated caller "says" in each BOT_LANGUAGE (the STT stand-in's transcript; the
# audio itself is a speech fixture): "Where is my order?".
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_demo_server(
    port: int, log_path: Path, extra_env: dict[str, str] | None = None
) -> subprocess.Popen:
    """`python server.py --demo` on `port` (with `extra_env`); returns once /health answers."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "w")  # noqa: SIM115 - lives as long as the server process
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), **(extra_env or {})}
    process = subprocess.Popen(
        [sys.executable, "server.py", "--demo"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server.py --demo exited early; see {log_path}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server.py --demo did not start within 60 s; see {log_path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", default="out/demo-call.wav", help="caller-side WAV to write")
    parser.add_argument("--sample-rate", type=int, default=8000, choices=(8000, 16000, 24000))
    parser.add_argument("--log", default="out/demo-server.log", help="where the server logs go")
    parser.add_argument("--stt", choices=("deepgram", "sarvam"), help="STT_SERVICE (stand-in)")
    parser.add_argument("--tts", choices=("cartesia", "sarvam"), help="TTS_SERVICE (stand-in)")
    parser.add_argument("--language", help="BOT_LANGUAGE, e.g. hi, ta, hinglish")
    args = parser.parse_args()

    port, standins_port = _free_port(), _free_port()
    env = {"STANDINS_PORT": str(standins_port)}
    for name, value in (("STT_SERVICE", args.stt), ("TTS_SERVICE", args.tts)):
        if value:
            env[name] = value
    language = (args.language or "").lower()
    if language:
        env["BOT_LANGUAGE"] = language
    print(f"Starting the bot with local stand-ins on port {port} (log: {args.log}) ...")
    server = start_demo_server(port, ROOT / args.log, env)
    if language in ORDER_QUESTION:  # what the caller "says", in the bot's language
        patch = {"stt": {"default_transcript": ORDER_QUESTION[language]}}
        httpx.post(f"http://127.0.0.1:{standins_port}/_control/config", json=patch, timeout=5)
    try:
        script = [
            WaitForGreeting(timeout=15),
            Say("hindi" if language in ("hi", "hinglish") else "order_status"),
            WaitForBot(timeout=20),
            Hangup(),
        ]
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

    print(report.summary())
    print(f"\nWhat the caller heard: {args.record} (left: caller, right: bot)")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
