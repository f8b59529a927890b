"""What became of a placed call, from Exotel's StatusCallback: kept with the dial and its record.

Exotel posts `StatusCallback` for each event asked for in `StatusCallbackEvents[]` (Connect
Voice AI: ringing, answered, terminal; a flow: answered, terminal), with `CallSid`, `Status`
(ringing, in-progress, completed, busy, no-answer, failed, canceled), `EventType`,
`ConversationDuration`, `DateUpdated` and, on the terminal one, `RecordingUrl` (Exotel's
Connect Voice AI page). Every event goes into the dial's `status_events`; the terminal one
sets its `outcome` (a call nobody answered: Exotel's status) and duration. Where this process
keeps call records (CALL_RECORDS_DIR), the call's `record.json` gets an `exotel` section with
the events and the recording URL; a call nobody answered gets a record of its own, so every
dial has one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loguru import logger

from exotel_bot.outbound.dials import TERMINAL_STATUSES, DialRecord
from exotel_bot.records.sinks import RECORD_FILE, folder_name, write_atomically
from exotel_bot.settings import load_settings

MAX_STATUS_EVENTS = 10
# StatusCallback fields worth keeping with the dial's record.
STATUS_FIELDS = ("EventType", "Status", "DateUpdated", "ConversationDuration", "RecordingUrl")
UNANSWERED = ("no-answer", "busy", "failed", "canceled")


def note_status(record: DialRecord, fields: dict[str, Any]) -> None:
    """Add one StatusCallback's fields to the dial: its events, status, outcome, duration."""
    event = {k: str(fields[k])[:300] for k in STATUS_FIELDS if fields.get(k)}
    record.status_events = [*record.status_events, event][-MAX_STATUS_EVENTS:]
    status = str(fields.get("Status") or "").strip().lower()
    if status and not record.ended:
        record.status = status
    record.recording_url = str(fields.get("RecordingUrl") or record.recording_url)
    duration = str(fields.get("ConversationDuration") or "").strip()
    if duration.replace(".", "", 1).isdigit():
        record.duration_secs = float(duration)
    if status in UNANSWERED and record.connected_at is None:
        record.outcome = status  # nobody (and nothing) picked up
    elif status in TERMINAL_STATUSES and not record.outcome:
        record.outcome = "completed"


def update_call_record(record: DialRecord) -> str:
    """Write the dial's Exotel events into its call record (or a record of its own for a call
    nobody answered) under CALL_RECORDS_DIR; the file's path, or "" when records are off or
    the call's record is elsewhere (another host, Pipecat Cloud)."""
    root = load_settings(require_keys=False).call_records_dir
    sid = record.websocket_call_sid or record.call_sid
    if not root or not sid or not record.ended:
        return ""
    folder = Path(root) / folder_name(sid)
    path = folder / RECORD_FILE
    exotel = {
        "call_sid": record.call_sid,
        "status": record.status,
        "outcome": record.outcome,
        "duration_secs": record.duration_secs,
        "recording_url": record.recording_url,
        "status_events": record.status_events,
    }
    try:
        if path.exists():
            data = json.loads(path.read_text())
        elif record.connected_at is None:
            data = {
                "call_sid": sid,
                "direction": "outbound",
                "to": record.to,
                "end": {
                    "reason": record.outcome,
                    "detail": "not answered"
                    if record.outcome in UNANSWERED
                    else "its stream did not reach this server",
                },
            }
        else:
            return ""  # answered here, but its record is written elsewhere (or not yet)
        data["exotel"] = exotel
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps(data, indent=2, ensure_ascii=False).encode())
    except (OSError, ValueError) as e:
        logger.error(f"Could not add Exotel's status to {path} ({e.__class__.__name__}: {e})")
        return ""
    return str(path)
