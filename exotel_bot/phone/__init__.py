"""The phone machinery around bot.py's pipeline: `PhoneCall` and how a call is answered.

- `phone_call.py`: `PhoneCall`, the one object bot.py builds per call;
- `answering.py`: `answer_call()`, Exotel's handshake and the dial a call answers;
- `answer.py`: outbound answer detection (person or machine, waiting for "hello?");
- `speech.py`: the stage between the LLM and the TTS (first phrase, turn marks);
- `observer.py`: the call's one observer (record and vendor fallbacks);
- `post_call.py`: steps run with the finished record;
- `debugging.py`: pipecat's Whisker or Tail on a local call (PIPECAT_DEBUGGER).
"""
