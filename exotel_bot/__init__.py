"""The machinery behind bot.py, by concern:

- `wire/`: Exotel's websocket protocol (handshake, serializer, transport);
- `call/`: one call's behaviour (control, turns, VAD, fallbacks, languages);
- `records/`: the call record (recorder, audio, sinks);
- `outbound/`: calls the bot places (dials, Exotel's REST API, routes, CLI);
- `services/`: vendor services as the template builds and shares them;
- `settings.py` (the environment, read once), `logs.py`, `security.py`, `garbage_collection.py`.

bot.py tells the story of a call; nothing in here should need editing to change what the bot says.
"""

from exotel_bot.call.caller_audio import CallerAudioSink
from exotel_bot.call.control import CallControl, transfer_decisions
from exotel_bot.call.fallback import VendorFallback
from exotel_bot.call.languages import LANGUAGES
from exotel_bot.call.turns import phone_turn_strategies, phone_vad
from exotel_bot.call.vad import warm_up
from exotel_bot.garbage_collection import release_call_memory
from exotel_bot.logs import call_logging, hide_secrets, setup_logging
from exotel_bot.outbound.dials import match_dial
from exotel_bot.outbound.hello import WaitForHello
from exotel_bot.records.recorder import CallRecorder
from exotel_bot.services.openai_pool import PooledOpenAILLMService
from exotel_bot.services.tts_text import speak_from_first_phrase
from exotel_bot.settings import ConfigError, Settings, load_settings
from exotel_bot.wire.handshake import ExotelCall, accept_exotel_call, close_quietly
from exotel_bot.wire.transport import exotel_transport

__all__ = [
    "LANGUAGES",
    "CallControl",
    "CallRecorder",
    "CallerAudioSink",
    "PooledOpenAILLMService",
    "transfer_decisions",
    "ConfigError",
    "ExotelCall",
    "Settings",
    "VendorFallback",
    "WaitForHello",
    "accept_exotel_call",
    "call_logging",
    "close_quietly",
    "exotel_transport",
    "hide_secrets",
    "load_settings",
    "match_dial",
    "phone_turn_strategies",
    "phone_vad",
    "release_call_memory",
    "setup_logging",
    "speak_from_first_phrase",
    "warm_up",
]
