"""Pre-render the apology the bot plays when its TTS is down (see exotel_bot/call/fallback.py).

The TTS cannot say "sorry, the TTS is down", so this sentence is rendered ahead of time with
espeak-ng and sox (Debian: `apt-get install espeak-ng sox`) at each Exotel sample rate, and the
WAVs are committed: English and Hindi at every rate, the other languages at 8 kHz only (the bot
resamples them; phone quality at a tenth of the size). Run it again after editing a
`recorded_apology` in phrases.py (beside bot.py):

    python -m exotel_bot.assets.make_fallback_audio
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from exotel_bot.call.recorded_apology import recorded_apology_path
from exotel_bot.languages import LANGUAGES
from phrases import PHRASES  # the user's phrase tables, beside bot.py

SAMPLE_RATES = (8000, 16000, 24000)
EVERY_RATE = ("en", "hi")  # the rest ship at 8 kHz only
SAME_AS = {"en-in": "en"}  # languages whose apology is another's, word for word
WORDS_PER_MINUTE = "175"


def render(text: str, voice: str, sample_rate: int, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "espeak.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", WORDS_PER_MINUTE, "-w", str(raw), text], check=True
        )
        # 16-bit mono at the stream's rate, silence trimmed at both ends, peak at -3 dBFS.
        trim = ["silence", "1", "0.02", "0.5%"]
        effects = [*trim, "reverse", *trim, "reverse", "norm", "-3", "pad", "0.05", "0.15"]
        subprocess.run(
            ["sox", str(raw), "-r", str(sample_rate), "-b", "16", "-c", "1", str(out), *effects],
            check=True,
        )


def main() -> None:
    for language, phrases in PHRASES.items():
        if language in SAME_AS:
            continue
        for rate in SAMPLE_RATES if language in EVERY_RATE else (8000,):
            out = recorded_apology_path(language, rate)
            render(phrases.recorded_apology, LANGUAGES[language].espeak_voice, rate, out)
            print(f"{out.relative_to(Path.cwd())}: {out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
