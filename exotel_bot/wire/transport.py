"""The websocket transport for one Exotel call, set up the way Exotel wants its audio."""

from __future__ import annotations

from pipecat.frames.frames import InputAudioRawFrame
from pipecat.transports.websocket.fastapi import (
    FastAPIWebsocketInputTransport,
    FastAPIWebsocketParams,
    FastAPIWebsocketTransport,
)
from starlette.websockets import WebSocket

from exotel_bot.settings import Settings
from exotel_bot.wire.handshake import ExotelCall
from exotel_bot.wire.media_format import outbound_payload_ms
from exotel_bot.wire.serializer import ExotelSerializer

# Caller audio reaches the VAD in frames of at most this length, whatever size Exotel's
# payloads were: Silero judges 32 ms windows, so a 20 ms frame completes at most one window
# and no speech start or stop can hide inside a frame (a 2 s payload would hide both).
CALLER_FRAME_MS = 20


def media_payload_bytes(call: ExotelCall, chunk_ms: int) -> int:
    """Bytes in one outbound `media` payload of this call (its encoding and rate)."""
    return call.media_format.payload_bytes(outbound_payload_ms(chunk_ms))


def split_audio(frame: InputAudioRawFrame, frame_ms: int = CALLER_FRAME_MS):
    """`frame` cut into frames of `frame_ms` (the last one may be shorter)."""
    step = frame.sample_rate * frame.num_channels * 2 * frame_ms // 1000
    if len(frame.audio) <= step:
        yield frame
        return
    for start in range(0, len(frame.audio), step):
        yield InputAudioRawFrame(
            audio=frame.audio[start : start + step],
            sample_rate=frame.sample_rate,
            num_channels=frame.num_channels,
        )


class ExotelInputTransport(FastAPIWebsocketInputTransport):
    """Pipecat's websocket input, with caller audio cut into VAD-sized frames."""

    async def push_audio_frame(self, frame: InputAudioRawFrame):
        for piece in split_audio(frame):
            await super().push_audio_frame(piece)


class ExotelTransport(FastAPIWebsocketTransport):
    """Pipecat's FastAPI websocket transport with `ExotelInputTransport` as its input."""

    def __init__(self, websocket: WebSocket, params: FastAPIWebsocketParams, **kwargs):
        super().__init__(websocket, params, **kwargs)
        self._input = ExotelInputTransport(self, self._client, self._params, name=self._input_name)


def exotel_transport(websocket: WebSocket, call: ExotelCall, settings: Settings):
    """A FastAPI websocket transport speaking Exotel's protocol in the call's own dialect.

    Outbound audio goes in payloads of `outbound_payload_ms(settings.audio_chunk_ms)` (200 ms
    by default: 3.2 KB of L16 at 8 kHz, 1.6 KB of mu-law, Exotel's recommended minimum; always
    whole 20 ms steps, the last one padded with silence by pipecat), so Exotel never waits on
    a short packet.
    """
    serializer = ExotelSerializer(call, max_message_bytes=settings.max_message_bytes)
    return ExotelTransport(
        websocket=websocket,
        params=FastAPIWebsocketParams(
            audio_in_enabled=True,
            audio_out_enabled=True,
            audio_in_sample_rate=call.listen_sample_rate,
            audio_out_sample_rate=call.sample_rate,
            audio_out_10ms_chunks=outbound_payload_ms(settings.audio_chunk_ms) // 10,
            # The bot hangs up only once Exotel confirms the goodbye was heard (a `mark` echo,
            # see control.py), so pipecat's 2 s of trailing silence would only delay it.
            audio_out_end_silence_secs=0,
            add_wav_header=False,
            serializer=serializer,
            # Exotel sends no Origin header: an origin allow-list would refuse every call.
            allowed_origins=[],
        ),
    )
