"""Deepgram STT that loses nothing the caller said when its websocket drops mid-call.

Pipecat's `DeepgramSTTService` reconnects by itself after a drop, but only after a backoff of
at least 4 s (`pipecat.utils.network.exponential_backoff_time`), and the audio sent to the
dead socket is gone: the caller's words in the gap are never transcribed and the caller hears
nothing. `ReplayingDeepgramSTTService` adds two things:

- it keeps the caller audio sent since the last final transcript (at most `replay_secs`,
  5 s by default); and
- as soon as it notices the connection is gone (the next 20 ms of caller audio), it reconnects
  at once through pipecat's own reconnect cycle (`STTService._reconnect`: audio arriving
  meanwhile is buffered and replayed) and first sends the kept audio into the new connection,
  so the utterance in the gap is still transcribed and answered. If the caller had already
  stopped speaking, it then asks Deepgram to finalize.

It also asks Deepgram to finalize as soon as the caller goes quiet (`UserWentQuietFrame`,
from exotel_bot/call/turns.py), not only once the VAD has heard its 0.2 s of silence: Deepgram
returns the words heard so far (https://developers.deepgram.com/docs/finalize), so the final
transcript is in about 0.15 s sooner and the turn can be decided (and the LLM started) on it.
If the caller goes on speaking, the rest of the sentence comes in the next final.

What the caller hears when the STT does not come back soon enough (an apology after 2 s of
the caller's silence) is exotel_bot/call/fallback.py's job; it reads `connected` and calls
`forget_unheard_audio()` once it has asked the caller to say it again.

And every call's service shares one HTTP client. Deepgram's SDK builds an `httpx` client for
its REST endpoints with each `AsyncDeepgramClient`, and so a TLS context (certificates loaded
and parsed: about 5 % of the server's CPU at 50 calls); pipecat streams over a websocket and
never uses it. The shared client is handed in through the SDK's own `httpx_client` argument.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, partial

import httpx
import pipecat.services.deepgram.stt as pipecat_deepgram
from deepgram.listen.v1.types import ListenV1Finalize
from loguru import logger
from pipecat.frames.frames import (
    Frame,
    StartFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.deepgram.stt import DeepgramSTTService

from exotel_bot.frames import UserWentQuietFrame

DEFAULT_REPLAY_SECS = 5.0


class ReplayingDeepgramSTTService(DeepgramSTTService):
    """`DeepgramSTTService` that reconnects at once after a drop and replays the caller's
    unanswered audio (16-bit PCM since the last final transcript, at most `replay_secs`)."""

    def __init__(self, *args, replay_secs: float = DEFAULT_REPLAY_SECS, **kwargs):
        with _deepgram_clients_share_http():
            super().__init__(*args, **kwargs)
        self._replay_secs = replay_secs
        self._replay = bytearray()
        self._replay_limit = 0
        self._reconnect_task = None
        self._caller_speaking = False
        self._drop_reported = False  # one error report per dropped connection
        self.reconnects = 0

    @property
    def connected(self) -> bool:
        """A live connection to Deepgram, not in the middle of a reconnect."""
        return self._connection is not None and not self._reconnecting

    def forget_unheard_audio(self) -> None:
        """Drop the kept audio (the caller was asked to say it again)."""
        self._replay.clear()

    async def start(self, frame: StartFrame):
        await super().start(frame)
        self._replay_limit = int(self.sample_rate * 2 * self._replay_secs)

    def _keep(self, audio: bytes) -> None:
        self._replay += audio
        excess = len(self._replay) - self._replay_limit
        if excess > 0:
            del self._replay[: excess + excess % 2]

    async def run_stt(self, audio: bytes):
        self._keep(audio)
        dropped = self._connection is None and not self._reconnecting and self.is_usable
        if dropped and (self._reconnect_task is None or self._reconnect_task.done()):
            self._reconnect_task = self.create_task(self._reconnect_now(), "stt-reconnect-now")
        async for frame in super().run_stt(audio):
            yield frame

    async def _reconnect_now(self) -> None:
        kept = len(self._replay) / (2 * self.sample_rate)
        logger.warning(f"{self}: connection lost; reconnecting now ({kept:.1f} s to replay)")
        self.reconnects += 1
        await self.push_error(error_msg="connection lost; reconnecting at once")
        await self._reconnect()  # pipecat's cycle: buffers live audio, _do_reconnect, replays
        self._drop_reported = False  # the old connection (and its errors) are gone
        if not self._caller_speaking and self._replay:
            await self._finalize()  # the caller already stopped: no VAD stop will come

    async def push_error(
        self,
        error_msg: str,
        exception: Exception | None = None,
        fatal: bool = False,
        category=None,
        force_treat_as_permanent: bool = False,
    ):
        """Report a drop once: the dead socket's own error and ours are one event."""
        if not (fatal or force_treat_as_permanent):
            if self._drop_reported:
                logger.debug(f"{self}: {error_msg} (the drop is already reported)")
                return
            self._drop_reported = True
        await super().push_error(
            error_msg,
            exception=exception,
            fatal=fatal,
            category=category,
            force_treat_as_permanent=force_treat_as_permanent,
        )

    async def _do_reconnect(self):
        await super()._do_reconnect()
        if self._replay and self._connection is not None:
            await self._connection.send_media(bytes(self._replay))
            logger.info(f"{self}: replayed {len(self._replay) // 2} samples of caller audio")

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        if isinstance(frame, UserWentQuietFrame):
            await self._finalize()
            return  # ours alone: nothing upstream of the STT needs it
        if isinstance(frame, VADUserStartedSpeakingFrame):
            self._caller_speaking = True
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            self._caller_speaking = False
        await super().process_frame(frame, direction)

    async def _finalize(self) -> None:
        """Ask Deepgram for the final transcript of what it has heard (if connected)."""
        if self._connection is not None and not self._reconnecting:
            self.request_finalize()
            await self._connection.send_finalize(ListenV1Finalize(type="Finalize"))

    async def push_frame(self, frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM):
        if isinstance(frame, TranscriptionFrame):
            self._replay.clear()  # a final transcript: what came before it was heard
        await super().push_frame(frame, direction)


@cache
def shared_http_client() -> httpx.AsyncClient:
    """The process's HTTP client for Deepgram's SDK (REST only; streaming does not use it)."""
    return httpx.AsyncClient(timeout=60.0)


@contextmanager
def _deepgram_clients_share_http() -> Iterator[None]:
    """While pipecat builds a Deepgram service, its `AsyncDeepgramClient(...)` gets
    `httpx_client=shared_http_client()`. pipecat has no argument for it (see
    docs/pipecat-internals.md); the name is swapped back at once, and nothing awaits in between.
    """
    build = pipecat_deepgram.AsyncDeepgramClient
    pipecat_deepgram.AsyncDeepgramClient = partial(build, httpx_client=shared_http_client())
    try:
        yield
    finally:
        pipecat_deepgram.AsyncDeepgramClient = build
