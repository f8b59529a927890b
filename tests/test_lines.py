"""Real phone lines, through the websocket: echo, both tracks, wordless sounds, background talk.

Each call goes through simulator/line.py, which adds to the caller's audio what a real line
does. The Deepgram stand-in hears the bot's voice coming back as the bot's words (as Deepgram
would), so these tests fail if the bot answers or is cut off by its own echo.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.audio import write_wav
from simulator.caller import BargeIn, Hangup, Say, WaitForBot, WaitForGreeting, run_call
from simulator.line import LineConditions, wordless_sound

QUESTION = "Where is my order?"


def user_turns(stand_ins) -> list[str]:
    """What the LLM was asked to answer: the last user message of each request."""
    return [
        m["content"]
        for request in stand_ins.openai.requests
        for m in request["messages"][-1:]
        if m["role"] == "user"
    ]


def stray_clears(report) -> list[float]:
    """`clear`s not caused by the caller's words: outside every caller utterance. (A turn
    start sends a `clear` even when the bot is silent: pipecat's interruption.)"""
    spans = [(r.speech_start, r.speech_end) for r in report.replies if r.speech_start]
    return [t for t in report.clears if not any(a <= t <= b + 1.0 for a, b in spans)]


def sound_file(tmp_path: Path, kind: str) -> Path:
    return write_wav(tmp_path / f"{kind}.wav", wordless_sound(kind, 8000), 8000)


@pytest.mark.parametrize("echo_db", [-20, -10])
async def test_the_bot_does_not_answer_or_interrupt_its_own_echo(server, stand_ins, echo_db):
    stand_ins.config.stt.transcripts.append(QUESTION)
    line = LineConditions(echo_db=echo_db, echo_delay=0.2)
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("order_status"), WaitForBot(), WaitForBot(quiet=1.5), Hangup()],
        line=line,
    )
    assert report.ok, report.summary()
    # The echo was real: Deepgram heard the bot's own words in the caller's audio...
    assert stand_ins.deepgram.connections[-1].echo_utterances > 0, report.summary()
    # ...and the bot neither cut itself off nor answered them.
    assert stray_clears(report) == [], report.summary()
    assert report.bot_audio_bytes_cleared == 0, report.summary()
    assert user_turns(stand_ins) == [QUESTION], user_turns(stand_ins)


async def test_the_caller_still_interrupts_over_the_echo(server, stand_ins):
    stand_ins.config.stt.transcripts.extend([QUESTION, "Sorry, what was my order number?"])
    stand_ins.config.llm.default_reply = " ".join(["Your order is on its way today."] * 4)
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("order_status"), BargeIn("long_talk", after=0.8), WaitForBot()],
        line=LineConditions(echo_db=-10, echo_delay=0.2),
    )
    assert report.ok, report.summary()
    assert [b.interrupted for b in report.barge_ins] == [True], report.summary()
    assert user_turns(stand_ins)[-1] == "Sorry, what was my order number?"


async def test_tracks_both_the_bot_never_hears_its_own_track(server, stand_ins):
    stand_ins.config.stt.transcripts.append(QUESTION)
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("order_status"), WaitForBot(), Hangup()],
        line=LineConditions(both_tracks=True),
    )
    assert report.ok, report.summary()
    assert report.sent["media"] > 40 and stray_clears(report) == [], report.summary()
    assert report.replies[0].first_audio is not None, report.summary()
    assert user_turns(stand_ins) == [QUESTION], report.summary()
    assert stand_ins.deepgram.connections[-1].echo_utterances == 0  # it never got the bot


# What Deepgram writes for each: nothing for a cough, "Hmm." for a hum; a click is too short to
# be an utterance at all (the stand-in takes no script line for it).
@pytest.mark.parametrize("sound, heard_as", [("cough", [""]), ("hmm", ["Hmm."]), ("click", [])])
async def test_a_wordless_sound_during_the_greeting_does_not_cut_it(
    server, stand_ins, tmp_path, sound, heard_as
):
    stand_ins.config.stt.transcripts.extend([*heard_as, QUESTION])
    report = await run_call(
        server.ws_url,
        [
            BargeIn(sound_file(tmp_path, sound), after=0.4),
            WaitForGreeting(),
            Say("order_status"),
            WaitForBot(),
            Hangup(),
        ],
    )
    assert report.ok, report.summary()
    assert report.bot_audio_bytes_cleared == 0, report.summary()  # the greeting, heard whole
    assert [b.interrupted for b in report.barge_ins] == [False], report.summary()
    assert report.replies[-1].first_audio is not None, report.summary()  # no dead air after
    assert user_turns(stand_ins) == [QUESTION], report.summary()


async def test_a_cough_during_a_reply_does_not_cut_it(server, stand_ins, tmp_path):
    stand_ins.config.stt.transcripts.extend([QUESTION, ""])
    stand_ins.config.llm.default_reply = " ".join(["Your order is on its way today."] * 3)
    report = await run_call(
        server.ws_url,
        [
            WaitForGreeting(),
            Say("order_status"),
            BargeIn(sound_file(tmp_path, "cough"), after=0.5),
            WaitForBot(),
            Hangup(),
        ],
    )
    assert report.ok, report.summary()
    assert report.bot_audio_bytes_cleared == 0, report.summary()
    assert [b.interrupted for b in report.barge_ins] == [False], report.summary()
    assert user_turns(stand_ins) == [QUESTION], report.summary()


@pytest.mark.parametrize("noise", ["babble", "tv"])
async def test_a_question_over_background_talk_is_answered_while_it_goes_on(
    server, stand_ins, noise
):
    stand_ins.config.stt.transcripts.append(QUESTION)
    line = LineConditions(noise=noise, noise_dbfs=-30, noise_from=0.0)
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("order_status"), WaitForBot(timeout=12), Hangup()],
        line=line,
    )
    assert report.ok, report.summary()
    reply = report.replies[0]
    # The background never stopped, and the question was still answered, once, and not into
    # the caller's words.
    assert reply.first_audio is not None, report.summary()
    assert not reply.premature, report.summary()
    # (The LLM may have started early more than once on the same words: VAD fragments.) A
    # background voice that stands out for a moment may be transcribed, as Deepgram would: it
    # then joins the caller's turn (the STT stand-in gives it the script's next line), and the
    # one answer still takes in the question.
    turns = set(user_turns(stand_ins))
    assert len(turns) == 1 and QUESTION in turns.pop(), report.summary()


async def test_a_mulaw_line_with_jitter_bursts_and_echo_is_still_one_clean_answer(
    server, stand_ins
):
    from simulator.dialect import Dialect

    stand_ins.config.stt.transcripts.append(QUESTION)
    report = await run_call(
        server.ws_url,
        [WaitForGreeting(), Say("order_status"), WaitForBot(), Hangup()],
        dialect=Dialect(encoding="audio/x-mulaw"),
        line=LineConditions(echo_db=-20, echo_delay=0.2, jitter_ms=60, burst_every=5),
    )
    assert report.ok, report.summary()
    assert stray_clears(report) == [] and report.bot_audio_bytes_cleared == 0, report.summary()
    assert report.replies[0].first_audio is not None, report.summary()
    assert user_turns(stand_ins) == [QUESTION], report.summary()
