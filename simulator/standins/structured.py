"""Structured outputs for the OpenAI stand-in: `response_format` of type `json_schema`.

OpenAI's rules, kept here so the stand-in is never kinder than the vendor:

- with `"strict": true`, every object in the schema must set `"additionalProperties": false`
  and list every property in `required`, or the request fails with 400
  `invalid_request_error` ("Invalid schema for response_format ...");
- the answer is a JSON string in `message.content` that matches the schema (OpenAI's
  constrained decoding guarantees it): a scripted answer that does not fit is refused with a
  500 here rather than sent, because OpenAI could not have sent it.

Without a scripted answer (`config.llm.structured_answer`), the fields are filled by simple
rules from the transcript in the request: an enum takes the option whose words the transcript
has (else "other", else the first), a boolean is true when the transcript has one of its
name's words, a string named like an id or number takes the first run of digits, other strings
the caller's first words, a nullable field with nothing to go on is null.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema

from .config import StandInConfig


class SchemaRejected(ValueError):
    """The request's schema breaks one of OpenAI's strict-mode rules; the message says which."""


def is_structured_output(body: dict[str, Any]) -> bool:
    """A json_schema request that is not a pipecat classifier's (whose questions hold `choice`)."""
    response_format = body.get("response_format") or {}
    if response_format.get("type") != "json_schema" or body.get("stream"):
        return False
    schema = (response_format.get("json_schema") or {}).get("schema") or {}
    questions = (schema.get("properties") or {}).values()
    return not questions or not all(
        isinstance(q, dict) and "choice" in (q.get("properties") or {}) for q in questions
    )


def check_strict(schema: dict[str, Any], path: str = "") -> None:
    """Raise SchemaRejected where OpenAI's strict mode would refuse `schema`."""
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        if schema.get("additionalProperties") is not False:
            raise SchemaRejected(
                f"In context={path or '()'}, 'additionalProperties' is required to be supplied "
                "and to be false."
            )
        missing = sorted(set(props) - set(schema.get("required") or []))
        if missing:
            raise SchemaRejected(
                f"In context={path or '()'}, 'required' is required to be supplied and to be an "
                f"array including every key in properties. Missing '{missing[0]}'."
            )
        for name, sub in props.items():
            check_strict(sub, f"{path}.{name}" if path else name)
    for key in ("anyOf", "$defs", "items"):
        value = schema.get(key)
        subs = value.values() if isinstance(value, dict) and key == "$defs" else value
        if isinstance(subs, dict):
            subs = [subs]
        for sub in subs or []:
            check_strict(sub, path)


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        node: Any = root
        for part in ref[2:].split("/"):
            node = node.get(part, {})
        return node
    return schema


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[_\W]+", name.lower()) if len(w) > 2]


def _value(name: str, schema: dict[str, Any], root: dict, text: str, caller: str) -> Any:
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        options = [_resolve(o, root) for o in schema["anyOf"]]
        real = [o for o in options if o.get("type") != "null"]
        value = _value(name, real[0], root, text, caller) if real else None
        nullable = len(real) < len(options)
        return None if nullable and value in ("", None, False) else value
    lowered = text.lower()
    if "enum" in schema:
        options = schema["enum"]
        for option in options:
            if any(w in lowered for w in _words(str(option))):
                return option
        return "other" if "other" in options else options[0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties") or {}
        return {k: _value(k, v, root, text, caller) for k, v in props.items()}
    if kind == "array":
        return []
    if kind == "boolean":
        return any(w in lowered for w in _words(name))
    if kind in ("integer", "number"):
        found = re.search(r"\d+", text)
        return int(found.group()) if found else 0
    if any(w in ("id", "number", "phone") for w in re.split(r"[_\W]+", name.lower())):
        found = re.search(r"\d{3,}", caller)
        return found.group() if found else ""
    return caller[:120]


def fill_from_transcript(schema: dict[str, Any], text: str) -> dict[str, Any]:
    """An answer to `schema` from the transcript `text` ("Caller: ..." lines), by the rules
    in the module docstring."""
    caller = " ".join(
        line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Caller:")
    )
    return _value("", schema, schema, text, caller or text)


def structured_answer(config: StandInConfig, body: dict[str, Any]) -> tuple[int, dict | str]:
    """(200, the JSON answer as a string) or (status, an OpenAI-style error body)."""
    json_schema = (body.get("response_format") or {}).get("json_schema") or {}
    schema = json_schema.get("schema") or {}
    name = json_schema.get("name", "")
    if json_schema.get("strict"):
        try:
            check_strict(schema)
        except SchemaRejected as e:
            message = f"Invalid schema for response_format '{name}': {e}"
            return 400, _error(message, "invalid_request_error")
    messages = body.get("messages") or []
    text = "\n".join(str(m.get("content") or "") for m in messages if m.get("role") == "user")
    scripted = config.llm.structured_answer
    answer = scripted if scripted is not None else fill_from_transcript(schema, text)
    try:
        jsonschema.validate(answer, schema)
    except jsonschema.ValidationError as e:
        message = f"stand-in: the answer does not fit the requested schema ({e.message})"
        return 500, _error(message, "server_error")
    return 200, json.dumps(answer, ensure_ascii=False)


def _error(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": code, "param": None, "code": code}}
