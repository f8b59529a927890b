"""Vendor services (STT, LLM, TTS) as this template builds and shares them."""
