"""Languages: Sarvam and Deepgram/Cartesia per BOT_LANGUAGE, every phrase in its own script,
turn detection in each script, and whole calls in Hindi, Tamil (Sarvam) and Hinglish (Deepgram).

Script checks use Unicode blocks, not wording: rewriting a phrase keeps these tests green.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from dataclasses import fields

import pytest

from exotel_bot.call.phrases import Phrases
from exotel_bot.call.turns import COMPLETE, INCOMPLETE, text_verdict
from exotel_bot.languages import ALIASES, LANGUAGES
from exotel_bot.settings import ConfigError, read_settings
from phrases import PHRASES
from simulator.caller import (
    BargeIn,
    ExpectClose,
    Hangup,
    Say,
    WaitForBot,
    WaitForGreeting,
    run_call,
)
from tests.conftest import SECRET_KEYS, record_of

SARVAM_KEY = "sarvam-sentinel-2d7b9e4c"

# The Unicode script each language is written in (the first word of a letter's Unicode name).
SCRIPTS = {
    "hi": "DEVANAGARI",
    "hinglish": "DEVANAGARI",
    "mr": "DEVANAGARI",
    "bn": "BENGALI",
    "ta": "TAMIL",
    "te": "TELUGU",
    "kn": "KANNADA",
    "ml": "MALAYALAM",
    "gu": "GUJARATI",
    "pa": "GURMUKHI",
    "or": "ORIYA",
    "en": "LATIN",
    "en-in": "LATIN",
}


def script_share(text: str, script: str) -> float:
    """The share of `text`'s letters (and their vowel signs) written in `script`."""
    letters = [c for c in text if unicodedata.category(c)[0] in "LM"]
    if not letters:
        return 0.0
    ours = [c for c in letters if unicodedata.name(c, "").startswith(script)]
    return len(ours) / len(letters)


def spoken_phrases(phrases: Phrases) -> dict[str, str]:
    """Every phrase the bot speaks, templates filled in."""
    said = {
        f.name: getattr(phrases, f.name)
        for f in fields(Phrases)
        if f.name not in ("answer_in", "keypad", "hello", "hello_named", "about")
    }
    said.update(
        inbound_greeting=phrases.greet_inbound("Asha"),
        outbound_greeting=phrases.greet_outbound("Asha", "Order"),
        voicemail=phrases.voicemail_message("Asha", "Order"),
        screening=phrases.screening_message("Asha", "Order"),
    )
    return said


# ---------------------------------------------------------------------------------------------
# Tables


def test_every_language_has_phrases_and_a_script():
    assert set(LANGUAGES) == set(PHRASES) == set(SCRIPTS)
    assert {"en-in", "hi", "bn", "ta", "te", "kn", "ml", "mr", "gu", "pa", "or"} <= set(LANGUAGES)
    assert all(target in LANGUAGES for target in ALIASES.values())


@pytest.mark.parametrize("language", sorted(PHRASES))
def test_every_phrase_is_written_in_its_languages_script(language):
    script = SCRIPTS[language]
    for name, text in spoken_phrases(PHRASES[language]).items():
        assert text.strip(), (language, name)
        # Names (the business's, the caller's: capitalised Latin words, whatever the user calls
        # them) and Hinglish's English words are Latin; the rest is the language's own.
        share = script_share(re.sub(r"\b[A-Z][A-Za-z]*\b", "", text), script)
        minimum = 0.2 if language == "hinglish" else 0.6
        assert share >= minimum, (language, name, text, share)
        if language == "hinglish":
            assert script_share(text, "LATIN") > 0.1, (name, text)  # English words in the mix


def test_greetings_carry_the_callers_name_and_the_dials_purpose():
    for language, phrases in PHRASES.items():
        assert "Asha" in phrases.greet_inbound("Asha"), language
        assert "Asha" not in phrases.greet_inbound(None)
        outbound = phrases.greet_outbound("Asha", "ORDER-1042")
        assert "Asha" in outbound and "ORDER-1042" in outbound, language
        assert "ORDER-1042" in phrases.voicemail_message(None, "ORDER-1042"), language


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("मेरा ऑर्डर कहाँ है?", COMPLETE),
        ("मेरा ऑर्डर आ गया है।", COMPLETE),  # danda
        ("मैं यह जानना चाहता हूँ कि", INCOMPLETE),  # "... that"
        ("मेरा order और", INCOMPLETE),  # Hinglish "... and"
        ("আমার অর্ডার কোথায়।", COMPLETE),
        ("আমি জানতে চাই কারণ", INCOMPLETE),
        ("என் ஆர்டர் எங்கே.", COMPLETE),
        ("நான் கேட்க விரும்புகிறேன் ஆனால்", INCOMPLETE),
        ("ನನ್ನ ಆರ್ಡರ್ ಎಲ್ಲಿದೆ?", COMPLETE),
        ("ਮੇਰਾ ਆਰਡਰ ਕਿੱਥੇ ਹੈ।", COMPLETE),
        ("ମୋ ଅର୍ଡର କେଉଁଠି ଅଛି।", COMPLETE),
        ("میرا آرڈر کہاں ہے؟", COMPLETE),  # Urdu question mark
        ("میرا آرڈر آ گیا ہے۔", COMPLETE),  # Urdu full stop
    ],
)
def test_turn_detection_knows_each_scripts_sentence_ends(text, verdict):
    assert text_verdict(text) == verdict


# ---------------------------------------------------------------------------------------------
# Settings


@pytest.fixture
def env(monkeypatch):
    for name in list(os.environ):
        if name.startswith(
            ("DEEPGRAM_", "OPENAI_", "CARTESIA_", "SARVAM_", "BOT_", "STT_", "TTS_")
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEYS["OPENAI_API_KEY"])
    return monkeypatch


def test_sarvam_needs_only_its_own_key(env):
    env.setenv("STT_SERVICE", "sarvam")
    env.setenv("TTS_SERVICE", "sarvam")
    with pytest.raises(ConfigError) as error:
        read_settings()
    assert "SARVAM_API_KEY" in str(error.value)
    assert "DEEPGRAM" not in str(error.value) and "CARTESIA" not in str(error.value)
    env.setenv("SARVAM_API_KEY", SARVAM_KEY)
    settings = read_settings()  # no Deepgram or Cartesia key needed
    assert (settings.stt_service, settings.tts_service) == ("sarvam", "sarvam")
    assert SARVAM_KEY in settings.secrets() and SARVAM_KEY not in repr(settings)


def test_defaults_stay_deepgram_and_cartesia(env):
    with pytest.raises(ConfigError, match="DEEPGRAM_API_KEY.*CARTESIA_API_KEY"):
        read_settings()
    env.setenv("DEEPGRAM_API_KEY", "d")
    env.setenv("CARTESIA_API_KEY", "c")
    settings = read_settings()
    assert (settings.stt_service, settings.tts_service, settings.language) == (
        "deepgram",
        "cartesia",
        "en",
    )


@pytest.mark.parametrize(
    ("stt", "tts", "language", "names"),
    [
        ("deepgram", "sarvam", "ml", "STT_SERVICE=deepgram"),  # no Malayalam on Deepgram
        ("sarvam", "cartesia", "or", "TTS_SERVICE=cartesia"),  # no Odia on Cartesia
        ("deepgram", "cartesia", "od", "STT_SERVICE=deepgram and TTS_SERVICE=cartesia"),
    ],
)
def test_start_up_refuses_a_language_the_chosen_service_cannot_do(env, stt, tts, language, names):
    for name in ("DEEPGRAM_API_KEY", "CARTESIA_API_KEY", "SARVAM_API_KEY"):
        env.setenv(name, "key")
    env.setenv("STT_SERVICE", stt)
    env.setenv("TTS_SERVICE", tts)
    env.setenv("BOT_LANGUAGE", language)
    with pytest.raises(ConfigError, match=names):
        read_settings()


def test_language_aliases_and_unknown_languages(env):
    for name in ("SARVAM_API_KEY",):
        env.setenv(name, "key")
    env.setenv("STT_SERVICE", "sarvam")
    env.setenv("TTS_SERVICE", "sarvam")
    env.setenv("BOT_LANGUAGE", "OD")
    assert read_settings().language == "or"
    env.setenv("BOT_LANGUAGE", "klingon")
    with pytest.raises(ConfigError, match="BOT_LANGUAGE='klingon'"):
        read_settings()
    env.setenv("STT_SERVICE", "whisper")
    with pytest.raises(ConfigError, match="STT_SERVICE='whisper'"):
        read_settings()


# ---------------------------------------------------------------------------------------------
# Whole calls through server.py and the stand-ins


def end_call_when(stand_ins, pattern: str) -> None:
    """The LLM hangs up (end_call, no goodbye of its own: the phrase table's is spoken)."""
    tool_call = {"name": "end_call", "arguments": {"reason": "caller is done"}}
    stand_ins.config.llm.rules.append({"match": pattern, "tool_call": tool_call})


@pytest.mark.parametrize(
    ("language", "code", "fixture", "question", "thanks"),
    [
        ("hi", "hi-IN", "hindi", "मेरा ऑर्डर कहाँ है?", "ठीक है, धन्यवाद।"),
        ("ta", "ta-IN", "tamil", "என் ஆர்டர் எங்கே?", "சரி, நன்றி."),
    ],
)
async def test_a_call_through_sarvam(
    server_factory, stand_ins, language, code, fixture, question, thanks
):
    server = server_factory(
        STT_SERVICE="sarvam", TTS_SERVICE="sarvam", BOT_LANGUAGE=language, SARVAM_API_KEY=SARVAM_KEY
    )
    stand_ins.config.stt.transcripts.extend([question, thanks])
    end_call_when(stand_ins, thanks.split()[-1].strip("।."))
    report = await run_call(
        server.ws_url,
        [
            WaitForGreeting(),
            Say(fixture),
            WaitForBot(timeout=15),
            Say(fixture),
            ExpectClose(20),
        ],
    )
    assert report.ok or report.ended_by == "server", report.summary()
    assert report.ended_by == "server" and report.close_code == 1000, report.summary()

    # Sarvam's STT heard the caller in the right language, with the template's own turn-taking.
    stt = stand_ins.sarvam_stt.connections[-1]
    assert stt.has_api_key and stt.rejected is None
    assert stt.query["language_code"] == code and stt.query["mode"] == "transcribe"
    assert stt.query["endpointing"] == "manual" and stt.query["sample_rate"] == "8000"
    assert stt.events.get("speech_end", 0) >= 2 and stt.finals[:2] == [question, thanks]
    # Its transcript reached the LLM; the prompt asks for the language.
    chat = stand_ins.openai.requests[0]["messages"]
    assert question in json.dumps(chat, ensure_ascii=False)
    assert LANGUAGES[language].name.split()[0] in chat[0]["content"]
    assert stand_ins.openai.classifications == []  # an inbound call: no voicemail check

    # Sarvam's TTS was asked for the language, and the bot's own phrases were in its script.
    tts = stand_ins.sarvam_tts
    assert tts.languages() and set(tts.languages()) == {code}
    assert all(c["has_api_key"] for c in tts.connections)
    said = tts.texts()
    greeting, goodbye = said[0], said[-1]
    assert script_share(greeting, SCRIPTS[language]) > 0.6, greeting
    assert script_share(goodbye, SCRIPTS[language]) > 0.6, goodbye
    assert report.bot_audio_bytes_heard > 8000 * 2  # real audio came back, over a second of it

    record = record_of(server, report.call_sid)
    assert record["end"]["reason"] == "bot_hung_up"
    assert SARVAM_KEY not in server.log()


async def test_a_hinglish_call_through_deepgram(server_factory, stand_ins):
    server = server_factory(BOT_LANGUAGE="hinglish")
    stand_ins.config.stt.transcripts.append("Hello, मेरा order कहाँ है?")
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("hinglish"), WaitForBot(timeout=15), ExpectClose(1)],
    )
    assert report.greeting_latency is not None and report.replies, report.summary()

    # Deepgram's code-switching model (Hindi and English in one sentence) heard the caller.
    assert stand_ins.deepgram.connections[-1].query["language"] == "multi"
    # The prompt asks for the caller's own mix; the transcript reached it as spoken.
    chat = stand_ins.openai.requests[0]["messages"]
    assert "Hinglish" in chat[0]["content"] and "mix" in chat[0]["content"]
    assert "मेरा order कहाँ है?" in json.dumps(chat, ensure_ascii=False)
    # Cartesia was asked for Hindi, and the greeting mixes Devanagari and English words.
    speech = [r for r in stand_ins.cartesia.requests if r.get("transcript", "").strip()]
    assert {r["language"] for r in speech} == {"hi"}
    greeting = speech[0]["transcript"]
    assert script_share(greeting, "DEVANAGARI") > 0.35 and script_share(greeting, "LATIN") > 0.1


async def test_barge_in_through_sarvam_tts_keeps_the_language(server_factory, stand_ins):
    server = server_factory(
        STT_SERVICE="sarvam", TTS_SERVICE="sarvam", BOT_LANGUAGE="hi", SARVAM_API_KEY=SARVAM_KEY
    )
    stand_ins.config.stt.transcripts.extend(["मेरा ऑर्डर कहाँ है?", "रुकिए, एक और सवाल है।"])
    stand_ins.config.llm.rules.append({"match": "ऑर्डर", "reply": "आपका ऑर्डर " + "कल आएगा। " * 8})
    report = await run_call(
        server.ws_url,
        [
            WaitForGreeting(),
            Say("hindi"),
            WaitForBot(15),
            BargeIn("hindi", after=0.5),
            WaitForBot(15),
            Hangup(),
        ],
    )
    assert report.ok, report.summary()
    # Talking over the reply cleared Exotel's buffer; the next reply came in Hindi, over the
    # same socket or (when the barge-in cut a context still being spoken) a new one
    # configured for Hindi again.
    assert report.barge_ins and report.barge_ins[0].interrupted, report.summary()
    assert len(report.replies) >= 2 and report.replies[-1].first_audio is not None
    tts = stand_ins.sarvam_tts
    assert tts.connections and set(tts.languages()) == {"hi-IN"}


async def test_the_sarvam_stand_ins_refuse_language_codes_sarvam_does_not_know(stand_ins):
    """So a wrong code on the wire fails a test, as it would fail with Sarvam."""
    import websockets

    base = f"ws://127.0.0.1:{stand_ins.port}"
    query = "model=saaras:v3-realtime&mode=transcribe&sample_rate=8000&endpointing=manual"
    async with websockets.connect(
        f"{base}/speech-to-text-realtime/ws?{query}&language_code=hi"
    ) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 4000 and "language_code" in closed.value.rcvd.reason

    async with websockets.connect(f"{base}/text-to-speech/ws?model=bulbul:v3") as ws:
        # Sarvam's TTS writes Odia od-IN (its realtime STT: or-IN)
        config = {"target_language_code": "or-IN", "speaker": "priya", "speech_sample_rate": "8000"}
        await ws.send(json.dumps({"type": "config", "data": config}))
        error = json.loads(await ws.recv())
    assert error["type"] == "error" and "target_language_code" in error["data"]["message"]
