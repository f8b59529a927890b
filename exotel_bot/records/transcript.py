"""A call's turn list, built from what the call recorder saw, moment by moment.

`Transcript` knows nothing of frames: `CallRecorder` (records/recorder.py) reads the frames and
tells it what happened and when (seconds since the call started). It keeps

- the caller's turns: from where the speech really began (refined with the caller's loudness,
  `CallerLevels`) to where it ended or the bot decided it was over, barge-ins marked;
- the bot's turns: what was said, interruptions, why each one came (`cause`) and the latency
  from the event that caused it; a reply's latency is split along the wait's critical path
  (records/latency.py) with the services' time-to-first-byte figures.

A bot turn starts and ends when the caller hears it (the output transport says so at playout
time, wire/output.py), which can be well after the TTS made it: a reply can be spoken while
the turn before it still plays. So each TTS utterance takes its cause, the caller turn it
answers and its sentences when the TTS starts it, and a bot turn takes the oldest utterance
not yet heard when it starts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from exotel_bot.call.turns import VAD_STOP_SECS
from exotel_bot.causes import GREETING, REPLY, TOOL_RESULT
from exotel_bot.records.audio import CallerLevels
from exotel_bot.records.latency import FirstByte, last_before, reply_latency
from exotel_bot.records.turns import Turn, round_secs


@dataclass
class _Utterance:
    """What the TTS was asked to say, waiting to be heard as a bot turn."""

    context_id: str | None
    cause: tuple[str, float] | None  # why it is said, and when that happened
    asked: Turn | None  # the caller turn it answers, if any
    pieces: list[str] = field(default_factory=list)  # its sentences
    interruptible: bool = True


class Transcript:
    """The caller's and the bot's turns in order, with the bot's latencies.

    `levels` is the caller's loudness, fed by the recorder; `on_bot_turn` is called with each
    bot turn as it ends (the recorder logs it).
    """

    def __init__(self, levels: CallerLevels, on_bot_turn: Callable[[Turn], None]):
        self.turns: list[Turn] = []
        self.greeting_latency: float | None = None  # seconds to the first bot audio
        self.cleared = False  # the caller cut the bot off: its audio in flight never played
        self._levels = levels
        self._on_bot_turn = on_bot_turn
        self._caller: Turn | None = None  # the caller turn in progress
        self._bot: Turn | None = None  # the bot turn in progress
        self._reply: Turn | None = None  # a finished caller turn the bot has not answered yet
        self._cause: tuple[str, float] | None = None  # (why, when) the next bot turn comes
        self._llm_firsts: deque[FirstByte] = deque(maxlen=20)
        self._tts_firsts: deque[FirstByte] = deque(maxlen=20)
        self._vad_start: float | None = None
        self._bot_text: list[str] = []  # sentences sent to TTS, not yet heard in a bot turn
        self._utterances: deque[_Utterance] = deque()  # started by the TTS, not yet heard
        self._early_text: dict[str, list[str]] = {}  # sentences ahead of their TTSStarted
        self._tool_result_at: float | None = None  # a tool's result, before the LLM's run on it
        self._last_asked: Turn | None = None  # the caller turn the last utterance answered

    @property
    def bot_turn_start(self) -> float:
        """Where the bot turn in progress started (0.0 when the bot is not speaking)."""
        return self._bot.start if self._bot is not None else 0.0

    # --- The caller ---------------------------------------------------------------------------

    def vad_started(self, vad_estimate: float) -> None:
        """The VAD heard speech that began around `vad_estimate`."""
        start = self._levels.speech_start(vad_estimate, max_pause=VAD_STOP_SECS)
        if self._caller is None:
            self._vad_start = start
        else:  # words started the turn before the VAD did, or the caller paused
            self._caller.start = min(self._caller.start, start)
            self._caller.end = None

    def vad_stopped(self, vad_estimate: float, now: float) -> None:
        """The VAD decided at `now` that the speech ended around `vad_estimate`."""
        self._vad_start = None
        if self._caller is not None:
            self._caller.end = self._levels.speech_end(vad_estimate, now)
            self._caller.vad_stopped_at = now

    def transcribed(self, text: str, now: float) -> None:
        """A final transcript of the caller's words."""
        if self._caller is not None:
            self._caller.pieces.append(text)
            self._caller.transcribed_at = now

    def caller_text(self, text: str) -> None:
        """The caller's turn as it went into the LLM's context."""
        turn = self._caller or self._last("caller")
        if turn is not None:
            turn.text = text

    def caller_starts(self, now: float) -> None:
        """The user turn began."""
        start = self._vad_start
        if start is None:  # the words came first (an interim transcript while the bot talks)
            start = self._levels.speech_start(now, max_pause=VAD_STOP_SECS)
        self._caller = self._new_turn("caller", min(start, now))
        self._caller.barge_in = self._bot is not None
        self._vad_start = None
        self._reply = None  # whatever the bot was about to say, it now answers this turn

    def caller_endpointed(self, now: float) -> None:
        """The caller's turn went to the LLM: the turn is over for the bot."""
        if self._caller is not None:
            self._endpointed(self._caller, now)

    def caller_stops(self, now: float) -> None:
        """The user turn ended."""
        turn, self._caller = self._caller, None
        if turn is None:
            return
        self._endpointed(turn, now)
        if turn.end is None or turn.end > turn.endpointed_at:
            turn.end = turn.endpointed_at

    def _endpointed(self, turn: Turn, now: float) -> None:
        """The bot decided the caller is done and set to work on an answer."""
        if turn.endpointed_at is None:
            turn.endpointed_at = now
            self._reply = turn

    # --- The bot ------------------------------------------------------------------------------

    def bot_turn_coming(self, cause: str | None, now: float) -> None:
        """Something will make the bot speak: remember why (`None`: it did not say), and when."""
        if cause is None:
            spoke = any(t.speaker == "bot" for t in self.turns) or self._bot is not None
            cause = GREETING if not spoke and not self.turns else "spoken"
        self._cause = (str(cause), 0.0 if cause == GREETING else now)

    def tool_result(self, now: float) -> None:
        """A tool's result is back and the LLM will speak about it (in its next run)."""
        self._tool_result_at = now

    def llm_run_started(self) -> None:
        """The LLM started a response: after a tool's result, this is the answer about it,
        to the caller turn whose run called the tool."""
        if self._tool_result_at is not None:
            self._cause = (TOOL_RESULT, self._tool_result_at)
            self._reply = self._reply or self._last_asked
            self._tool_result_at = None

    def tts_started(self, context_id: str | None, interruptible: bool = True) -> None:
        """The TTS started an utterance: it takes the pending cause and the caller turn it
        answers now, whenever the caller comes to hear it."""
        cause, self._cause = self._cause, None
        asked, self._reply = self._reply, None
        self._last_asked = asked or self._last_asked
        pieces = self._early_text.pop(context_id, []) if context_id else []
        if not pieces:
            pieces, self._bot_text = self._bot_text, []
        self._utterances.append(_Utterance(context_id, cause, asked, pieces, interruptible))

    def bot_says(self, text: str, context_id: str | None = None) -> None:
        """A sentence went to the TTS (`context_id`: the TTS utterance it belongs to)."""
        for utterance in reversed(self._utterances):
            if context_id is None or utterance.context_id == context_id:
                utterance.pieces.append(text)
                return
        if context_id is not None:
            self._early_text.setdefault(context_id, []).append(text)
        elif self._bot is not None:
            self._bot.pieces.append(text)
        else:
            self._bot_text.append(text)

    def bot_text(self, text: str) -> None:
        """What the bot said, as it went into the LLM's context: the words of the latest bot
        turn whose sentences it begins like (only the words heard, when it was cut off)."""
        if not text:
            return
        bots = [t for t in reversed(self.turns) if t.speaker == "bot" and not t.text]
        turn = next((t for t in bots if _same_start(" ".join(t.pieces), text)), None)
        if turn is None and bots and not bots[0].pieces:
            turn = bots[0]  # nothing to compare with: the latest turn, as before
        if turn is not None:
            turn.text = text

    def bot_starts(self, now: float) -> None:
        """The bot's first audio of a turn went out."""
        if self._bot is not None:
            self._close_bot(now)
        self.cleared = False
        turn = self._bot = self._new_turn("bot", now)
        if self.greeting_latency is None and not any(t.speaker == "caller" for t in self.turns):
            self.greeting_latency = round_secs(now)
        if self._utterances:  # what the TTS started first and the caller has not heard yet
            utterance = self._utterances.popleft()
            turn.pieces, asked, cause = utterance.pieces, utterance.asked, utterance.cause
        else:
            turn.pieces, self._bot_text = self._bot_text, []
            asked, self._reply = self._reply, None
            cause, self._cause = self._cause, None
        tool_answer = cause is not None and cause[0] == TOOL_RESULT and asked is not None
        later = cause is not None and (asked is None or cause[1] >= (asked.endpointed_at or 0.0))
        if later and not tool_answer:  # not an answer to the caller's speech
            turn.cause = cause[0]
            turn.latency = {"total": round_secs(max(0.0, now - cause[1]))}
            return
        if asked is not None:
            # A reply, perhaps after a tool: timed from the caller, like every reply.
            turn.reply_to = asked.index
            turn.cause = TOOL_RESULT if tool_answer else REPLY
            llm = last_before(self._llm_firsts, asked.start, now)
            tts = last_before(self._tts_firsts, asked.start, now)
            turn.latency = reply_latency(asked, now, llm, tts)
            if tool_answer:
                turn.latency["since_tool_result"] = round_secs(max(0.0, now - cause[1]))

    def bot_stops(self, now: float) -> None:
        """The bot's audio of a turn ended (or the call did)."""
        if self._bot is not None:
            self._close_bot(now)

    def interrupted(self, now: float) -> bool:
        """The caller cut the bot off: True if a bot turn was cut (its audio stops at `now`)."""
        self._bot_text.clear()  # sentences the bot will now never say
        self._early_text.clear()
        # Utterances not heard yet are never heard, unless they cannot be interrupted.
        self._utterances = deque(u for u in self._utterances if not u.interruptible)
        turn = self._bot
        if turn is None or turn.interrupted:
            return False
        turn.interrupted = True
        turn.end = now
        self.cleared = True  # until the next bot turn, audio still arriving was dropped
        return True

    def _close_bot(self, now: float) -> None:
        turn, self._bot = self._bot, None
        if turn.end is None:
            turn.end = now
        self._on_bot_turn(turn)

    # --- The services' first bytes ------------------------------------------------------------

    def stt_ttfb(self, value: float) -> None:
        """The STT's time to a final transcript, for the caller turn it heard."""
        turn = self._caller or self._reply or self._last("caller")
        if turn is not None and turn.stt is None:
            turn.stt = value
            bot = self._answer_to(turn)  # pipecat may report it after the reply began
            if bot is not None and bot.latency is not None:
                bot.latency["stt_ttfb"] = round_secs(value)

    def llm_first_byte(self, now: float, ttfb: float) -> None:
        self._llm_firsts.append(FirstByte(now, ttfb))

    def tts_first_byte(self, now: float, ttfb: float) -> None:
        self._tts_firsts.append(FirstByte(now, ttfb))

    # --- The end ------------------------------------------------------------------------------

    def end_open_turns(self, end: float) -> None:
        """Turns still open when the call ended end at `end`."""
        for turn in self.turns:
            if turn.end is None:
                turn.end = end

    def _last(self, speaker: str) -> Turn | None:
        return next((t for t in reversed(self.turns) if t.speaker == speaker), None)

    def _answer_to(self, caller: Turn) -> Turn | None:
        return next((t for t in self.turns if t.reply_to == caller.index), None)

    def _new_turn(self, speaker: str, start: float) -> Turn:
        turn = Turn(index=len(self.turns) + 1, speaker=speaker, start=start)
        self.turns.append(turn)
        return turn


def _same_start(said: str, text: str) -> bool:
    """Whether two versions of what the bot said begin alike (spacing and case aside)."""
    a, b = ("".join(x.split()).lower()[:12] for x in (said, text))
    return bool(a) and bool(b) and (a.startswith(b) or b.startswith(a))
