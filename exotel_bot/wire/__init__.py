"""Exotel's wire: the Voicebot websocket's handshake, its message serializer and the transport.

Everything here speaks Exotel's protocol (`connected`, `start`, `media`, `dtmf`, `mark`, `stop`,
`clear`) and nothing else: what a call *does* lives in `exotel_bot.call`.

- `handshake.py`: `connected`/`start` in every documented shape -> `ExotelCall`, or a refusal;
- `serializer.py`: messages <-> frames, in the call's own dialect and encoding;
- `media_format.py`: L16 / mu-law, sample rates, outbound payload sizing;
- `fields.py`: reading a field in snake_case or camelCase, as text or a number;
- `transport.py`: pipecat's websocket transport, caller audio cut into VAD-sized frames;
- `callbacks.py`: Exotel's HTTP callbacks (Passthru, StatusCallback) in every encoding.

docs/exotel-wire.md lists every variant accepted, refused or dropped.
"""
