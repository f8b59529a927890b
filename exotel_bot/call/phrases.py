"""What a table of phrases holds: every sentence the bot speaks without the LLM, in one language.

The tables themselves are the user's, in `phrases.py` beside bot.py; bot.py hands the call's
table to call control (`CallControl`), the vendor fallbacks (`VendorFallback`) and the outbound
answer supervisor.

Templates: `{hello}` is `hello` or `hello_named` (with `{name}`), `{about}` is `about` (with
`{purpose}`) or empty; both come from the call (custom parameters or the dial's context).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Phrases:
    """What the bot says in one language."""

    answer_in: str  # the system prompt says "Always answer in {answer_in}."
    hello: str
    hello_named: str  # {name}
    inbound_greeting: str  # {hello}
    outbound_greeting: str  # {hello} {about}: the bot placed the call
    about: str  # {purpose}: why the bot called
    voicemail: str  # {hello} {about}: left on an answering machine, then the bot hangs up
    check_in: str  # the caller has been silent for a while
    silence_goodbye: str  # ... and stayed silent after the check-ins
    goodbye: str  # end_call without a goodbye of the LLM's own
    transfer: str  # transfer_to_agent
    time_up: str  # the call reached MAX_CALL_SECS
    apology: str  # the LLM failed; the call goes on
    trouble_goodbye: str  # a vendor is gone for good: the bot apologises and hangs up
    recorded_apology: str  # the TTS itself failed: pre-rendered by assets/make_fallback_audio.py
    # Keypad digits reach the LLM as this user message (not spoken; the prompt explains it).
    keypad: str = "(The caller typed on the keypad: {digits})"
    # transfer_to_agent to one of bot.py's departments: {department} is its name
    transfer_to: str = ""  # empty: `transfer` is said instead

    def transfer_notice(self, department: str | None) -> str:
        """What the bot says before it hands the caller over (to `department`, if named)."""
        if department and "{department}" in self.transfer_to:
            return self.transfer_to.format(department=department)
        return self.transfer

    # {name} {about}: said to a call-screening service (who is calling, for whom and why);
    # empty: the outbound greeting is said instead.
    screening: str = ""

    def _hello(self, name: str | None) -> str:
        return self.hello_named.format(name=name) if name else self.hello

    def _about(self, purpose: str | None) -> str:
        return self.about.format(purpose=purpose) if purpose else ""

    def greet_inbound(self, name: str | None = None) -> str:
        return self.inbound_greeting.format(hello=self._hello(name))

    def greet_outbound(self, name: str | None = None, purpose: str | None = None) -> str:
        return self.outbound_greeting.format(hello=self._hello(name), about=self._about(purpose))

    def voicemail_message(self, name: str | None = None, purpose: str | None = None) -> str:
        return self.voicemail.format(hello=self._hello(name), about=self._about(purpose))

    def screening_message(self, name: str | None = None, purpose: str | None = None) -> str:
        if not self.screening:
            return self.greet_outbound(name, purpose)
        return self.screening.format(name=name or "", about=self._about(purpose)).replace("  ", " ")
