"""When the caller hears the bot's audio: a real-time clock of the audio sent to Exotel.

Exotel plays the `media` it receives in order, in real time, from a buffer of its own; a
`clear` empties that buffer (Exotel's "Working with the Stream applet"). So from the moment
each payload left and its length, the bot knows when the caller will have heard it: that is
the playout time. `PlayoutClock` keeps it; the output transport (wire/output.py) uses it to
send audio at real time with a bounded lead, and to tell the rest of the pipeline that the
bot started or stopped speaking when the caller hears it start or stop, not when it was sent.

Exotel's `mark` echoes confirm the same moments after the fact (call/control.py logs how far
apart the two are); the clock is what timers can use while the call goes on.
"""

from __future__ import annotations

import time

# How far ahead of the caller's ear the bot may send: a payload goes out only while less
# than this much sent audio is still unplayed, so at most PLAYOUT_LEAD_SECS plus one payload
# (0.5 s with 200 ms payloads) waits in Exotel's buffer. Enough to ride out a busy event loop
# or a jittery network without the caller hearing a gap; small enough that a client that reads
# slowly never falls behind and a `clear` has little to drop. See docs/exotel-wire.md.
PLAYOUT_LEAD_SECS = 0.3
# Each audio frame the output transport sent carries, in `frame.metadata[PLAYOUT_START]`, the
# `time.monotonic()` at which the caller starts hearing it (the call recording uses it).
PLAYOUT_START = "playout_start"


class PlayoutClock:
    """The playout position of the audio sent to one caller, in `time.monotonic()` seconds.

    `end` is when everything sent so far will have finished playing (in the past when
    Exotel's buffer is empty).
    """

    def __init__(self, lead_secs: float = PLAYOUT_LEAD_SECS):
        if lead_secs < 0:
            raise ValueError(f"lead_secs must be 0 or more, not {lead_secs}")
        self.lead_secs = lead_secs
        self.end = 0.0

    @staticmethod
    def now() -> float:
        return time.monotonic()

    def unplayed(self, now: float | None = None) -> float:
        """Seconds of sent audio the caller has not heard yet."""
        return max(0.0, self.end - (self.now() if now is None else now))

    def wait_before_sending(self, now: float | None = None) -> float:
        """Seconds to wait before the next payload, to keep the lead within `lead_secs`."""
        return max(0.0, self.unplayed(now) - self.lead_secs)

    def next_start(self, now: float | None = None) -> float:
        """When audio sent now would start playing: after what is still queued."""
        return max(self.end, self.now() if now is None else now)

    def sent(self, seconds: float, now: float | None = None) -> None:
        """`seconds` of audio went out: it plays after what is already queued."""
        self.end = self.next_start(now) + seconds

    def cleared(self, now: float | None = None) -> None:
        """Exotel dropped what it had not played (a `clear`): nothing is queued any more."""
        self.end = min(self.end, self.now() if now is None else now)
