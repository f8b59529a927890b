"""Frames the template's own stages send each other, outside Exotel's wire (wire/frames.py).

Here, at the package's root, so that the stage that sends one and the one that acts on it
(in different sub-packages) both import it from one place.
"""

from __future__ import annotations

from pipecat.frames.frames import SystemFrame


class UserWentQuietFrame(SystemFrame):
    """The VAD heard the first silence after the user's speech, inside its stop window.

    Pushed upstream by `PhoneTurnStopStrategy` (call/turns.py), so an STT service can finalize
    what it has heard now rather than 0.2 s later at `VADUserStoppedSpeakingFrame` (see
    exotel_bot/services/stt_replay.py). The user may go on speaking: it is not a turn's end.
    """
