"""How a simulated Exotel call speaks: the message shapes Exotel documents or its clients send.

Exotel's documents disagree on key style, where the ids sit and value types, and its
streams come in L16 or G.711 mu-law. A `Dialect` picks one of each, so a test can play a call
exactly as one real client would (see docs/exotel-wire.md):

    Dialect()                                      # Exotel's Voicebot docs: snake_case, strings
    Dialect(key_style="camel")                     # AgentStream/Connect paths: streamSid, ...
    Dialect(ids="top", numbers=True, from_to=False)  # Exotel's own test client
    Dialect(connected=False)                       # start first, no `connected`
    Dialect(encoding="audio/x-mulaw")              # G.711 mu-law, 8 kHz, one byte per sample

The mu-law codec here is the textbook G.711 one in numpy, written independently of the bot's
(pipecat's audioop-based) codec, so a test that decodes the bot's audio with it checks the
bot's encoding rather than repeating it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MULAW_NAMES = ("audio/x-mulaw", "mulaw", "pcmu", "audio/mulaw", "ulaw", "μ-law")
_BIAS = 0x84
_CLIP = 32635


def is_mulaw(encoding: str) -> bool:
    return encoding.strip().lower() in MULAW_NAMES


def mulaw_encode(samples: np.ndarray) -> bytes:
    """int16 samples -> G.711 mu-law bytes (ITU-T G.711, bias 0x84)."""
    x = samples.astype(np.int32)
    sign = np.where(x < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(x), _CLIP) + _BIAS
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def mulaw_decode(data: bytes) -> np.ndarray:
    """G.711 mu-law bytes -> int16 samples."""
    u = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = ((mantissa << 3) + _BIAS) << exponent
    return np.where(u & 0x80, _BIAS - magnitude, magnitude - _BIAS).astype(np.int16)


@dataclass(frozen=True)
class Dialect:
    """The shape of one Exotel client's messages.

    - `key_style`: "snake" (stream_sid, sequence_number, media_format, custom_parameters)
      or "camel" (streamSid, sequenceNumber, mediaFormat, customParameters);
    - `ids`: where the ids go: "both" (inside `start`, and the stream id at the top level
      too: Exotel's docs), "start" (inside `start` only) or "top" (top level only, Exotel's
      test client);
    - `numbers`: numbers as JSON numbers (8000) instead of Exotel's strings ("8000");
    - `connected`: send `connected` before `start`;
    - `encoding`: `media_format.encoding`, e.g. "audio/x-raw", "raw/slin", "audio/x-mulaw";
    - `from_to`: include the caller's and called numbers;
    - `pad_last`: pad the last payload of an utterance with silence to a full chunk (False:
      send it ragged, not a multiple of 320 bytes, as some clients do).
    """

    key_style: str = "snake"
    ids: str = "both"
    numbers: bool = False
    connected: bool = True
    encoding: str = "audio/x-raw"
    from_to: bool = True
    pad_last: bool = True

    def __post_init__(self) -> None:
        if self.key_style not in ("snake", "camel"):
            raise ValueError(f"key_style must be 'snake' or 'camel', not {self.key_style!r}")
        if self.ids not in ("start", "top", "both"):
            raise ValueError(f"ids must be 'start', 'top' or 'both', not {self.ids!r}")

    @property
    def mulaw(self) -> bool:
        return is_mulaw(self.encoding)

    @property
    def bytes_per_sample(self) -> int:
        return 1 if self.mulaw else 2

    def key(self, name: str) -> str:
        """`name` (snake_case) in this dialect's key style."""
        if self.key_style == "snake":
            return name
        head, *rest = name.split("_")
        return head + "".join(part.title() for part in rest)

    def value(self, number: int) -> int | str:
        return number if self.numbers else str(number)

    def encode(self, samples: np.ndarray) -> bytes:
        """Caller audio (int16) as this stream's payload bytes."""
        return mulaw_encode(samples) if self.mulaw else samples.astype("<i2").tobytes()

    def decode(self, payload: bytes) -> bytes:
        """A bot payload as 16-bit PCM bytes."""
        if self.mulaw:
            return mulaw_decode(payload).astype("<i2").tobytes()
        return payload[: len(payload) // 2 * 2]

    def stream_event(self, event: str, stream_sid: str, sequence: int, **body) -> dict:
        return {
            "event": event,
            self.key("sequence_number"): self.value(sequence),
            self.key("stream_sid"): stream_sid,
            **body,
        }

    def start_message(
        self,
        *,
        stream_sid: str,
        call_sid: str,
        account_sid: str,
        from_number: str,
        to_number: str,
        custom_parameters: dict[str, str],
        sample_rate: int,
        sequence: int,
    ) -> dict:
        """The `start` message in this dialect."""
        ids = {
            self.key("stream_sid"): stream_sid,
            self.key("call_sid"): call_sid,
            self.key("account_sid"): account_sid,
        }
        media_format = {
            "encoding": self.encoding,
            self.key("sample_rate"): self.value(sample_rate),
            self.key("bit_rate"): self.value(8 * self.bytes_per_sample),
        }
        start: dict = {} if self.ids == "top" else dict(ids)
        if self.from_to:
            start |= {"from": from_number, "to": to_number}
        start[self.key("custom_parameters")] = dict(custom_parameters)
        start[self.key("media_format")] = media_format
        message = {"event": "start", self.key("sequence_number"): self.value(sequence)}
        if self.ids == "both":  # Exotel's Voicebot docs: the stream id at the top level too
            message[self.key("stream_sid")] = stream_sid
        elif self.ids == "top":  # Exotel's test client: the ids at the top level only
            message |= ids
        message["start"] = start
        return message
