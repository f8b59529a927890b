"""The websocket transport for one Exotel call, set up the way Exotel wants its audio."""

from __future__ import annotations

from pipecat.frames.frames import InputAudioRawFrame
from pipecat.transports.websocket.fastapi import (
    FastAPIWebsocketInputTransport,
    FastAPIWebsocketParams,
    FastAPIWebsocketTransport,
)
from starlette.websockets import WebSocket

from exotel_bot.services.noise_filter import noise_filter
from exotel_bot.settings import Settings
from exotel_bot.wire.client import TimedWebsocketClient
from exotel_bot.wire.handshake import ExotelCall
from exotel_bot.wire.media_format import outbound_payload_ms
from exotel_bot.wire.output import ExotelOutputTransport
from exotel_bot.wire.serializer import ExotelSerializer

# Caller audio reaches the VAD in frames of at most this length, whatever size Exotel's
# payloads were (a client may send 2 s per message). The VAD (Silero, 32 ms windows) needs
# 0.2 s of speech to start a turn and 0.2 s of quiet to end one (exotel_bot/call/turns.py),
# so within 100 ms at most one of those can complete: no start and stop hide in one frame.
# Smaller frames cost CPU for nothing: 20 ms frames took 79% more server CPU for 10
# simultaneous calls (14.75 s vs 8.25 s, shared 2-core machine; see docs/exotel-wire.md).
CALLER_FRAME_MS = 100


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
    """Pipecat's websocket input, with caller audio cut into frames of CALLER_FRAME_MS."""

    async def push_audio_frame(self, frame: InputAudioRawFrame):
        for piece in split_audio(frame):
            await super().push_audio_frame(piece)


class ExotelTransport(FastAPIWebsocketTransport):
    """Pipecat's FastAPI websocket transport with Exotel's input (caller audio cut into
    frames of CALLER_FRAME_MS), output (paced by the caller's playout, a turn's first audio
    in short payloads: wire/output.py) and socket (a time limit on every write: wire/client.py).
    """

    def __init__(
        self,
        websocket: WebSocket,
        params: FastAPIWebsocketParams,
        *,
        first_chunk_bytes: int,
        **kwargs,
    ):
        super().__init__(websocket, params, **kwargs)
        self._client = TimedWebsocketClient(
            websocket, self._callbacks, ws_close_timeout=params.ws_close_timeout
        )
        self._input = ExotelInputTransport(self, self._client, self._params, name=self._input_name)
        self._output = ExotelOutputTransport(
            self,
            self._client,
            self._params,
            first_chunk_bytes=first_chunk_bytes,
            name=self._output_name,
        )


def exotel_transport(websocket: WebSocket, call: ExotelCall, settings: Settings):
    """A FastAPI websocket transport speaking Exotel's protocol in the call's own dialect.

    Outbound audio goes in payloads of `outbound_payload_ms(settings.audio_chunk_ms)` (200 ms
    by default: 3.2 KB of L16 at 8 kHz, 1.6 KB of mu-law, Exotel's recommended minimum; always
    whole 20 ms steps, the last one padded with silence by pipecat), so Exotel never waits on
    a short packet. A bot turn's first payloads are `settings.first_audio_chunk_ms` (40 ms) so
    its first sound is not held back until 200 ms exist (see exotel_bot/wire/output.py).
    """
    serializer = ExotelSerializer(call, max_message_bytes=settings.max_message_bytes)
    # The output transport cuts 16-bit PCM (the serializer encodes it afterwards).
    first_chunk_ms = outbound_payload_ms(settings.first_audio_chunk_ms)
    return ExotelTransport(
        websocket=websocket,
        first_chunk_bytes=call.sample_rate * 2 * first_chunk_ms // 1000,
        params=FastAPIWebsocketParams(
            audio_in_enabled=True,
            audio_out_enabled=True,
            audio_in_sample_rate=call.listen_sample_rate,
            audio_in_filter=noise_filter(settings.noise_filter),  # NOISE_FILTER
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
