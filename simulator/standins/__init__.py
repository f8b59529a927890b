"""Local stand-ins for Deepgram, OpenAI, Cartesia and Sarvam (STT and TTS), so the real pipecat
services run offline.

Start a ``StandIns`` (``.start()`` in a daemon thread, or ``async with StandIns() as s``),
point the bot at ``s.env()``, script it through ``s.config`` (``stt``, ``llm``, ``tts``),
and read what the bot sent from ``s.deepgram.connections``, ``s.openai.requests``,
``s.openai.classifications``, ``s.cartesia.requests``, ``s.sarvam_stt.connections`` and
``s.sarvam_tts.requests``. ``python -m simulator.standins`` serves the same on a fixed port.
"""

from .app import StandIns, build_app
from .config import LlmConfig, StandInConfig, SttConfig, TtsConfig

__all__ = ["LlmConfig", "StandInConfig", "StandIns", "SttConfig", "TtsConfig", "build_app"]
