"""Vendor services (STT, LLM, TTS, the Krisp noise filter) as this template builds and shares
them."""
