"""Outbound calls: dials and their context, Exotel's REST API, the /dialout routes, the
`python -m exotel_bot.outbound` command and waiting for the callee's hello."""
