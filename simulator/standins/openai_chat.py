"""OpenAI chat-completions stand-in (``/v1/chat/completions``, ``/v1/models``).

Replies come from regex rules, so a test can script a conversation, including tool
calls; by default the reply echoes the user's words to prove the transcript got through.
After a tool call, the reply (`llm.after_tool_reply`) may quote the tool's result: `{result}`
is the result as the bot returned it (a JSON object read out as "key: value, ..."), so a
scripted tool call visibly runs the bot's own function (`reply_after_tool`).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from typing import Any

from aiohttp import web

from .config import StandInConfig
from .structured import is_structured_output, structured_answer

_ERRORS = {
    "500": (500, "The server had an error processing your request (stand-in).", "server_error"),
    "429": (429, "Rate limit reached for requests (stand-in).", "rate_limit_exceeded"),
}


def message_text(message: dict[str, Any]) -> str:
    """The text of a message whose content is a string or a list of content parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict)]
        return " ".join(p for p in parts if p)
    return ""


def _fill(template: str, user: str) -> str:
    """The template with the caller's words in place of `{user}`; where their words end a
    sentence already, the template's own full stop after them goes (no "order.. How")."""
    user = user.strip()
    # str.replace, not str.format: user speech may contain braces.
    if user.endswith((".", "!", "?", "।")):
        template = template.replace("{user}.", "{user}")
    return template.replace("{user}", user)


def choose_answer(config: StandInConfig, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Pick ``{"reply": str, "tool_call": dict | None}`` for a conversation."""
    llm = config.llm
    if messages and messages[-1].get("role") == "tool":
        return {"reply": reply_after_tool(llm.after_tool_reply, messages), "tool_call": None}
    user_messages = [m for m in messages if m.get("role") == "user"]
    if not user_messages:
        return {"reply": llm.greeting_reply, "tool_call": None}
    user = message_text(user_messages[-1]).strip()
    for rule in list(llm.rules):
        if re.search(rule.get("match", ""), user, re.IGNORECASE):
            reply = _fill(rule.get("reply", ""), user)
            return {"reply": reply, "tool_call": rule.get("tool_call")}
    return {"reply": _fill(llm.default_reply, user), "tool_call": None}


def reply_after_tool(template: str, messages: list[dict[str, Any]]) -> str:
    """`template` with `{result}` replaced by what the last tool call returned.

    The results of the tool messages since the last assistant turn are joined; a JSON object
    reads as "key: value, key: value", anything else as its text.
    """
    results = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        results.insert(0, readable_result(message_text(message)))
    return template.replace("{result}", "; ".join(results))


def readable_result(text: str) -> str:
    """A tool result as words a caller could hear: a JSON object's fields, else the text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text.strip()
    if isinstance(value, dict):
        return ", ".join(f"{key.replace('_', ' ')}: {item}" for key, item in value.items())
    return str(value)


# What an answering machine says and a person picking up does not (English and Hindi).
MACHINE_WORDS = re.compile(
    r"leave (me |us )?(a |your )?message|after the (tone|beep)|you'?ve reached|you have reached|"
    r"not available|can'?t take your call|unable to take|voice ?mail|mailbox|record your message|"
    r"संदेश छोड़|बीप के बाद|उपलब्ध नहीं",
    re.IGNORECASE,
)


def is_classification(body: dict[str, Any]) -> bool:
    """A pipecat `LLMClassifier` request: non-streaming, with a JSON-schema response format."""
    response_format = body.get("response_format") or {}
    return response_format.get("type") == "json_schema" and not body.get("stream")


def classify(body: dict[str, Any]) -> str:
    """Answer each question of a classifier request; `voicemail` is judged from the transcript.

    The classifier's message reads 'Input:\n<what was heard>\n\nQuestion "voicemail": ...'.
    A recorded-message monologue ("... leave a message after the tone") is voicemail; anything
    else ("hello?") is a person. Other choice questions get their first option.
    """
    messages = body.get("messages") or []
    text = message_text(messages[-1]) if messages else ""
    heard = text.split("Input:", 1)[-1].split("\n\nQuestion", 1)[0]
    schema = (body["response_format"].get("json_schema") or {}).get("schema") or {}
    answers: dict[str, Any] = {}
    for name, question in (schema.get("properties") or {}).items():
        options = (((question.get("properties") or {}).get("choice") or {}).get("enum")) or []
        if name == "voicemail" and {"voicemail", "conversation"} <= set(options):
            choice = "voicemail" if MACHINE_WORDS.search(heard) else "conversation"
        else:
            choice = options[0] if options else None
        if choice is not None:
            odds = {o: (0.95 if o == choice else 0.05 / max(1, len(options) - 1)) for o in options}
            answers[name] = {"choice": choice, "probabilities": odds}
    return json.dumps(answers)


def _word_chunks(text: str, per_chunk: int) -> list[str]:
    """Split text into pieces of a few words that concatenate back to the text."""
    pieces = re.findall(r"\S+\s*|\s+", text)
    size = max(1, per_chunk)
    return ["".join(pieces[i : i + size]) for i in range(0, len(pieces), size)]


def _rough_tokens(text: str) -> int:
    return max(1, len(text) // 4)


class OpenAIStandIn:
    """Serves the chat-completions endpoints and records every request body."""

    def __init__(self, config: StandInConfig):
        self.config = config
        self._lock = threading.Lock()
        self._requests: list[dict[str, Any]] = []
        self._classifications: list[dict[str, Any]] = []
        self._structured: list[dict[str, Any]] = []
        self.shutting_down = False

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Request bodies, oldest first (a copy of the list)."""
        with self._lock:
            return list(self._requests)

    @property
    def classifications(self) -> list[dict[str, Any]]:
        """Classifier requests (e.g. voicemail detection) with the answer given, oldest first.

        Kept apart from `requests`, which hold the conversation's chat requests only.
        """
        with self._lock:
            return list(self._classifications)

    @property
    def structured(self) -> list[dict[str, Any]]:
        """Structured-output requests (a call's outcome) with the status and answer given."""
        with self._lock:
            return list(self._structured)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._classifications.clear()
            self._structured.clear()

    async def models(self, request: web.Request) -> web.Response:
        created = int(time.time())
        data = [
            {"id": m, "object": "model", "created": created, "owned_by": "stand-in"}
            for m in self.config.llm.models
        ]
        return web.json_response({"object": "list", "data": data})

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return _error_response(400, "Request body is not JSON.", "invalid_request_error")
        if isinstance(body, dict) and is_structured_output(body):
            return await self._structured_output(request, body)
        if isinstance(body, dict) and is_classification(body):
            answer = {"reply": classify(body), "tool_call": None}
            with self._lock:
                self._classifications.append({"request": body, "answer": answer["reply"]})
            return web.json_response(_completion(body.get("model") or "gpt-4o-mini", answer, 1))
        with self._lock:
            self._requests.append(body)

        mode = self.config.should_fail("llm")
        if mode in _ERRORS:
            status, text, code = _ERRORS[mode]
            headers = {"retry-after": "1"} if status == 429 else None
            return _error_response(status, text, code, headers)
        if mode == "hang":
            return await self._hang(request)

        answer = choose_answer(self.config, body.get("messages") or [])
        model = body.get("model") or "gpt-4o-mini"
        prompt_tokens = sum(_rough_tokens(json.dumps(m)) for m in body.get("messages") or [])
        if not body.get("stream"):
            return web.json_response(_completion(model, answer, prompt_tokens))
        return await self._stream(request, body, model, answer, prompt_tokens)

    async def _structured_output(self, request: web.Request, body: dict) -> web.Response:
        """Answer a `json_schema` request as OpenAI would, or fail as it can (structured.py)."""
        mode = self.config.llm.structured_fail_mode
        if mode == "hang":
            status, answer = 504, "hang"
        elif mode in _ERRORS:
            status, answer = _ERRORS[mode][0], mode
        else:
            status, answer = structured_answer(self.config, body)
        with self._lock:
            self._structured.append({"request": body, "status": status, "answer": answer})
        if mode == "hang":
            return await self._hang(request)
        if mode in _ERRORS:
            return _error_response(*_ERRORS[mode])
        if status != 200:
            return web.json_response(answer, status=status)
        reply = {"reply": answer, "tool_call": None}
        return web.json_response(_completion(body.get("model") or "gpt-4o-mini", reply, 1))

    async def _hang(self, request: web.Request) -> web.Response:
        """Say nothing until the client gives up (or a bound passes), never blocking others."""
        deadline = time.monotonic() + self.config.llm.hang_max_seconds
        while time.monotonic() < deadline and not self.shutting_down:
            transport = request.transport
            if transport is None or transport.is_closing():
                break
            await asyncio.sleep(0.25)
        return _error_response(504, "Stand-in hang ended.", "timeout")

    async def _stream(self, request, body, model, answer, prompt_tokens) -> web.StreamResponse:
        llm = self.config.llm
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        base = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_stand_in",
        }

        async def send(delta: dict[str, Any] | None, finish: str | None = None, **extra) -> None:
            chunk = dict(base, **extra)
            if delta is not None:
                choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                chunk["choices"] = [choice]
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        try:
            if llm.first_token_delay > 0:
                await asyncio.sleep(llm.first_token_delay)
            await send({"role": "assistant", "content": ""})
            reply, tool_call = answer["reply"], answer["tool_call"]
            for i, piece in enumerate(_word_chunks(reply, llm.words_per_chunk)):
                if i and llm.token_interval > 0:
                    await asyncio.sleep(llm.token_interval)
                await send({"content": piece})
            if tool_call:
                await self._send_tool_call(send, tool_call)
            await send({}, "tool_calls" if tool_call else "stop")
            if (body.get("stream_options") or {}).get("include_usage"):
                completion = _rough_tokens(reply + json.dumps(tool_call or ""))
                usage = {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion,
                    "total_tokens": prompt_tokens + completion,
                }
                await send(None, choices=[], usage=usage)
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        except ConnectionError:
            pass  # the client hung up mid-stream (an interruption); nothing to finish
        return response

    async def _send_tool_call(self, send, tool_call: dict[str, Any]) -> None:
        arguments = json.dumps(tool_call.get("arguments") or {})
        first = {
            "index": 0,
            "id": f"call_{uuid.uuid4().hex[:24]}",
            "type": "function",
            "function": {"name": tool_call["name"], "arguments": ""},
        }
        await send({"tool_calls": [first]})
        middle = max(1, len(arguments) // 2)
        for part in (arguments[:middle], arguments[middle:]):
            if part:
                await send({"tool_calls": [{"index": 0, "function": {"arguments": part}}]})


def _completion(model: str, answer: dict[str, Any], prompt_tokens: int) -> dict[str, Any]:
    """A non-streaming ``chat.completion`` body, for callers that ask for one."""
    message: dict[str, Any] = {"role": "assistant", "content": answer["reply"] or None}
    tool_call = answer["tool_call"]
    if tool_call:
        message["tool_calls"] = [
            {
                "id": f"call_{uuid.uuid4().hex[:24]}",
                "type": "function",
                "function": {
                    "name": tool_call["name"],
                    "arguments": json.dumps(tool_call.get("arguments") or {}),
                },
            }
        ]
    completion = _rough_tokens(answer["reply"])
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if tool_call else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion,
        },
    }


def _error_response(
    status: int, message: str, code: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = {"error": {"message": message, "type": code, "param": None, "code": code}}
    return web.json_response(body, status=status, headers=headers)
