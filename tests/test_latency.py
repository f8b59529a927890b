"""Answering sooner: first phrase to the TTS, an early final transcript and LLM start, a turn's
first audio at once.

Behaviour only (no timing thresholds): what the TTS is handed and when relative to the LLM's
sentence, when the LLM starts relative to the VAD, what Exotel receives first.
"""

from __future__ import annotations

import asyncio
import re
import time

import numpy as np
from pipecat.audio.vad.vad_analyzer import VADState
from pipecat.clocks.system_clock import SystemClock
from pipecat.frames.frames import (
    EagerEndOfTurnCancelFrame,
    InputAudioRawFrame,
    InterimTranscriptionFrame,
    LLMRunFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessorSetup
from pipecat.utils.asyncio.task_manager import TaskManager

from exotel_bot.call.turns import (
    VAD_STOP_SECS,
    PhoneTurnStopStrategy,
    UserWentQuietFrame,
    phone_vad,
)
from exotel_bot.services.tts_text import FirstPhraseAggregator
from simulator.audio import fixture, load_wav
from simulator.caller import Hangup, Say, WaitForBot, WaitForGreeting, run_call

LONG_REPLY = (
    "Sure, the delivery address on your account is flat twelve on the second floor of Green "
    "Park Apartments near the old water tank on Station Road. Would you like to change it?"
)
FIRST_SENTENCE = LONG_REPLY.split(". ")[0] + "."


# ---------------------------------------------------------------------------------------------
# The first phrase of a reply goes to the TTS before the LLM has finished the sentence


async def aggregate(tokens: list[str], aggregator=None) -> list[str]:
    aggregator = aggregator or FirstPhraseAggregator()
    pieces = [a.text for t in tokens async for a in aggregator.aggregate(t)]
    rest = await aggregator.flush()
    return pieces + ([rest.text] if rest else [])


def tokens(text: str) -> list[str]:
    """Text as an LLM streams it: one word (with its leading space) at a time."""
    return re.findall(r"\s*\S+", text)


async def test_first_phrase_then_sentences():
    pieces = await aggregate(tokens(LONG_REPLY))
    assert " ".join(pieces) == LONG_REPLY  # nothing lost, nothing added
    first = pieces[0]
    assert FIRST_SENTENCE.startswith(first) and len(first) < len(FIRST_SENTENCE) / 3
    assert pieces[-1] == "Would you like to change it?"  # later sentences stay whole


async def test_first_phrase_ends_at_a_clause_mark():
    pieces = await aggregate(tokens("Yes, that is right, it ships today. Anything else?"))
    assert pieces == ["Yes, that is right,", "it ships today.", "Anything else?"]


async def test_a_short_sentence_is_its_own_first_phrase():
    pieces = await aggregate(tokens("Okay. Your order ships tomorrow, Mr. Sharma. Bye."))
    assert pieces == ["Okay.", "Your order ships tomorrow, Mr. Sharma.", "Bye."]


async def test_every_reply_starts_with_a_phrase_again():
    aggregator = FirstPhraseAggregator()
    first = await aggregate(tokens(LONG_REPLY), aggregator)
    second = await aggregate(tokens(LONG_REPLY), aggregator)  # flush() ended the first reply
    assert first == second
    async for _ in aggregator.aggregate("Sure, the delivery"):
        pass
    await aggregator.handle_interruption()  # the caller barged in: the rest is never spoken
    assert await aggregate(tokens(LONG_REPLY), aggregator) == first


async def test_tts_gets_the_first_phrase_before_the_llm_finishes_the_sentence(server, stand_ins):
    """Through the websocket: the reply's first Cartesia request is a phrase of the sentence
    the LLM is still writing, and the rest follows on the same context as continuations."""
    stand_ins.config.stt.transcripts.append("Can you read me the delivery address on my account?")
    stand_ins.config.llm.rules = [{"match": "delivery address", "reply": LONG_REPLY}]
    stand_ins.config.llm.words_per_chunk = 1
    stand_ins.config.llm.token_interval = 0.03
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("address"), WaitForBot(timeout=15), Hangup()],
    )
    assert report.ok, report.summary()

    requests = stand_ins.cartesia.requests
    first_words = next(r for r in requests if r.get("transcript", "").startswith("Sure"))
    context = first_words["context_id"]
    reply = [r for r in requests if r.get("context_id") == context and "transcript" in r]
    texts = [r["transcript"].strip() for r in reply if r["transcript"].strip()]
    assert FIRST_SENTENCE.startswith(texts[0]) and texts[0] != FIRST_SENTENCE
    assert " ".join(texts) == LONG_REPLY
    # One utterance to Cartesia: every piece continues the context, a flush closes it.
    assert all(r["continue"] for r in reply if r["transcript"].strip())
    assert reply[-1]["transcript"] == "" and reply[-1]["continue"] is False
    # The first phrase reached Cartesia before the end of its sentence was even sent to it.
    ends_sentence = next(r for r in reply if r["transcript"].strip().endswith("Road."))
    assert first_words["received_at"] < ends_sentence["received_at"]


# ---------------------------------------------------------------------------------------------
# The LLM starts inside the VAD's stop window; a reply still waits for the turn to be decided


class Listener:
    """A PhoneTurnStopStrategy watching a real PhoneVAD fed a fixture in 100 ms chunks."""

    def __init__(self):
        self.vad = phone_vad()
        self.vad.set_sample_rate(8000)
        self.strategy = PhoneTurnStopStrategy(vad=self.vad)
        self.events: list[tuple] = []  # (event, text, the VAD's state at that moment)
        self.pushed: list[tuple] = []  # (frame, direction, the VAD's state at that moment)

    async def start(self) -> Listener:
        setup = FrameProcessorSetup(
            clock=SystemClock(), task_manager=TaskManager(), pipeline_worker=None
        )
        await self.strategy.setup(setup)

        @self.strategy.event_handler("on_user_turn_inference_triggered")
        async def inference(strategy, speculation):
            text = speculation.text if speculation else None
            self.events.append(("inference", text, self.vad.state))

        @self.strategy.event_handler("on_user_turn_speculation_cancelled")
        async def cancelled(strategy):
            self.events.append(("cancelled", None, self.vad.state))

        @self.strategy.event_handler("on_user_turn_stopped")
        async def stopped(strategy, params):
            self.events.append(("stopped", params.confirms_speculation, self.vad.state))

        @self.strategy.event_handler("on_push_frame")
        async def pushed(strategy, frame, direction):
            self.pushed.append((frame, direction, self.vad.state))

        await self.strategy.handle_user_turn_started()
        return self

    def quiet_frames(self) -> list[tuple]:
        return [p for p in self.pushed if isinstance(p[0], UserWentQuietFrame)]

    async def hear(
        self,
        pcm: bytes,
        interim: str | None = None,
        interim_at: float = 0.5,
        final_when_quiet: str | None = None,
    ) -> int | None:
        """Play 8 kHz audio through the VAD and the strategy, as the user aggregator does;
        `interim` arrives at `interim_at` seconds, `final_when_quiet` as soon as the strategy
        asks the STT to finalize. Returns the chunk at which the VAD stopped (None: it did not).
        """
        chunk = 1600  # bytes: 100 ms at 8 kHz, as the simulated Exotel caller sends it
        speaking = False
        for index, offset in enumerate(range(0, len(pcm), chunk)):
            state = await self.vad.analyze_audio(pcm[offset : offset + chunk])
            if state == VADState.SPEAKING and not speaking:
                speaking = True
                await self.strategy.process_frame(VADUserStartedSpeakingFrame())
            if state == VADState.QUIET and speaking:
                await self.strategy.process_frame(VADUserStoppedSpeakingFrame(VAD_STOP_SECS))
                return index
            frame = InputAudioRawFrame(pcm[offset : offset + chunk], 8000, 1)
            await self.strategy.process_frame(frame)
            if interim and offset / 16000 >= interim_at:
                await self.strategy.process_frame(transcript(InterimTranscriptionFrame, interim))
                interim = None
            if final_when_quiet and self.quiet_frames():
                await self.strategy.process_frame(transcript(TranscriptionFrame, final_when_quiet))
                final_when_quiet = None
        return None


def speech(name: str) -> bytes:
    return np.asarray(load_wav(fixture(name, 8000), 8000), dtype=np.int16).tobytes()


def transcript(cls, text: str):
    return cls(text, "caller", "2026-01-01T00:00:00Z")


async def test_llm_starts_when_the_caller_goes_quiet_not_when_the_vad_stops():
    listener = await Listener().start()
    said = "Hi, I would like to know the status of my order please."
    await listener.hear(speech("order_status"), interim=said, interim_at=2.5)
    # The LLM started while the VAD was still inside its stop window...
    assert listener.events == [("inference", said, VADState.STOPPING)]
    # ...but the turn is not over until the final transcript says so.
    await listener.strategy.process_frame(transcript(TranscriptionFrame, said))
    assert listener.events[-1][:2] == ("stopped", True)


async def test_a_breath_inside_the_stop_window_withdraws_the_early_start():
    """A short pause after words that look complete: the LLM starts, the caller goes on."""
    listener = await Listener().start()
    pcm = speech("order_status")
    breath = 16000 + 1600 * 15  # bytes: 1.5 s into the sentence, mid-word
    pcm = pcm[:breath] + bytes(3200) + pcm[breath:]  # 200 ms: too short for a VAD stop
    await listener.hear(pcm, interim="Hi, I would like to know.", interim_at=1.0)
    kinds = [event[0] for event in listener.events]
    assert kinds[:2] == ["inference", "cancelled"], listener.events
    assert "stopped" not in kinds  # nothing was released: the turn was never decided
    # The STT was asked to finalize at the breath and again at the end: each silence once.
    assert len(listener.quiet_frames()) == 2, listener.pushed


async def test_the_stt_is_asked_to_finalize_as_soon_as_the_caller_goes_quiet():
    """One `UserWentQuietFrame`, upstream (to the STT), inside the VAD's stop window."""
    listener = await Listener().start()
    await listener.hear(speech("order_status"))
    (quiet,) = listener.quiet_frames()
    assert quiet[1] == FrameDirection.UPSTREAM
    assert quiet[2] == VADState.STOPPING  # before the VAD has stopped


async def test_a_complete_final_inside_the_stop_window_shortens_it():
    """The final transcript is in while the VAD still waits out its 0.2 s, and it is a whole
    sentence: the VAD stops sooner, and the turn ends there."""
    said = "Hi, I would like to know the status of my order please."
    pcm = speech("order_status") + bytes(16000)  # a second of silence after the speech
    usual = await (await Listener().start()).hear(pcm)
    listener = await Listener().start()
    sooner = await listener.hear(pcm, final_when_quiet=said)
    assert usual is not None and sooner is not None
    assert sooner < usual, (sooner, usual)
    assert listener.events[-1][:2] == ("stopped", True)

    # An unfinished sentence keeps the usual window.
    unfinished = await (await Listener().start()).hear(pcm, final_when_quiet="My order is")
    assert unfinished == usual


async def test_deepgram_gets_finalize_before_the_vad_stops(server, stand_ins):
    """Through the websocket: the final transcript answers the Finalize sent when the caller
    went quiet; pipecat's own Finalize at the VAD stop comes after it and finds nothing left."""
    said = "Can you read me the delivery address on my account?"
    stand_ins.config.stt.transcripts.append(said + " |")  # the recording has no pause in it
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("address"), WaitForBot(timeout=15), Hangup()],
    )
    assert report.ok, report.summary()
    (connection,) = stand_ins.deepgram.connections
    finals = [(f["transcript"], f["from_finalize"]) for f in connection.finals]
    assert [text for text, _ in finals if text] == [said], finals
    words = finals.index((said, True))  # answered a Finalize (not Deepgram's own endpoint)...
    # ...and both Finalizes reached Deepgram: ours when the caller went quiet, pipecat's at the
    # VAD stop. The later one finds nothing new; on a busy machine its empty answer may not be
    # sent before the hang-up closes the socket, so what is checked is that none has words.
    deadline = time.monotonic() + 20
    while connection.finalize_count < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert connection.finalize_count >= 2, finals
    finals = [(f["transcript"], f["from_finalize"]) for f in connection.finals]
    assert all(text == "" for text, _ in finals[words + 1 :]), finals
    assert connection.unmarked_pauses == 0


async def test_an_unfinished_interim_does_not_start_the_llm():
    listener = await Listener().start()
    await listener.hear(speech("order_status"), interim="Hi, I would like to know the status of my")
    assert listener.events == []  # it waits for the final transcript


# ---------------------------------------------------------------------------------------------
# The first audio of a turn goes out at once, in short payloads, then full ones


def check_ramp(turns: list[list[int]], first: int, full: int) -> None:
    assert turns
    for sizes in turns:
        assert sizes[0] == first, turns
        sent = 0
        for size in sizes[:-1]:  # the last one kept may be a turn's padded tail
            assert size == (full if sent >= full else first), turns
            sent += size


async def test_a_turns_first_audio_goes_in_short_payloads(server, stand_ins):
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("order_status"), WaitForBot(timeout=15), Hangup()],
    )
    assert report.ok, report.summary()
    assert len(report.turn_first_payloads) >= 2  # the greeting and the reply
    check_ramp(report.turn_first_payloads, first=640, full=3200)  # 40 ms, then 200 ms
    assert all(size % 320 == 0 for size in report.media_payload_sizes)


async def test_first_payload_size_is_a_setting(server_factory, stand_ins):
    server = server_factory(EXOTEL_FIRST_AUDIO_CHUNK_MS="200")
    report = await run_call(server.ws_url, [WaitForGreeting(), Hangup()])
    assert report.ok, report.summary()
    check_ramp(report.turn_first_payloads, first=3200, full=3200)  # no ramp: 200 ms throughout


async def test_a_withdrawal_that_crosses_the_turn_decision_still_gets_an_answer():
    """The LLM withdraws a speculative answer (it wants a tool call) just after the turn was
    decided on it: the decided turn is answered by a fresh LLM run, not left unanswered."""
    listener = await Listener().start()
    pushed = []

    @listener.strategy.event_handler("on_push_frame")
    async def on_push_frame(strategy, frame, direction):
        pushed.append(frame)

    said = "That's all, goodbye."
    await listener.strategy.process_frame(VADUserStartedSpeakingFrame())
    await listener.strategy.process_frame(transcript(InterimTranscriptionFrame, said))
    await listener.strategy.process_frame(VADUserStoppedSpeakingFrame(VAD_STOP_SECS))
    await listener.strategy.process_frame(transcript(TranscriptionFrame, said))
    assert [e[:2] for e in listener.events] == [("inference", said), ("stopped", True)]
    await listener.strategy.process_frame(EagerEndOfTurnCancelFrame())
    assert [type(f) for f in pushed] == [LLMRunFrame]


async def test_a_complete_interim_after_the_vad_stop_starts_the_llm():
    """Real STT interims trail the audio: one that completes the sentence after the VAD has
    stopped, while the final is on its way, still starts the LLM before the final."""
    listener = await Listener().start()
    said = "Where is my order?"
    await listener.strategy.process_frame(VADUserStartedSpeakingFrame())
    await listener.strategy.process_frame(transcript(InterimTranscriptionFrame, "Where is my"))
    await listener.strategy.process_frame(VADUserStoppedSpeakingFrame(VAD_STOP_SECS))
    assert listener.events == []
    await listener.strategy.process_frame(transcript(InterimTranscriptionFrame, said))
    assert [e[:2] for e in listener.events] == [("inference", said)]
    await listener.strategy.process_frame(transcript(TranscriptionFrame, said))
    assert [e[:2] for e in listener.events][-1] == ("stopped", True)
