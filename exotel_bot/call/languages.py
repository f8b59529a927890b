"""One setting, BOT_LANGUAGE, switches what the bot hears, speaks and writes.

Each language names the codes Deepgram and Cartesia expect and the short phrases call control
speaks (check-ins, goodbyes, transfer notice). Add a language by adding an entry here; see
README "Languages" for an example.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    """What changes when the bot speaks another language."""

    code: str  # Deepgram `language` and Cartesia `language`
    name: str  # for the system prompt: "Always answer in {name}."
    check_in: str  # the caller has been silent for a while
    silence_goodbye: str  # ... and stayed silent after the check-ins
    goodbye: str  # end_call without a goodbye of the LLM's own
    transfer: str  # transfer_to_agent
    time_up: str  # the call reached MAX_CALL_SECS


LANGUAGES = {
    "en": Language(
        code="en",
        name="English",
        check_in="Are you still there?",
        silence_goodbye="I can't hear you, so I'll end the call now. Please call again. Goodbye!",
        goodbye="Thank you for calling. Goodbye!",
        transfer="Please hold while I connect you to a colleague.",
        time_up="We're out of time for this call. Thank you for calling, goodbye!",
    ),
    "hi": Language(
        code="hi",
        name="Hindi",
        check_in="क्या आप अभी भी लाइन पर हैं?",
        silence_goodbye="मुझे आपकी आवाज़ नहीं आ रही है, इसलिए मैं कॉल समाप्त कर रही हूँ। नमस्ते!",
        goodbye="कॉल करने के लिए धन्यवाद। नमस्ते!",
        transfer="कृपया लाइन पर बने रहें, मैं आपको हमारे सहयोगी से जोड़ रही हूँ।",
        time_up="इस कॉल का समय समाप्त हो गया है। कॉल करने के लिए धन्यवाद, नमस्ते!",
    ),
}
