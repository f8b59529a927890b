"""Local stand-ins for Deepgram, OpenAI and Cartesia, so the real pipecat services run offline.

Start a ``StandIns`` (``.start()`` in a daemon thread, or ``async with StandIns() as s``),
point the bot at ``s.env()``, script it through ``s.config`` (``stt``, ``llm``, ``tts``),
and read what the bot sent from ``s.deepgram.connections``, ``s.openai.requests`` and
``s.cartesia.requests``. ``python -m simulator.standins`` serves the same on a fixed port.
"""

from .app import StandIns, build_app
from .config import LlmConfig, StandInConfig, SttConfig, TtsConfig

__all__ = ["LlmConfig", "StandInConfig", "StandIns", "SttConfig", "TtsConfig", "build_app"]
