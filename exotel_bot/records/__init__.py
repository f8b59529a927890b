"""Call records: the recorder (transcript, latency per turn, usage), the call's audio, and sinks
that store a record (a local folder by default)."""
