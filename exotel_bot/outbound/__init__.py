"""Outbound calls: dials and their context, Exotel's REST API (Connect Voice AI or a flow), the
/dialout routes, the `python -m exotel_bot.outbound` command, answer supervision (what picked
up: a person, voicemail, an IVR, call screening, silence) and campaigns."""
