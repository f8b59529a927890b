"""One setting, BOT_LANGUAGE, switches what the bot hears and speaks.

Each language names the code every speech service expects for it, or None where that service
cannot do it; start-up refuses a language the chosen STT or TTS cannot do (see
`check_supported`). What the bot *says* in each language lives in `exotel_bot/call/phrases.py`.

Sources for the service codes (checked 2026-11, see docs/languages.md):
- Deepgram nova-3: monolingual `en-IN`, `hi`, `bn`, `ta`, `te`, `mr`, `gu`, `pa` (Deepgram's
  changelog); `kn` is listed for nova-3's multilingual model; `multi` is nova-3's
  code-switching model (Hindi and English in one sentence). No Malayalam or Odia.
- Cartesia sonic-3: 42 languages including the ten Indian ones below, not Odia.
- Sarvam realtime STT (`saaras:v3-realtime`): `xx-IN` codes; Odia is `or-IN` as pipecat's
  `SarvamRealtimeSTTService` sends it (Sarvam's older STT endpoint writes `od-IN`).
  Hinglish uses its `codemix` mode (English words in Latin letters, Hindi in Devanagari).
- Sarvam TTS (`bulbul:v3`): `bn-IN en-IN gu-IN hi-IN kn-IN ml-IN mr-IN od-IN pa-IN ta-IN te-IN`
  (the `sarvamai` SDK's `TextToSpeechLanguage`).
"""

from __future__ import annotations

from dataclasses import dataclass

STT_SERVICES = ("deepgram", "sarvam")
TTS_SERVICES = ("cartesia", "sarvam")


@dataclass(frozen=True)
class Language:
    """A language the bot can hold a call in, and each service's code for it (None: cannot)."""

    key: str  # the BOT_LANGUAGE value
    name: str  # in English, for logs and errors
    deepgram: str | None
    cartesia: str | None
    sarvam_stt: str | None
    sarvam_tts: str | None
    sarvam_stt_mode: str = "transcribe"  # Sarvam's realtime `mode`: codemix for Hinglish
    espeak_voice: str = "en-us"  # renders the recorded apology (assets/make_fallback_audio.py)

    def stt_code(self, service: str) -> str | None:
        """The code the STT `service` ("deepgram" or "sarvam") is given, None if it cannot."""
        return {"deepgram": self.deepgram, "sarvam": self.sarvam_stt}[service]

    def tts_code(self, service: str) -> str | None:
        """The code the TTS `service` ("cartesia" or "sarvam") is given, None if it cannot."""
        return {"cartesia": self.cartesia, "sarvam": self.sarvam_tts}[service]


def _indian(key, name, deepgram, cartesia, sarvam=None, espeak=None, **kw) -> Language:
    sarvam = sarvam or f"{key}-IN"
    return Language(key, name, deepgram, cartesia, sarvam, sarvam, espeak_voice=espeak or key, **kw)


# fmt: off
LANGUAGES: dict[str, Language] = {
    language.key: language
    for language in (
        Language("en", "English", "en", "en", "en-IN", "en-IN"),
        Language("en-in", "English (India)", "en-IN", "en", "en-IN", "en-IN", espeak_voice="en"),
        _indian("hi", "Hindi", "hi", "hi"),
        # Hindi and English mixed in one sentence, as many callers speak.
        Language("hinglish", "Hinglish (Hindi and English mixed)", "multi", "hi", "hi-IN", "hi-IN",
                 sarvam_stt_mode="codemix", espeak_voice="hi"),
        _indian("bn", "Bengali", "bn", "bn"),
        _indian("ta", "Tamil", "ta", "ta"),
        _indian("te", "Telugu", "te", "te"),
        _indian("kn", "Kannada", "kn", "kn"),
        _indian("ml", "Malayalam", None, "ml"),
        _indian("mr", "Marathi", "mr", "mr"),
        _indian("gu", "Gujarati", "gu", "gu"),
        _indian("pa", "Punjabi", "pa", "pa"),
        Language("or", "Odia", None, None, "or-IN", "od-IN", espeak_voice="or"),
    )
}
# fmt: on

# Other spellings people use for the same language.
ALIASES = {"od": "or", "hi-en": "hinglish", "en-us": "en", "en_in": "en-in"}


class UnsupportedLanguage(ValueError):
    """BOT_LANGUAGE names no known language, or one the chosen service cannot do."""


def find_language(value: str) -> Language:
    """The language BOT_LANGUAGE names (case-insensitive; aliases such as `od` accepted)."""
    key = value.strip().lower()
    key = ALIASES.get(key, key)
    if key not in LANGUAGES:
        known = ", ".join(LANGUAGES)
        raise UnsupportedLanguage(
            f"BOT_LANGUAGE={value!r} is not one of {known} (or the aliases "
            f"{', '.join(ALIASES)}); add it to exotel_bot/languages.py and phrases.py"
        )
    return LANGUAGES[key]


def check_supported(language: Language, stt_service: str, tts_service: str) -> None:
    """Raise UnsupportedLanguage naming the service that cannot do `language`."""
    problems = []
    if language.stt_code(stt_service) is None:
        problems.append(f"STT_SERVICE={stt_service}")
    if language.tts_code(tts_service) is None:
        problems.append(f"TTS_SERVICE={tts_service}")
    if problems:
        can_stt = [s for s in STT_SERVICES if language.stt_code(s)]
        can_tts = [s for s in TTS_SERVICES if language.tts_code(s)]
        raise UnsupportedLanguage(
            f"BOT_LANGUAGE={language.key} ({language.name}) is not supported by "
            f"{' and '.join(problems)}. Speech to text in {language.name}: "
            f"{', '.join(can_stt) or 'none'}; text to speech: {', '.join(can_tts) or 'none'} "
            "(see docs/languages.md)."
        )
