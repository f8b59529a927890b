"""The machinery behind bot.py: Exotel's handshake, its transport, settings and call-scoped logs.

bot.py tells the story of a call; nothing in here should need editing to change what the bot says.
"""

from exotel_bot.audio_sink import CallerAudioSink
from exotel_bot.call import ExotelCall, accept_exotel_call, close_quietly
from exotel_bot.config import ConfigError, Settings, load_settings
from exotel_bot.control import CallControl, transfer_decisions
from exotel_bot.fallback import VendorFallback
from exotel_bot.hello import WaitForHello
from exotel_bot.languages import LANGUAGES
from exotel_bot.logs import call_logging, hide_secrets, setup_logging
from exotel_bot.memory import release_call_memory
from exotel_bot.models import warm_up
from exotel_bot.records import CallRecorder
from exotel_bot.transport import exotel_transport
from exotel_bot.turns import phone_turn_strategies, phone_vad
from exotel_bot.vendors import PooledOpenAILLMService

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
    "phone_turn_strategies",
    "phone_vad",
    "release_call_memory",
    "setup_logging",
    "warm_up",
]
