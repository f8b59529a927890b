"""The wire, in process (the fast layer): the handshake's `start`, the serializer both ways in
both dialects and encodings, Exotel's `stop` and `mark` as typed frames, and the call-control
stage acting on them. The same behaviour through a real websocket: test_wire_variants.py,
test_wire_malformed.py, test_call_control.py."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest
from pipecat.frames.frames import (
    CancelWorkerFrame,
    InputAudioRawFrame,
    InputDTMFFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
    TextFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.serializers.exotel import ExotelFrameSerializer
from pipecat.tests.utils import run_test

from exotel_bot.call.control import CallControl
from exotel_bot.causes import CallEnd, Evidence
from exotel_bot.settings import read_settings
from exotel_bot.stores.memory import MemoryTransfers
from exotel_bot.wire.frames import ExotelMarkFrame, ExotelMarkOutFrame, ExotelStopFrame
from exotel_bot.wire.handshake import CAMEL, HandshakeError, parse_start
from exotel_bot.wire.serializer import ExotelSerializer
from phrases import PHRASES


def start_message(camel: bool = False, encoding: str | None = None, rate: int = 8000) -> dict:
    fmt = {"encoding": encoding or "audio/x-raw", "sample_rate": str(rate), "bit_rate": "128kbps"}
    if camel:
        return {
            "event": "start",
            "start": {
                "streamSid": "MZs",
                "callSid": "CAs",
                "accountSid": "ACs",
                "from": "09812345678",
                "to": "08047491899",
                "customParameters": {"name": "Asha"},
                "mediaFormat": {"encoding": fmt["encoding"], "sampleRate": rate},
            },
        }
    return {
        "event": "start",
        "stream_sid": "MZs",
        "start": {
            "stream_sid": "MZs",
            "call_sid": "CAs",
            "account_sid": "ACs",
            "from": "09812345678",
            "to": "08047491899",
            "custom_parameters": {"name": "Asha"},
            "media_format": fmt,
        },
    }


async def serializer_for(message: dict, pipeline_rate: int = 16000) -> ExotelSerializer:
    serializer = ExotelSerializer(parse_start(message))
    await serializer.setup(SimpleNamespace(audio_in_sample_rate=pipeline_rate))
    return serializer


def test_start_in_both_dialects_describes_the_call():
    snake, camel = parse_start(start_message()), parse_start(start_message(camel=True))
    for call in (snake, camel):
        assert (call.call_sid, call.stream_sid, call.account_sid) == ("CAs", "MZs", "ACs")
        assert call.custom_parameters == {"name": "Asha"} and call.sample_rate == 8000
    assert camel.key_style == CAMEL and snake.key_style != CAMEL


def test_a_start_without_ids_is_refused_with_the_missing_names():
    message = start_message()
    del message["start"]["account_sid"]
    with pytest.raises(HandshakeError, match="account_sid"):
        parse_start(message)


async def test_serializer_is_pipecats_exotel_serializer():
    serializer = await serializer_for(start_message())
    assert isinstance(serializer, ExotelFrameSerializer)


@pytest.mark.parametrize("camel", [False, True])
async def test_stop_and_mark_become_typed_frames(camel):
    serializer = await serializer_for(start_message(camel=camel))
    stop = await serializer.deserialize(json.dumps({"event": "stop", "stop": {"reason": "bye"}}))
    assert isinstance(stop, ExotelStopFrame) and stop.reason == "bye"
    upper = await serializer.deserialize(json.dumps({"Event": "STOP"}))  # any shape ends it
    assert isinstance(upper, ExotelStopFrame) and upper.reason == "stopped"
    mark = await serializer.deserialize(json.dumps({"event": "mark", "mark": {"name": "turn-2"}}))
    assert isinstance(mark, ExotelMarkFrame) and mark.mark == "turn-2"
    assert await serializer.deserialize(json.dumps({"event": "mark", "mark": {}})) is None


async def test_caller_audio_and_keys_in_l16_and_mulaw():
    l16 = await serializer_for(start_message(), pipeline_rate=8000)
    payload = base64.b64encode(b"\x10\x00" * 800).decode()
    frame = await l16.deserialize(json.dumps({"event": "media", "media": {"payload": payload}}))
    assert isinstance(frame, InputAudioRawFrame) and len(frame.audio) == 1600
    mulaw = await serializer_for(start_message(encoding="audio/x-mulaw"), pipeline_rate=8000)
    payload = base64.b64encode(b"\xff" * 800).decode()
    frame = await mulaw.deserialize(json.dumps({"event": "media", "media": {"payload": payload}}))
    assert isinstance(frame, InputAudioRawFrame) and len(frame.audio) == 1600  # 16-bit PCM
    key = await l16.deserialize(json.dumps({"event": "dtmf", "dtmf": {"digit": "5"}}))
    assert isinstance(key, InputDTMFFrame) and key.button.value == "5"


@pytest.mark.parametrize("bad", ["not json", "[]", '{"event": "media"}', '{"event": "nope"}'])
async def test_bad_messages_are_dropped_not_raised(bad):
    serializer = await serializer_for(start_message())
    assert await serializer.deserialize(bad) is None
    assert serializer.dropped == 1


@pytest.mark.parametrize("camel", [False, True])
async def test_out_media_clear_and_mark_in_the_calls_own_style(camel):
    serializer = await serializer_for(start_message(camel=camel))
    sid, seq = ("streamSid", "sequenceNumber") if camel else ("stream_sid", "sequence_number")
    audio = OutputAudioRawFrame(audio=b"\x00\x00" * 1600, sample_rate=8000, num_channels=1)
    media = json.loads(await serializer.serialize(audio))
    assert media["event"] == "media" and media[sid] == "MZs" and media[seq] == "1"
    assert media["media"]["chunk"] == "1" and media["media"]["timestamp"] == "0"
    assert len(base64.b64decode(media["media"]["payload"])) == 3200
    clear = json.loads(await serializer.serialize(InterruptionFrame()))
    assert clear == {"event": "clear", sid: "MZs", seq: "2"}
    mark = json.loads(await serializer.serialize(ExotelMarkOutFrame(mark="goodbye")))
    assert mark == {"event": "mark", sid: "MZs", seq: "3", "mark": {"name": "goodbye"}}
    assert ExotelMarkOutFrame(mark="x").interruptible is False  # a barge-in keeps the mark


def control_for_test() -> CallControl:
    call = parse_start(start_message())
    settings = read_settings(require_keys=False)
    return CallControl(call, settings, PHRASES["en"], MemoryTransfers())


async def test_exotels_stop_ends_the_call_as_the_caller_hanging_up():
    control = control_for_test()
    down, up = await run_test(
        control.processor(),
        frames_to_send=[ExotelStopFrame(reason="callended")],
        expected_down_frames=[],
        expected_up_frames=[CancelWorkerFrame],
    )
    assert control.ending.reason == CallEnd.CALLER_HUNG_UP and control.ending.final
    assert str(control.ending) == "caller hung up (callended)"


async def test_call_control_stops_the_callers_audio_and_passes_the_rest():
    control = control_for_test()
    audio = InputAudioRawFrame(audio=b"\x00\x00" * 800, sample_rate=8000, num_channels=1)
    await run_test(
        control.processor(),
        frames_to_send=[audio, TextFrame("hello"), ExotelMarkFrame(mark="turn-1")],
        expected_down_frames=[TextFrame],
    )
    await run_test(  # upstream traffic is not the caller's audio: untouched
        control_for_test().processor(),
        frames_to_send=[TextFrame("up")],
        frames_to_send_direction=FrameDirection.UPSTREAM,
        expected_up_frames=[TextFrame],
    )


def test_the_strongest_evidence_of_the_end_wins():
    control = control_for_test()
    ending = control.ending
    assert str(ending) == "pipeline finished" and not ending.final
    ending.note(Evidence.SOCKET_CLOSED, CallEnd.CALLER_HUNG_UP, "socket closed")
    ending.note(Evidence.DECIDED, CallEnd.TRANSFERRED, "asked for a person")
    ending.note(Evidence.STOP, CallEnd.CALLER_HUNG_UP, "callended")  # weaker: kept out
    assert (ending.reason, ending.detail) == (CallEnd.TRANSFERRED, "asked for a person")
    assert str(ending) == "transferred: asked for a person" and ending.final
