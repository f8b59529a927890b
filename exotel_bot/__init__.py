"""The machinery behind bot.py, by concern:

- `wire/`: Exotel's websocket protocol (handshake, serializer, transport);
- `call/`: one call's behaviour (control and its LLM tools, turns, VAD, fallbacks, languages);
- `records/`: the call record (recorder, transcript, call record, audio, sinks);
- `outbound/`: calls the bot places (dials, Exotel's REST API, routes, CLI);
- `services/`: vendor services as the template builds and shares them;
- `settings.py` (the environment, read once), `logs.py`, `security.py`, `garbage_collection.py`.

bot.py tells the story of a call; nothing in here should need editing to change what the bot says.
"""
