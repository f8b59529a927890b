"""The audio encodings of an Exotel stream, and how big each outbound media payload is.

Exotel streams 16-bit linear PCM (L16, little-endian, mono) at 8, 16 or 24 kHz; its
"Updated Extension Guide (Beta)" for the Stream/Voicebot applets adds G.711 mu-law at 8 kHz
(one byte per sample). The `start` message names the encoding in `media_format.encoding`;
the names below are every one Exotel's documents, samples and third-party clients use.
"""

from __future__ import annotations

from dataclasses import dataclass

from exotel_bot.wire.fields import as_int, as_text

L16 = "l16"
MULAW = "mulaw"

# Encoding names seen in the wild -> what they mean. "base64" (older docs) describes the
# transport of the payload, not the samples: those streams are L16. A name not listed is read
# as Exotel's own bridges read it (encoding_of): L16, unless it names mu-law.
ENCODING_NAMES = {
    "audio/x-raw": L16,
    "audio/x-l16": L16,
    "raw/slin": L16,
    "slin": L16,
    "audio/l16": L16,
    "l16": L16,
    "pcm16": L16,
    "pcm": L16,
    "linear16": L16,
    "base64": L16,
    "audio/x-mulaw": MULAW,
    "audio/mulaw": MULAW,
    "mulaw": MULAW,
    "ulaw": MULAW,
    "pcmu": MULAW,
    "audio/pcmu": MULAW,
    "g711_ulaw": MULAW,
}
# Parts of a name that make it mu-law ("audio/x-mulaw", "G.711 u-law", "PCMU", "μ-law"), and
# parts of codecs neither encoding is (refused rather than played as noise).
MULAW_MARKS = ("mulaw", "ulaw", "µlaw", "μlaw", "pcmu", "g711u")
OTHER_CODECS = ("opus", "alaw", "pcma", "g711a", "g722", "g729", "mp3", "mpeg", "ogg", "flac")
SAMPLE_RATES = {L16: (8000, 16000, 24000), MULAW: (8000,)}
BYTES_PER_SAMPLE = {L16: 2, MULAW: 1}

# Exotel's chunk rules ("Working with the Stream applet"), stated for L16 at 8 kHz: every
# payload a multiple of 320 bytes (20 ms), at least 3.2 KB (200 ms), at most 100 KB.
PAYLOAD_STEP_MS = 20
MIN_PAYLOAD_MS = 200


class UnsupportedMediaFormat(ValueError):
    """The `start` asks for audio the bot cannot speak; the message names what it asked for."""


@dataclass(frozen=True)
class MediaFormat:
    """One stream's audio: `encoding` (L16 or MULAW) at `sample_rate` Hz, mono."""

    encoding: str = L16
    sample_rate: int = 8000

    @property
    def bytes_per_sample(self) -> int:
        return BYTES_PER_SAMPLE[self.encoding]

    def payload_bytes(self, ms: int) -> int:
        """Bytes of `ms` milliseconds of this stream's audio."""
        return self.sample_rate * self.bytes_per_sample * ms // 1000


def parse_media_format(media_format: dict, url_sample_rate: str | None = None) -> MediaFormat:
    """The stream's format from `start.media_format` (or `mediaFormat`) and the URL.

    `encoding` missing or null means L16; `sample_rate` comes from the message (string or
    number), else the websocket URL's `sample-rate` parameter, else 8000. Raises
    UnsupportedMediaFormat for an encoding or rate the bot cannot speak, naming it.
    """
    raw_encoding = media_format.get("encoding")
    name = as_text(raw_encoding)
    if raw_encoding is not None and name is None:
        raise UnsupportedMediaFormat(f"unreadable media encoding {raw_encoding!r}")
    encoding = encoding_of(name or "audio/x-raw")
    if encoding is None:
        raise UnsupportedMediaFormat(
            f"unsupported media encoding {name[:40]!r}: this bot speaks L16 (audio/x-raw) "
            "at 8/16/24 kHz and mu-law (audio/x-mulaw) at 8 kHz"
        )
    rate = None
    for raw in (media_format.get("sample_rate", media_format.get("sampleRate")), url_sample_rate):
        rate = as_int(raw)
        if rate:
            break
    rate = rate or 8000
    if rate not in SAMPLE_RATES[encoding]:
        raise UnsupportedMediaFormat(
            f"unsupported sample rate {rate} Hz for {name or 'audio/x-raw'!r}: "
            f"expected {' or '.join(map(str, SAMPLE_RATES[encoding]))}"
        )
    return MediaFormat(encoding, rate)


def encoding_of(name: str) -> str | None:
    """L16 or MULAW for an encoding name, None for another codec (Opus, A-law, ...).

    MIME parameters are ignored (`audio/x-l16;rate=8000`). A name not in ENCODING_NAMES is L16
    unless it names mu-law, as Exotel's bridges read it (docs/exotel-wire.md).
    """
    name = name.split(";")[0].strip().lower()
    if name in ENCODING_NAMES:
        return ENCODING_NAMES[name]
    bare = "".join(c for c in name if c not in "-_. ")
    if any(mark in bare for mark in MULAW_MARKS):
        return MULAW
    if any(codec in bare for codec in OTHER_CODECS):
        return None
    return L16


def outbound_payload_ms(chunk_ms: int) -> int:
    """How much audio each outbound `media` payload carries: THE place payload sizing lives.

    `chunk_ms` is EXOTEL_AUDIO_CHUNK_MS (200 by default, Exotel's recommended minimum), kept
    to whole 20 ms steps. Exotel states its rule in bytes for L16 at 8 kHz (multiples of 320
    bytes, at least 3.2 KB); in time it holds for every encoding and rate, so the bytes scale
    with bytes per sample and rate (mu-law 8 kHz: 160 B steps, 1.6 KB; L16 16 kHz: 640 B,
    6.4 KB; L16 24 kHz: 960 B, 9.6 KB).
    """
    return max(PAYLOAD_STEP_MS, chunk_ms // PAYLOAD_STEP_MS * PAYLOAD_STEP_MS)
