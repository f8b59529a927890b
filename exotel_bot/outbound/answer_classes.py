"""What picked up an outbound call, from the words it said: rules, no model, no waiting.

    classify("Please leave a message after the tone")  -> "voicemail"
    classify("For account balance, press 1")           -> "ivr"
    classify("Say your name and why you are calling")  -> "screening"
    classify("Hello? He is not available right now")   -> "person"

Each class has cues in English, Hindi (Devanagari) and Hinglish (Latin): phrases only machines
say. Anything else is a person, the default class, so a verdict is always immediate: a person
is never kept waiting for a classifier (pipecat's LLM-based VoicemailDetector can wait for
ever when its model answers neither label: reported upstream as pipecat-ai/pipecat#5873).
"He is not available at the moment" is what a person says for someone else; a machine says
whose number was reached, asks for a message, or mentions the beep. Screening is checked
first: its prompt ("the person you are calling is using a screening service") would otherwise
read as a machine's.
"""

from __future__ import annotations

import re
import unicodedata

PERSON, VOICEMAIL, IVR, SCREENING, SILENCE = "person", "voicemail", "ivr", "screening", "silence"
ANSWER_CLASSES = (PERSON, VOICEMAIL, IVR, SCREENING, SILENCE)

_DIGIT = r"(?:\d|one|two|three|four|five|six|seven|eight|nine|zero|star|hash|pound)"

_CUES: dict[str, list[str]] = {
    SCREENING: [
        r"\b(?:say|state|tell us) your name\b",
        r"\bwhy you(?:'re| are) calling\b",
        r"\breason for (?:your |the )?call",
        r"\bpurpose of (?:your |the )?call\b",
        r"\bscreening service\b",
        r"अपना नाम (?:और|बताएं|बताइए|बताएँ)",
        r"कॉल करने (?:का|की) (?:कारण|वजह)",
        r"\bapna naam (?:aur|bata)",
        r"\b(?:kyun|kyon) call kar",
    ],
    IVR: [
        rf"\bpress {_DIGIT}\b",
        rf"\b{_DIGIT} (?:dabaye|dabaiye|dabayein)\b",
        r"\bmain menu\b",
        r"\bto speak (?:to|with) (?:an? )?(?:agent|representative|executive|customer care)\b",
        r"\bfor (?:english|hindi)\b.*\bpress\b",
        r"(?:\d|एक|दो|तीन|चार|पाँच|पांच|शून्य) दबा(?:एँ|एं|इए|ये)",
        r"\bdabaye(?:n|in)?\b",
    ],
    VOICEMAIL: [
        r"\bleave (?:a|your|me a) (?:brief |short )?message\b",
        r"\b(?:after|at) the (?:beep|tone)\b",
        r"\byou(?:'ve| have) reached\b",
        r"\bvoice ?mail\b",
        r"\bmailbox\b",
        r"\b(?:can ?not|can't|unable to) (?:take|answer) (?:your|the|this) call\b",
        r"\bnot available to take (?:your|the) call\b",
        r"\bthe (?:number|person|subscriber) you (?:have )?(?:called|dialled|dialed|are calling)\b",
        r"\b(?:is|are) (?:not reachable|switched off|out of coverage)\b",
        r"\brecord your message\b",
        r"संदेश (?:छोड़|रिकॉर्ड)",
        r"(?:बीप|टोन) के बाद",
        r"आप(?:ने)? जिस (?:नंबर|व्यक्ति)",
        r"पहुं?ँ?च से बाहर",
        r"स्विच (?:ऑफ|आफ)",
        r"\b(?:beep|tone) (?:ke|k) baad\b",
        r"\b(?:beep|tone) के बाद",
        r"\bmessage (?:chhod|chod|छोड़)",
        r"\baap(?:ne)? jis (?:number|vyakti)\b",
    ],
}
_COMPILED = {
    name: [re.compile(unicodedata.normalize("NFC", c), re.IGNORECASE) for c in cues]
    for name, cues in _CUES.items()
}


def classify(text: str) -> str:
    """ "voicemail", "ivr", "screening" when `text` holds one of their cues; else "person"."""
    said = " ".join(unicodedata.normalize("NFC", text).replace("’", "'").split())
    for name in (SCREENING, IVR, VOICEMAIL):
        if any(cue.search(said) for cue in _COMPILED[name]):
            return name
    return PERSON
