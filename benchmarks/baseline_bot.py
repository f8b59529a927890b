"""The baseline: an Exotel bot wired the way Pipecat's official Exotel example wires it.

Stock pipecat 1.14 defaults throughout: `SileroVADAnalyzer()` with default parameters, the
default user-turn strategies (a Smart Turn v3 model loaded for every call, 3 s fallback),
the transport's default 40 ms output payloads, and a greeting the LLM writes (`LLMRunFrame`
after "Please introduce yourself"). Only the endpoints differ: the same vendor stand-ins as
our bot. `python -m benchmarks.serve baseline` serves it through server.py's own /ws handoff.

`bot_prompt` is the same bot with a turn detector that answers promptly: pipecat's own
`SpeechTimeoutUserTurnStopStrategy` with no extra wait, so the turn ends as soon as the VAD
has stopped and the final transcript is in. On our 8 kHz fixtures Smart Turn judges the
question unfinished and waits out its 3 s fallback; this variant shows what the official
pipeline does when the turn detector is not what it waits for (it also answers into every
mid-sentence pause: it has nothing to tell a pause from an end).
`python -m benchmarks.serve baseline-prompt` serves it.
"""

from __future__ import annotations

import os

from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.frames.frames import LLMRunFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.runner.types import RunnerArguments
from pipecat.runner.utils import parse_telephony_websocket
from pipecat.serializers.exotel import ExotelFrameSerializer
from pipecat.services.cartesia.tts import CartesiaTTSService
from pipecat.services.deepgram.stt import DeepgramSTTService
from pipecat.services.openai.llm import OpenAILLMService
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport
from pipecat.turns.user_stop import SpeechTimeoutUserTurnStopStrategy
from pipecat.turns.user_turn_strategies import UserTurnStrategies
from pipecat.workers.runner import WorkerRunner

from exotel_bot.logs import call_logging

SYSTEM_PROMPT = (
    "You are a helpful LLM in an audio call. Your goal is to demonstrate your capabilities in a "
    "succinct way. Your output will be converted to audio so don't include special characters "
    "in your answers. Respond to what the user said in a creative and helpful way."
)


async def bot(runner_args: RunnerArguments):
    """One Exotel call, official-example style."""
    await run_baseline(runner_args, UserTurnStrategies())


async def bot_prompt(runner_args: RunnerArguments):
    """The same call, its turn ended as soon as the VAD and the final transcript allow."""
    strategies = UserTurnStrategies(stop=[SpeechTimeoutUserTurnStopStrategy(user_speech_timeout=0)])
    await run_baseline(runner_args, strategies)


async def run_baseline(runner_args: RunnerArguments, turn_strategies: UserTurnStrategies):
    """The official example's pipeline with the given user-turn strategies."""
    _, call_data = await parse_telephony_websocket(runner_args.websocket)
    serializer = ExotelFrameSerializer(stream_sid=call_data.stream_id, call_sid=call_data.call_id)
    transport = FastAPIWebsocketTransport(
        websocket=runner_args.websocket,
        params=FastAPIWebsocketParams(
            audio_in_enabled=True,
            audio_out_enabled=True,
            add_wav_header=False,
            serializer=serializer,
        ),
    )

    stt = DeepgramSTTService(
        api_key=os.environ["DEEPGRAM_API_KEY"], base_url=os.environ.get("DEEPGRAM_BASE_URL", "")
    )
    llm = OpenAILLMService(
        api_key=os.environ["OPENAI_API_KEY"], base_url=os.environ.get("OPENAI_BASE_URL")
    )
    tts = CartesiaTTSService(
        api_key=os.environ["CARTESIA_API_KEY"],
        url=os.environ.get("CARTESIA_WS_URL", "wss://api.cartesia.ai/tts/websocket"),
        settings=CartesiaTTSService.Settings(voice="71a7ad14-091c-4e8e-a314-022ece01c121"),
    )

    context = LLMContext([{"role": "system", "content": SYSTEM_PROMPT}])
    user_aggregator, assistant_aggregator = LLMContextAggregatorPair(
        context,
        user_params=LLMUserAggregatorParams(
            vad_analyzer=SileroVADAnalyzer(), user_turn_strategies=turn_strategies
        ),
    )

    pipeline = Pipeline(
        [
            transport.input(),
            stt,
            user_aggregator,
            llm,
            tts,
            transport.output(),
            assistant_aggregator,
        ]
    )
    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(
            audio_in_sample_rate=8000,
            audio_out_sample_rate=8000,
            enable_metrics=True,
            enable_usage_metrics=True,
        ),
    )

    @transport.event_handler("on_client_connected")
    async def on_client_connected(transport, client):
        context.add_message({"role": "system", "content": "Please introduce yourself to the user."})
        await worker.queue_frames([LLMRunFrame()])

    @transport.event_handler("on_client_disconnected")
    async def on_client_disconnected(transport, client):
        await worker.cancel()

    with call_logging(str(call_data.call_id)):
        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(worker)
        await runner.run()
