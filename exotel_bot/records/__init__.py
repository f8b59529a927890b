"""Call records: the recorder (an observer of the call's frames), the transcript it builds
(turns, latency per turn), the rest of the record (end reason, usage, events), the call's audio,
and sinks that store a record (a local folder by default)."""
