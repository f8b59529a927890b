"""How the LLM's words reach the TTS: the first phrase of a reply at once, then sentences.

Pipecat's TTS services wait for a whole sentence before synthesizing it. On a phone call that
is the wait between the LLM's first token and the TTS starting: for a 40-token first sentence
at 20 ms a token, 0.8 s of silence the caller hears. `FirstPhraseAggregator` hands the TTS the
first phrase of each reply instead (a clause of at least `FIRST_PHRASE_MIN_WORDS` words, or
the first `FIRST_PHRASE_MAX_WORDS` words), then whole sentences as pipecat does.

Every piece of one reply goes to the TTS on the same context (pipecat reuses the context id
within a turn), so Cartesia continues the same utterance (`"continue": true`) with its prosody,
rather than starting a new one per piece. Why sentences after the first phrase: two to five
words are half a second to a second and a half of speech, in which an LLM writes 25-75 more
tokens, so the next sentence (or clause, for a long one) is usually ready before the first
phrase has been spoken, and the TTS gets the longer text it speaks most naturally.

Pipecat's token mode (`TextAggregationMode.TOKEN`) was the alternative: it sends every token
and leaves buffering to Cartesia's server (by default up to 3 s, `max_buffer_delay_ms`), so
how soon speech starts is the vendor's choice, not ours.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from pipecat.processors.aggregators.llm_text_processor import LLMTextProcessor
from pipecat.utils.text.base_text_aggregator import Aggregation, TextType
from pipecat.utils.text.simple_text_aggregator import SimpleTextAggregator

# The first piece of a reply ends at a clause mark once it has this many words...
FIRST_PHRASE_MIN_WORDS = 2
# ...or after this many words, whichever comes first (or at the end of a shorter sentence).
FIRST_PHRASE_MAX_WORDS = 5
# After the first phrase, a sentence still this long goes at its next clause mark.
LONG_SENTENCE_WORDS = 10
# Marks after which a phrase may end: comma, semicolon, colon, dashes (Latin and Devanagari
# scripts use the same ones; "।" ends a Hindi sentence and pipecat's sentence check has it).
CLAUSE_MARKS = (",", ";", ":", "—", "–", "，", "、")
_WORD = re.compile(r"\S+")


class FirstPhraseAggregator(SimpleTextAggregator):
    """Pipecat's sentence aggregator, except that a reply's first phrase is let out early.

    Yields `Aggregation(text, TextType.SENTENCE)`: the first phrase of a reply, then sentences
    (a long sentence also at a clause mark once it has `LONG_SENTENCE_WORDS` words, so the TTS
    never waits long for more). A reply ends (and the next one starts with a phrase again) at
    `flush()` (the LLM's response end), `reset()` or an interruption.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._phrase_sent = False

    async def aggregate(self, text: str) -> AsyncIterator[Aggregation]:
        for char in text:
            async for sentence in super().aggregate(char):
                self._phrase_sent = True
                yield sentence
            if char.isspace() and self._piece_ends():
                piece = self.text.text.strip()
                await super().reset()
                self._phrase_sent = True
                yield Aggregation(text=piece, type=TextType.SENTENCE)

    def _piece_ends(self) -> bool:
        """Whether the text so far (ending in whitespace) should go to the TTS now."""
        words = _WORD.findall(self.text.text)
        if not words:
            return False
        clause = words[-1].endswith(CLAUSE_MARKS)
        if self._phrase_sent:
            return clause and len(words) >= LONG_SENTENCE_WORDS
        if len(words) >= FIRST_PHRASE_MAX_WORDS:
            return True
        return clause and len(words) >= FIRST_PHRASE_MIN_WORDS

    async def flush(self) -> Aggregation | None:
        self._phrase_sent = False
        return await super().flush()

    async def reset(self):
        self._phrase_sent = False
        await super().reset()

    async def handle_interruption(self):
        self._phrase_sent = False
        await super().handle_interruption()


def speak_from_first_phrase() -> LLMTextProcessor:
    """The processor to put between the LLM and the TTS: LLM text in, phrase/sentences out."""
    return LLMTextProcessor(text_aggregator=FirstPhraseAggregator())
