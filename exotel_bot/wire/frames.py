"""What crosses from Exotel's wire into the pipeline (and back), as typed frames.

Only `wire/` reads or writes Exotel's JSON: the serializer turns `stop` and `mark` messages into
these frames, and `ExotelMarkOutFrame` into a `mark` message in the call's own dialect. Caller
audio and keypad digits are pipecat's own `InputAudioRawFrame` and `InputDTMFFrame`; a bot
turn's interruption is pipecat's `InterruptionFrame` (sent as `clear`).

Source: Exotel's Voicebot applet documentation (the `stop` and `mark` events), see
docs/exotel-wire.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipecat.frames.frames import OutputTransportMessageFrame, SystemFrame


@dataclass
class ExotelStopFrame(SystemFrame):
    """Exotel ended the stream (`stop`): the caller hung up, or the flow moved on.

    Parameters:
        reason: Exotel's `stop.reason` as text (at most 80 characters), "stopped" if absent.
    """

    reason: str = "stopped"


@dataclass
class ExotelMarkFrame(SystemFrame):
    """Exotel echoed a `mark`: the bot audio sent before the mark has played to the caller.

    Parameters:
        mark: the mark's name as the bot sent it (at most 80 characters).
    """

    mark: str = ""


@dataclass
class ExotelMarkOutFrame(OutputTransportMessageFrame):
    """A `mark` for Exotel to echo once the audio before it has played.

    Goes down the pipeline behind the audio it follows (pipecat's audio contexts keep it in
    order); the serializer writes it as `{"event": "mark", "mark": {"name": ...}}` with the
    stream id and sequence number in the call's key style.

    Parameters:
        mark: the mark's name, echoed back in `ExotelMarkFrame.mark`.
    """

    message: object = None
    mark: str = ""
    # An interruption must not drop a mark: the bot's goodbye waits for its echo.
    interruptible: bool = field(default=False, init=False)

    def __post_init__(self):
        super().__post_init__()
        self.message = {"event": "mark", "mark": {"name": self.mark}}
