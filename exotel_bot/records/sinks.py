"""Where call records go: a folder per call on local disk, or anything with a `write()`.

A sink is called once per call, in a worker thread, after the call has ended (`write_record`):
it may block (disk, network), and if it raises, the error is logged and the call is unaffected.
Pipecat Cloud's disk does not outlive the session: deploy with a sink that sends records to
object storage (docs/records.md shows one for S3).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

from exotel_bot.records.audio import StereoRecording

RECORD_FILE = "record.json"
RECORDING_FILE = "recording.wav"
# How long the end of a call may wait for its record to be written before giving up on it.
WRITE_TIMEOUT_SECS = 30.0

# Exotel's call sids are letters and digits; anything else must not reach a file path.
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class RecordSink(Protocol):
    """Takes one finished call: its record and, if recording is on, a stereo WAV.

    A sink may also have `update(where, record)`: the same record again, with what the steps
    after the call added (its outcome, the webhook's delivery), for the place `write` returned.
    """

    def write(self, record: dict[str, Any], recording_wav: bytes | None) -> str:
        """Store the call; return where it went (for the log)."""
        ...


async def write_record(
    sink: RecordSink, record: dict[str, Any], recording: StereoRecording | None
) -> str:
    """Store a finished call through `sink` in a worker thread; return where it went.

    With a `recording`, the record names its file (`record["recording"]`) and the sink gets it
    as a stereo WAV. Raises what the sink raised, or TimeoutError after WRITE_TIMEOUT_SECS
    (the write goes on in its thread; the call's end stops waiting for it).
    """
    if recording is not None:
        record["recording"] = {
            "file": RECORDING_FILE,
            "sample_rate": recording.rate,
            "channels": ["caller", "bot"],
        }
    write = asyncio.to_thread(_write, sink, record, recording)
    return await asyncio.wait_for(asyncio.shield(write), WRITE_TIMEOUT_SECS)


def _write(sink: RecordSink, record: dict[str, Any], recording: StereoRecording | None) -> str:
    wav = recording.to_wav(record["duration_secs"]) if recording is not None else None
    return sink.write(record, wav)


def folder_name(call_sid: str) -> str:
    """A file-system-safe folder name for a call sid that came from the network."""
    name = _UNSAFE.sub("_", call_sid).strip("._")[:100]
    return name or "unknown-call"


class LocalDirectorySink:
    """`<root>/<call_sid>/record.json` (+ `recording.wav`), each file written atomically.

    A call sid seen before (Exotel retrying a stream) gets `<call_sid>-2`, `-3`, ...
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def write(self, record: dict[str, Any], recording_wav: bytes | None) -> str:
        folder = self._new_folder(folder_name(str(record.get("call_sid", ""))))
        if recording_wav is not None:
            write_atomically(folder / RECORDING_FILE, recording_wav)
        text = json.dumps(record, indent=2, ensure_ascii=False)
        write_atomically(folder / RECORD_FILE, text.encode())
        return str(folder)

    def update(self, where: str, record: dict[str, Any]) -> None:
        """Rewrite the record `write()` put in folder `where` (atomically, like the first)."""
        text = json.dumps(record, indent=2, ensure_ascii=False)
        write_atomically(Path(where) / RECORD_FILE, text.encode())

    def _new_folder(self, name: str) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, 1000):
            folder = self.root / (name if attempt == 1 else f"{name}-{attempt}")
            try:
                folder.mkdir()
                return folder
            except FileExistsError:
                continue
        raise FileExistsError(f"too many records for call {name} in {self.root}")


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file next to `path`, then rename: a reader never sees half a file."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
