"""The speech services a call uses: STT_SERVICE=deepgram|sarvam, TTS_SERVICE=cartesia|sarvam.

bot.py asks for one of each (`make_stt`, `make_tts`); which vendor, language code, model and
endpoint comes from the settings. All are pipecat's own service classes, built with the
endpoint they talk to, so local stand-ins (simulator/standins) work without patching:

- Deepgram: `DeepgramSTTService(base_url=DEEPGRAM_BASE_URL)`, as `ReplayingDeepgramSTTService`
  (services/stt_replay.py): a dropped socket loses none of the caller's words.
- Sarvam STT: `SarvamRealtimeSTTService(base_url=SARVAM_STT_URL)`, Sarvam's realtime websocket
  (`saaras:v3-realtime`) with `endpointing="manual"`: the template's own VAD and turn
  detection (call/turns.py) decide when the caller stopped, and tell Sarvam with
  `speech_start`/`speech_end`, exactly as they ask Deepgram to finalize. (pipecat's other
  Sarvam STT, `SarvamSTTService`, goes through the `sarvamai` SDK, whose endpoint cannot be set.)
- Cartesia: `CartesiaTTSService(url=CARTESIA_WS_URL)`.
- Sarvam TTS: `SarvamTTSService(url=SARVAM_TTS_URL)`, Sarvam's streaming websocket (`bulbul:v3`).
"""

from __future__ import annotations

from pipecat.services.stt_service import STTService
from pipecat.services.tts_service import TTSService

from exotel_bot.languages import Language
from exotel_bot.settings import Settings


def make_stt(settings: Settings, language: Language) -> STTService:
    """The STT service STT_SERVICE names, set to hear `language` (ValueError if it cannot)."""
    service = settings.stt_service
    code = _code(language.stt_code(service), f"STT_SERVICE={service} cannot hear {language.name}")
    if service == "sarvam":
        from pipecat.services.sarvam.stt import SarvamRealtimeSTTService

        return SarvamRealtimeSTTService(
            api_key=settings.sarvam_api_key,
            base_url=settings.sarvam_stt_url,
            endpointing="manual",
            settings=SarvamRealtimeSTTService.Settings(
                model=settings.sarvam_stt_model, language=code, mode=language.sarvam_stt_mode
            ),
        )
    from pipecat.services.deepgram.stt import DeepgramSTTService

    from exotel_bot.services.stt_replay import ReplayingDeepgramSTTService

    # Deepgram, reconnecting at once after a drop and replaying what the caller said meanwhile.
    return ReplayingDeepgramSTTService(
        api_key=settings.deepgram_api_key,
        base_url=settings.deepgram_base_url,
        settings=DeepgramSTTService.Settings(model=settings.deepgram_model, language=code),
    )


def make_tts(settings: Settings, language: Language) -> TTSService:
    """The TTS service TTS_SERVICE names, set to speak `language` (ValueError if it cannot)."""
    service = settings.tts_service
    code = _code(language.tts_code(service), f"TTS_SERVICE={service} cannot speak {language.name}")
    # Both TTS vendors take the same arguments: key, websocket URL, model, voice, language.
    if service == "sarvam":
        from pipecat.services.sarvam.tts import SarvamTTSService as tts_class

        key, url = settings.sarvam_api_key, settings.sarvam_tts_url
        model, voice = settings.sarvam_tts_model, settings.sarvam_voice
    else:
        from pipecat.services.cartesia.tts import CartesiaTTSService as tts_class

        key, url = settings.cartesia_api_key, settings.cartesia_ws_url
        model, voice = settings.cartesia_model, settings.cartesia_voice
    return tts_class(
        api_key=key,
        url=url,
        settings=tts_class.Settings(model=model, voice=voice, language=code),
    )


def _code(code: str | None, cannot: str) -> str:
    """A service's code for the call's language; ValueError(`cannot`) if it has none."""
    if code is None:
        raise ValueError(cannot)
    return code
