"""Why the bot spoke and how a call ended: the names the call, its record and its post-call
steps share.

A frame that starts a bot turn says why in `frame.metadata[TURN_CAUSE]` (e.g. "keypad",
"silence_check_in", "time_limit"; see `CallRecorder._turn_cause`). How a call ended is one
`Ending` per call, held by the `PhoneCall` and shared by call control and the call record: each
piece of evidence (the bot hanging up, Exotel's `stop`, an error, a closed socket) is noted
with its strength, and the strongest wins.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

TURN_CAUSE = "turn_cause"
REPLY = "reply"  # the cause of a bot turn that answers the caller's speech
TOOL_RESULT = "tool_result"  # ... or answers it once a tool's result is back
GREETING = "greeting"


class CallEnd(StrEnum):
    """How a call ended: `record.json`'s `end.reason` and the `call_end` log line's."""

    CALLER_HUNG_UP = "caller_hung_up"
    BOT_HUNG_UP = "bot_hung_up"
    TRANSFERRED = "transferred"
    VOICEMAIL = "voicemail"  # an outbound call reached an answering machine
    IVR = "ivr"  # an outbound call reached a phone menu
    SILENCE = "silence"  # nobody said anything on an outbound call
    ERROR = "error"
    UNKNOWN = "unknown"


class Evidence(IntEnum):
    """How sure a piece of evidence of the end is; the stronger wins, the first of equals."""

    SOCKET_CLOSED = 1  # the websocket closed without a `stop`
    PIPELINE_END = 2  # the pipeline ended (an EndFrame) with no other word
    FAILURE = 3  # a fatal error, or the call's task raised
    STOP = 4  # Exotel's `stop`: the caller (or the flow) ended the stream
    DECIDED = 5  # call control decided: a hang-up, a transfer, a voicemail message


class Ending:
    """How one call ended: `reason` (a `CallEnd`) and `detail` (Exotel's stop reason, the bot's
    reason, the error), from the strongest evidence noted so far."""

    def __init__(self) -> None:
        self.reason = CallEnd.UNKNOWN
        self.detail = ""
        self._strength = 0

    def note(self, evidence: Evidence, reason: CallEnd, detail: str = "") -> bool:
        """Note evidence of the end; True if it is now the call's end (stronger than before)."""
        if evidence <= self._strength:
            return False
        self._strength = int(evidence)
        self.reason, self.detail = CallEnd(reason), detail
        return True

    @property
    def final(self) -> bool:
        """The call is ending for sure: the bot hung up (or is saying goodbye), or Exotel
        stopped the stream. Nothing the caller says now starts a turn."""
        return self._strength >= Evidence.STOP

    def __str__(self) -> str:
        """For the call's last log line: "bot hung up: caller silent", "caller hung up
        (callended)" (Exotel's or the socket's word in brackets), "pipeline finished"."""
        if not self._strength:
            return "pipeline finished"
        words = self.reason.value.replace("_", " ")
        if not self.detail:
            return words
        if self._strength in (Evidence.STOP, Evidence.SOCKET_CLOSED):
            return f"{words} ({self.detail})"
        return f"{words}: {self.detail}"
