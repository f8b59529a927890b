"""When a vendor fails mid-call, the caller hears a short apology, never dead silence.

- The LLM answers with an error (500, or 429 once the OpenAI SDK's own retries are spent) or
  says nothing for LLM_TIMEOUT_SECS: the stuck request is cancelled and the bot says a short
  apology through the TTS; the caller's next turn tries again.
- The TTS fails (an error, or its websocket closes): it cannot say the apology itself, so a
  pre-rendered one plays (`exotel_bot/assets/`, made by `make_fallback_audio.py`). Pipecat
  reconnects the TTS websocket with backoff.
- The STT drops: it reconnects at once and replays what the caller said since the last final
  transcript (exotel_bot/services/stt_replay.py). If it is not back within STT_GRACE_SECS of
  the caller stopping, the bot says the apology (the caller repeats), never silence.
- A vendor that cannot recover (pipecat marks it unusable: a rejected key, reconnects used up)
  or fails `max_failures` turns in a row: the bot apologises, says goodbye and hangs up. If the
  TTS is down too (every vendor unreachable), the goodbye could not be spoken: the caller hears
  the pre-rendered apology instead, then the hang-up.

Each failure is logged as one "Vendor failure" line saying what the caller heard (only what
was really sent to the caller: a recording that could not be read is "nothing"), and its
`ErrorFrame` reaches the call record; a hang-up shows there as the call's end reason. A vendor
that refuses its key (HTTP 401/403) also gets one line naming the setting to fix.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from asyncio import FIRST_COMPLETED
from collections.abc import Awaitable, Callable

from loguru import logger
from pipecat.frames.frames import (
    BotStoppedSpeakingFrame,
    ErrorFrame,
    FunctionCallsStartedFrame,
    InterruptionFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    UserStartedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.observers.base_observer import BaseObserver, FramePushed
from pipecat.processors.frame_processor import FrameProcessor

from exotel_bot.call.phrases import Phrases
from exotel_bot.call.recorded_apology import recorded_apology
from exotel_bot.causes import TURN_CAUSE
from exotel_bot.settings import SERVICE_KEYS, Settings
from exotel_bot.wire.handshake import ExotelCall

RECORDED_CHUNK_MS = 100
RECORDED_CONTEXT_PREFIX = "recorded-apology-"
# A vendor that fails as the call starts: let the greeting finish before the goodbye.
GREETING_GRACE_SECS = 8.0
# The caller stopped speaking while the STT was down: apologise if it is not back by then.
STT_GRACE_SECS = 2.0
# An error that says the vendor refused the key (HTTP 401/403 and the vendors' wordings).
KEY_REFUSED = re.compile(
    r"\b(401|403)\b|unauthori[sz]ed|forbidden|invalid[_ ](api[_ ])?key|incorrect api key", re.I
)


HangUp = Callable[[str, str | None], Awaitable[None]]


class VendorFallback(BaseObserver):
    """Watches one call's STT, LLM and TTS, and covers for them when they fail.

    `hang_up(reason, goodbye)` ends the call politely (CallControl.hang_up: it says `goodbye`
    and waits until Exotel has played it). Attach with `watch()` once the worker exists; it
    sees each frame once, where it was first pushed (`PhoneCall`'s one observer hands it on).
    """

    def __init__(
        self,
        call: ExotelCall,
        settings: Settings,
        phrases: Phrases,
        *,
        hang_up: HangUp,
        max_failures: int = 2,
    ):
        super().__init__(observe_every_push=False)
        self.incidents: list[dict[str, str]] = []
        self._language = settings.language
        self._key_names = {
            "stt": SERVICE_KEYS[settings.stt_service],
            "llm": "OPENAI_API_KEY",
            "tts": SERVICE_KEYS[settings.tts_service],
        }
        self._keys_reported: set[str] = set()
        self._tts_down = False  # the TTS failed and has not spoken since
        self._tts_failed = asyncio.Event()  # set with _tts_down, for _give_up to wait on
        self._phrases = phrases  # the call's language: apologies, the trouble goodbye
        self._sample_rate = call.sample_rate  # the rate the bot speaks at
        self._hang_up = hang_up
        self._llm_timeout_secs = settings.llm_timeout_secs
        self._max_failures = max_failures
        self._worker = None
        self._roles: dict[int, str] = {}
        self._llm: FrameProcessor | None = None
        self._tts: FrameProcessor | None = None
        self._llm_timer: asyncio.TimerHandle | None = None
        self._stt: FrameProcessor | None = None
        self._stt_timer: asyncio.TimerHandle | None = None
        self._failures = {"stt": 0, "llm": 0, "tts": 0}  # failed turns in a row
        self._failed_this_turn: set[str] = set()
        self._apologised_this_turn = False
        self._done = False  # hanging up, or the call is over: nothing left to cover
        self._bot_has_spoken = asyncio.Event()

    def watch(self, worker, *, stt: FrameProcessor, llm: FrameProcessor, tts: FrameProcessor):
        """Follow `worker`'s errors; `stt`, `llm`, `tts` are the vendor services. Its frames
        reach `on_push_frame()` through an observer: this one, or one that hands them on."""
        self._worker = worker
        self._stt, self._llm, self._tts = stt, llm, tts
        self._roles = {id(stt): "stt", id(llm): "llm", id(tts): "tts"}
        worker.add_event_handler("on_pipeline_error", self._on_pipeline_error)
        worker.add_event_handler("on_pipeline_finished", self._on_pipeline_finished)

    # --- Noticing failures ----------------------------------------------------------------

    async def on_push_frame(self, data: FramePushed):
        frame, source = data.frame, data.source
        if isinstance(frame, VADUserStoppedSpeakingFrame):
            self._start_stt_timer()
        elif isinstance(frame, VADUserStartedSpeakingFrame | TranscriptionFrame):
            self._stop_stt_timer()
        if isinstance(frame, UserStartedSpeakingFrame):
            self._new_turn()
        elif isinstance(frame, BotStoppedSpeakingFrame):
            self._bot_has_spoken.set()
        elif source is self._llm:
            if isinstance(frame, LLMFullResponseStartFrame):
                self._new_turn()  # keypad input starts a turn without speech
                self._start_llm_timer()
            elif isinstance(frame, LLMTextFrame | FunctionCallsStartedFrame):
                self._failures["llm"] = 0
                self._start_llm_timer()  # a stream that stalls mid-answer counts too
            elif isinstance(frame, LLMFullResponseEndFrame):
                self._stop_llm_timer()
        elif source is self._tts and self._spoken_by_tts(frame):
            self._failures["tts"] = 0
            self._tts_down = False
            self._tts_failed.clear()

    @staticmethod
    def _spoken_by_tts(frame) -> bool:
        """TTS audio that is not our own recording."""
        return isinstance(frame, TTSAudioRawFrame) and not str(frame.context_id).startswith(
            RECORDED_CONTEXT_PREFIX
        )

    def _new_turn(self) -> None:
        """One apology per turn, and one failure per vendor per turn however many errors."""
        self._failed_this_turn.clear()
        self._apologised_this_turn = False

    def _stt_connected(self) -> bool:
        return bool(getattr(self._stt, "connected", True))

    def _start_stt_timer(self) -> None:
        """The caller stopped speaking: if the STT is down, give it STT_GRACE_SECS."""
        if self._stt_timer is None and not self._done and not self._stt_connected():
            loop = asyncio.get_running_loop()
            self._stt_timer = loop.call_later(STT_GRACE_SECS, self._stt_still_down)

    def _stop_stt_timer(self) -> None:
        if self._stt_timer is not None:
            self._stt_timer.cancel()
            self._stt_timer = None

    def _stt_still_down(self) -> None:
        self._stt_timer = None
        if self._done or self._stt_connected():
            return
        self._incident(
            "stt",
            self._stt,
            f"not back {STT_GRACE_SECS:g} s after the caller stopped",
            "the apology",
        )
        forget = getattr(self._stt, "forget_unheard_audio", None)
        if forget is not None:
            forget()  # the caller is asked to say it again: do not answer it twice
        self._new_turn()
        self._stt.create_task(self._say(self._phrases.apology), name="stt-apology")

    def _start_llm_timer(self) -> None:
        self._stop_llm_timer()
        loop = asyncio.get_running_loop()
        self._llm_timer = loop.call_later(self._llm_timeout_secs, self._llm_went_quiet)

    def _stop_llm_timer(self) -> None:
        if self._llm_timer is not None:
            self._llm_timer.cancel()
            self._llm_timer = None

    def _llm_went_quiet(self) -> None:
        self._llm_timer = None
        if not self._done:
            self._llm.create_task(self._cancel_stuck_llm(), name="llm-timeout")

    async def _cancel_stuck_llm(self) -> None:
        """Cancel the request (an interruption does) and report it like any LLM error."""
        await self._llm.queue_frame(InterruptionFrame())
        await self._llm.push_error(f"no reply within {self._llm_timeout_secs:g} s")

    async def _on_pipeline_error(self, worker, frame: ErrorFrame) -> None:
        role = self._roles.get(id(frame.processor))
        if role is None:
            return  # not a vendor's error: pipecat's own log line is enough
        error = str(frame.error)[:200]
        if role == "tts":  # noted even while hanging up: no goodbye can be spoken then
            self._tts_down = True
            self._tts_failed.set()
        self._report_refused_key(role, frame.processor, error)
        if self._done:
            return
        usable = frame.processor.is_usable
        first_this_turn = role not in self._failed_this_turn
        self._failed_this_turn.add(role)
        if first_this_turn:
            self._failures[role] += 1

        # A dropped STT socket is pipecat's to reconnect; it marks the STT unusable if it can't.
        too_many = role != "stt" and self._failures[role] >= self._max_failures
        if not usable or too_many:
            await self._give_up(role, frame.processor, error)
        elif role == "stt":
            if first_this_turn:  # one drop can be reported twice (the send, the socket)
                heard = "none yet: the STT reconnects and replays the caller's audio"
                self._incident(role, frame.processor, error, heard)
        elif not first_this_turn or self._apologised_this_turn:
            logger.debug(f"{frame.processor} failed again this turn: {error}")
        elif role == "llm" and not self._tts_down:
            self._incident(role, frame.processor, error, "a spoken apology; the next turn retries")
            await self._say(self._phrases.apology)
        else:  # the TTS failed (or the LLM, with the TTS down): only a recording can be heard
            heard = await self._play_recorded_apology()
            self._incident(role, frame.processor, error, f"{heard}; the next turn retries")

    async def _on_pipeline_finished(self, worker, frame) -> None:
        self._done = True  # the call is over
        self._stop_llm_timer()
        self._stop_stt_timer()

    # --- What the caller hears ------------------------------------------------------------

    async def _give_up(self, role: str, service: FrameProcessor, error: str) -> None:
        self._done = True
        self._stop_llm_timer()
        if role == "tts" or self._tts_down:  # no goodbye can be spoken: the recording instead
            heard = await self._play_recorded_apology()
            self._incident(role, service, error, f"{heard}, then a hang-up")
            await self._hang_up(f"vendor failure: {role} ({service})", None)
        else:
            # Never talk over the greeting; the TTS failing on it ends the wait too.
            waits = [
                asyncio.ensure_future(e.wait()) for e in (self._bot_has_spoken, self._tts_failed)
            ]
            await asyncio.wait(waits, timeout=GREETING_GRACE_SECS, return_when=FIRST_COMPLETED)
            for wait in waits:
                wait.cancel()
            if self._tts_down:  # every vendor down: a goodbye would be silence
                heard = await self._play_recorded_apology()
                self._incident(role, service, error, f"{heard}, then a hang-up")
                await self._hang_up(f"vendor failure: {role} ({service})", None)
                return
            self._incident(role, service, error, "a spoken goodbye, then a hang-up")
            await self._hang_up(
                f"vendor failure: {role} ({service})", self._phrases.trouble_goodbye
            )

    async def _say(self, text: str) -> None:
        self._apologised_this_turn = True
        speech = TTSSpeakFrame(text)
        speech.metadata[TURN_CAUSE] = "apology"
        await self._worker.queue_frames([speech])

    async def _play_recorded_apology(self) -> str:
        """Pushed out of the TTS as if it had spoken it, so the transport treats it alike:
        bot-speaking events, barge-in, the last chunk flushed, a `mark` after it. Returns what
        the caller hears from it, for the log: the recording, or nothing and why."""
        if self._apologised_this_turn:
            return "nothing more (this turn's apology was already played)"
        self._apologised_this_turn = True
        try:
            pcm = recorded_apology(self._language, self._sample_rate)
        except (OSError, ValueError, EOFError) as e:  # a file missing from the deployment
            logger.error(f"The pre-recorded apology could not be read: {e}")
            return "nothing (the pre-recorded apology could not be read)"
        step = self._sample_rate * 2 * RECORDED_CHUNK_MS // 1000
        context_id = f"{RECORDED_CONTEXT_PREFIX}{uuid.uuid4().hex}"
        started = TTSStartedFrame(context_id=context_id)
        started.metadata[TURN_CAUSE] = "recorded_apology"
        await self._tts.push_frame(started)
        for start in range(0, len(pcm), step):
            await self._tts.push_frame(
                TTSAudioRawFrame(
                    audio=pcm[start : start + step],
                    sample_rate=self._sample_rate,
                    num_channels=1,
                    context_id=context_id,
                )
            )
        await self._tts.push_frame(TTSStoppedFrame(context_id=context_id))
        return "the pre-recorded apology"

    def _report_refused_key(self, role: str, service: FrameProcessor, error: str) -> None:
        """Once per vendor and call: a refused key is a setting to fix, not an outage."""
        if role in self._keys_reported or not KEY_REFUSED.search(error):
            return
        self._keys_reported.add(role)
        name = self._key_names[role]
        logger.error(
            f"{service} refused its key: check {name} (in .env, or in the secret set on Pipecat "
            f"Cloud). The vendor said: {error}"
        )

    def _incident(self, role: str, service: FrameProcessor, error: str, heard: str) -> None:
        incident = {"vendor": role, "service": str(service), "error": error, "caller_heard": heard}
        self.incidents.append(incident)
        logger.warning(f"Vendor failure: {role} ({service}): {error} | caller heard: {heard}")
