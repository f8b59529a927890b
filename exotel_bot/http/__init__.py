"""The HTTP side, in one place: every FastAPI router server.py mounts.

- `flow_routes.py`: what Exotel's flow asks for during a call (the dynamic Voicebot URL, the
  Passthru applet's transfer decision);
- `outbound_routes.py`: placing calls (`/dialout`) and Exotel's StatusCallback.

Routers take their settings and stores from server.py's `build_app()` (FastAPI dependencies),
so nothing here reads the environment itself.
"""
