"""Answer supervision end to end: a call placed through /dialout is answered by recorded
answers (espeak-ng voices; simulator/fixtures/make_fixtures.sh): English, Hindi and Hinglish
voicemail greetings ending in a beep, an IVR menu, a call-screening prompt, a person saying
"hello?" or "he is not available at the moment", and silence. Each gets its action (message
after the beep, hang-up, who is calling, conversation) and its outcome in the call record and
the dial."""

from __future__ import annotations

import json

import httpx
import pytest

from exotel_bot.outbound.answer_classes import classify
from phrases import PHRASES
from simulator.caller import ExpectClose, Hangup, Say, Silence, WaitForBot, run_call
from simulator.standins.exotel_rest import ExotelRestStandIn
from tests.conftest import expected_greeting, record_of, spoken

DIALOUT_TOKEN = "dialout-sentinel-answer-5e1a"
AUTH = {"Authorization": f"Bearer {DIALOUT_TOKEN}"}
EN = PHRASES["en"]

# What the Deepgram stand-in hears in each recording, utterance by utterance.
SAID = {
    "voicemail_beep": [
        "Hi, you have reached Priya.",
        "I can't take your call right now.",
        "Please leave a message after the tone.",
    ],
    "voicemail_hindi": [
        "आप जिस नंबर पर कॉल कर रहे हैं, वह अभी उपलब्ध नहीं है।",
        "कृपया बीप के बाद अपना संदेश छोड़ें।",
    ],
    "voicemail_hinglish": [
        "Hello, मैं अभी available नहीं हूँ।",
        "Please beep के बाद अपना message छोड़ दीजिए।",
    ],
    "ivr": [
        "Welcome to City Bank.",
        "For account balance, press 1.",
        "To speak to an agent, press 9.",
    ],
    "screening": [
        "Hi, the person you are calling is using a screening service.",
        "Go ahead and say your name and why you are calling.",
    ],
    "not_available": ["Hello?", "He is not available at the moment.", "Who is calling?"],
    "hello": ["Hello?", "Who is this?"],
}


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        (SAID["voicemail_beep"][0], "voicemail"),
        (SAID["voicemail_hindi"][0], "voicemail"),
        (SAID["voicemail_hindi"][1], "voicemail"),
        (SAID["voicemail_hinglish"][0], "person"),  # alone it could be a person ...
        (SAID["voicemail_hinglish"][1], "voicemail"),  # ... the beep and the message are not
        (SAID["ivr"][1], "ivr"),
        ("खाता शेष जानने के लिए 1 दबाएँ", "ivr"),
        (SAID["screening"][0], "screening"),
        (SAID["screening"][1], "screening"),
        ("Hello? He is not available at the moment. Who is calling?", "person"),
        ("वो अभी घर पर नहीं हैं, आप कौन बोल रहे हैं?", "person"),
        ("Haan ji, boliye", "person"),
    ],
)
def test_answer_classes(text, answer):
    assert classify(text) == answer


@pytest.fixture(scope="module")
def exotel_api():
    stand_in = ExotelRestStandIn(api_token="exotel-token-sentinel-answer").start()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="module")
def server(server_factory, exotel_api):
    return server_factory(
        DIALOUT_TOKEN=DIALOUT_TOKEN,
        PUBLIC_URL="http://127.0.0.1:1",
        VOICEMAIL_MESSAGE_DELAY_SECS="3",  # longer than the pause before the beep
        ANSWER_SILENCE_TIMEOUT_SECS="3",
        OUTBOUND_HELLO_TIMEOUT_SECS="30",  # a slow machine must not greet before the "hello"
        **exotel_api.env(),
    )


CONTEXT = {"name": "Asha", "purpose": "order A-1042"}


def dial(server, to: str, wait_for_hello: bool = True) -> str:
    body = {"to": to, "context": CONTEXT, "wait_for_hello": wait_for_hello}
    response = httpx.post(f"{server.http_url}/dialout", json=body, headers=AUTH, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["call_sid"]


def dial_record(server, call_sid: str) -> dict:
    return httpx.get(f"{server.http_url}/dialout/{call_sid}", headers=AUTH).json()


def answers(record: dict) -> list[str]:
    return [e["detail"].split(":")[0] for e in record["events"] if e["kind"] == "answer"]


def hears(stand_ins, recording: str) -> None:
    lines = SAID[recording]
    stand_ins.config.stt.transcripts.extend(lines)
    stand_ins.config.stt.default_transcript = lines[-1]


@pytest.mark.parametrize(
    ("recording", "number"),
    [
        ("voicemail_beep", "+919800000061"),
        ("voicemail_hindi", "+919800000062"),
        ("voicemail_hinglish", "+919800000063"),
    ],
)
async def test_voicemail_gets_the_message_after_the_beep(server, stand_ins, recording, number):
    call_sid = dial(server, number)
    hears(stand_ins, recording)
    report = await run_call(
        server.ws_url, [Say(recording), ExpectClose(40)], call_sid=call_sid, from_number=number
    )
    assert report.ended_by == "server" and report.close_code == 1000, report.summary()

    # The last thing the bot said is the message, built from the dial's context ...
    message = EN.voicemail_message("Asha", "order A-1042")
    assert spoken(stand_ins)[-1] == message
    # ... and it began once the beep was over (the recording ends 0.3 s after its beep).
    [reply] = report.replies
    message_starts = max(t for t, kind, _ in report.timeline if kind == "bot_audio")
    assert message_starts > reply.speech_end - 0.3
    goodbye = next(m for m in report.marks if m.name == "goodbye")
    assert goodbye.echoed is not None  # hung up once Exotel had played it
    record = record_of(server, call_sid)
    assert record["end"]["reason"] == "voicemail"
    assert dial_record(server, call_sid)["outcome"] == "voicemail"
    if recording == "voicemail_hinglish":  # "Hello, I am not available" could be a person ...
        assert answers(record) == ["person", "voicemail"]  # ... until the beep and the message
    else:  # a machine from its first sentence: nothing but the message, the LLM never asked
        assert answers(record) == ["voicemail"] and spoken(stand_ins) == [message]
        assert stand_ins.openai.requests == []


async def test_an_ivr_menu_is_hung_up_on(server, stand_ins):
    call_sid = dial(server, "+919800000064", wait_for_hello=False)
    hears(stand_ins, "ivr")
    report = await run_call(
        server.ws_url, [Say("ivr"), ExpectClose(30)], call_sid=call_sid, from_number="9800000064"
    )
    assert report.ended_by == "server", report.summary()
    record = record_of(server, call_sid)
    assert record["end"]["reason"] == "ivr" and answers(record)[-1] == "ivr"
    assert EN.voicemail_message("Asha", "order A-1042") not in spoken(stand_ins)
    assert dial_record(server, call_sid)["outcome"] == "ivr"


async def test_call_screening_hears_who_is_calling_then_the_person_is_greeted(server, stand_ins):
    call_sid = dial(server, "+919800000065")
    hears(stand_ins, "screening")
    stand_ins.config.stt.transcripts.extend(SAID["hello"])  # the person, once connected
    report = await run_call(
        server.ws_url,
        [Say("screening"), WaitForBot(20), Say("hello"), WaitForBot(20), Hangup()],
        call_sid=call_sid,
        from_number="9800000065",
    )
    assert report.ok, report.summary()
    assert spoken(stand_ins)[:2] == [
        EN.screening_message("Asha", "order A-1042"),
        expected_greeting(outbound_context=CONTEXT),
    ]
    assert "Asha" in spoken(stand_ins)[0] and "A-1042" in spoken(stand_ins)[0]
    record = record_of(server, call_sid)
    assert answers(record) == ["screening", "person"]
    assert record["end"]["reason"] == "caller_hung_up"


@pytest.mark.parametrize(("recording", "number"), [("hello", "66"), ("not_available", "67")])
async def test_a_person_is_greeted_and_the_call_goes_on(server, stand_ins, recording, number):
    call_sid = dial(server, f"+9198000000{number}")
    hears(stand_ins, recording)
    stand_ins.config.stt.transcripts.append("Yes, that's right.")
    report = await run_call(
        server.ws_url,
        [Say(recording), WaitForBot(20), Say("yes"), WaitForBot(20), Hangup()],
        call_sid=call_sid,
        from_number=f"98000000{number}",
    )
    assert report.ok, report.summary()
    # The greeting answered "hello?"; the person's words are in what the LLM answered next.
    assert spoken(stand_ins)[0] == expected_greeting(outbound_context=CONTEXT)
    asked = json.dumps(stand_ins.openai.requests[-1]["messages"], ensure_ascii=False)
    assert SAID[recording][-1] in asked and "Yes, that's right." in asked
    hello, yes = report.replies
    assert report.greeting_latency > hello.speech_start  # silent until the callee spoke
    assert yes.first_audio is not None, report.summary()
    record = record_of(server, call_sid)
    assert answers(record) == ["person"] and record["end"]["reason"] == "caller_hung_up"
    assert dial_record(server, call_sid)["outcome"] == "person"


async def test_silence_is_hung_up_on_after_the_bound(server, stand_ins):
    call_sid = dial(server, "+919800000068")
    report = await run_call(
        server.ws_url, [Silence(1), ExpectClose(30)], call_sid=call_sid, from_number="9800000068"
    )
    assert report.ended_by == "server", report.summary()
    record = record_of(server, call_sid)
    assert record["end"]["reason"] == "silence" and answers(record) == ["silence"]
    assert dial_record(server, call_sid)["outcome"] == "silence"


async def test_inbound_calls_are_never_supervised(server, stand_ins):
    hears(stand_ins, "voicemail_beep")
    report = await run_call(
        server.ws_url, [Say("voicemail_beep"), WaitForBot(20), Hangup()], call_sid="CAinbound1"
    )
    assert report.ok, report.summary()
    record = record_of(server, "CAinbound1")
    assert answers(record) == [] and record["end"]["reason"] == "caller_hung_up"
    # The LLM answered what a machine would have said: a reply to each sentence it heard.
    assert any(t["reply_to"] for t in record["turns"] if t["speaker"] == "bot"), record["turns"]
