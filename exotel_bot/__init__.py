"""The machinery behind bot.py, by concern:

- `phone/`: `PhoneCall`, the one object bot.py builds per call, and `answer_call()`;
- `wire/`: Exotel's websocket protocol (handshake, serializer, transport, its frames);
- `call/`: one call's behaviour (control and its LLM tools, turns, VAD, fallbacks, phrases);
- `records/`: the call record (recorder, transcript, call record, audio, sinks);
- `outbound/`: calls the bot places (dials, Exotel's REST API, voicemail, the CLI);
- `stores/`: call state that outlives a process (dial records, transfer decisions, slots);
- `services/`: vendor services as the template builds and shares them;
- `http/`: every HTTP route server.py mounts;
- at the root: `settings.py` (the environment, read once), `languages.py`, `causes.py` (why
  the bot spoke, how a call ended), `frames.py`, `logs.py`, `security.py`,
  `garbage_collection.py`.

bot.py imports what it needs from here (`from exotel_bot import PhoneCall, ...`); nothing in
here should need editing to change what the bot says. The names below are loaded on first use,
so `import exotel_bot.settings` (the control plane, the CLI) does not load pipecat.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> the module it lives in
_EXPORTS = {
    "PhoneCall": "exotel_bot.phone.phone_call",
    "PostCallStep": "exotel_bot.phone.post_call",
    "answer_call": "exotel_bot.phone.answering",
    "ExotelCall": "exotel_bot.wire.handshake",
    "Department": "exotel_bot.call.departments",
    "Phrases": "exotel_bot.call.phrases",
    "Settings": "exotel_bot.settings",
    "load_settings": "exotel_bot.settings",
    "call_logging": "exotel_bot.logs",
    "make_stt": "exotel_bot.services.speech",
    "make_tts": "exotel_bot.services.speech",
    "PooledOpenAILLMService": "exotel_bot.services.openai_pool",
    "CallEnd": "exotel_bot.causes",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'exotel_bot' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
