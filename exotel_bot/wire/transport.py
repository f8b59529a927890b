"""The websocket transport for one Exotel call, set up the way Exotel wants its audio."""

from __future__ import annotations

from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams
from starlette.websockets import WebSocket

from exotel_bot.settings import Settings
from exotel_bot.wire.handshake import ExotelCall
from exotel_bot.wire.output import ExotelWebsocketTransport
from exotel_bot.wire.serializer import ExotelSerializer


def media_payload_bytes(sample_rate: int, chunk_ms: int) -> int:
    """Bytes of 16-bit mono PCM in one outbound `media` payload."""
    return sample_rate * 2 * chunk_ms // 1000


def exotel_transport(websocket: WebSocket, call: ExotelCall, settings: Settings):
    """A FastAPI websocket transport speaking Exotel's protocol at the stream's own sample rate.

    Outbound audio goes in payloads of `settings.audio_chunk_ms` (200 ms by default: 3.2 KB at
    8 kHz, Exotel's recommended minimum; always a multiple of 320 bytes, the last one padded
    with silence by pipecat), so Exotel never waits on a short packet. A bot turn's first
    payloads are `settings.first_audio_chunk_ms` (40 ms) so its first sound is not held back
    until 200 ms exist (see exotel_bot/wire/output.py).
    """
    serializer = ExotelSerializer(
        call.stream_sid,
        call.call_sid,
        sample_rate=call.sample_rate,
        max_message_bytes=settings.max_message_bytes,
    )
    return ExotelWebsocketTransport(
        websocket=websocket,
        first_chunk_bytes=media_payload_bytes(call.sample_rate, settings.first_audio_chunk_ms),
        params=FastAPIWebsocketParams(
            audio_in_enabled=True,
            audio_out_enabled=True,
            audio_in_sample_rate=call.listen_sample_rate,
            audio_out_sample_rate=call.sample_rate,
            audio_out_10ms_chunks=settings.audio_chunk_ms // 10,
            # The bot hangs up only once Exotel confirms the goodbye was heard (a `mark` echo,
            # see control.py), so pipecat's 2 s of trailing silence would only delay it.
            audio_out_end_silence_secs=0,
            add_wav_header=False,
            serializer=serializer,
            # Exotel sends no Origin header: an origin allow-list would refuse every call.
            allowed_origins=[],
        ),
    )
