"""Exotel's wire: the Voicebot websocket's handshake, its message serializer and the transport.

Everything here speaks Exotel's protocol (`connected`, `start`, `media`, `dtmf`, `mark`, `stop`,
`clear`) and nothing else: what a call *does* lives in `exotel_bot.call`.
"""
