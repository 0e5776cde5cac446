"""Tolerant parsing of a model's answer, strict checking of each claim.

Local models wrap their JSON in habits: a `<think>` block first, a code fence, prose around it, trailing
commas, `"protocol": "tcp"`, `"type": "Flow"`, numbers as strings, one claim of a type that does not exist.
None of these should cost the valid claims. `extract_json_object` finds the object through the wrapping;
`parse_answer` normalises each claim's spelling (case, numeric strings, common key aliases) and validates
claims one at a time, so each invalid claim becomes a `RejectedClaim` with a one-line reason and every valid
one is kept. Nothing here guesses content: a claim that still does not fit the schema after normalising is
rejected, never repaired by invention.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..sets.addresses import is_ip_address
from .schema import CLAIM_TYPES, Claim, ModelAnswer

#: Longest reason text a rejected claim carries (one line, bounded for every output).
MAX_REASON_CHARS = 240
#: How many `{` positions `extract_json_object` tries in prose before giving up (bounded work on big texts).
MAX_OBJECT_STARTS = 50

_THINK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)
_THINK_OPEN_ONLY = re.compile(r"^.*?</(?:think|thinking|reasoning)>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[ \t]*(?:json|JSON|javascript)?[ \t]*\n?(.*?)```", re.DOTALL)
_CLAIM_ADAPTER: TypeAdapter[Any] = TypeAdapter(Claim)

#: Keys local models use for the schema's keys (lower-cased before lookup).
_KEY_ALIASES = {"source": "from", "src": "from", "from_": "from", "destination": "to", "dst": "to",
                "target": "to", "proto": "protocol", "kind": "type", "claim_type": "type"}
_ID_FIELDS = ("from", "to", "workload", "object", "policy")


@dataclass(frozen=True)
class RejectedClaim:
    """A claim that did not fit the schema: where it was, what it said (as sent) and why, in one line."""

    index: int
    claim: Any
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "claim": self.claim, "reason": self.reason}


@dataclass(frozen=True)
class ParsedAnswer:
    """The valid part of an answer plus each claim that was rejected."""

    answer: ModelAnswer
    rejected: tuple[RejectedClaim, ...] = ()


class AnswerShapeError(ValueError):
    """The answer as a whole is unusable (no JSON object, or no claims list). The message is one line."""


def strip_thinking(text: str) -> str:
    """`text` without `<think>...</think>` blocks (and without everything before a lone `</think>`)."""
    text = _THINK.sub("", text)
    return _THINK_OPEN_ONLY.sub("", text)


def extract_json_object(text: str) -> dict[str, Any] | None:
    """The JSON object a model's text holds, or None.

    Tries, in order: the whole text, each code fence, then each balanced `{...}` in the prose; each candidate
    is read as strict JSON first and then with trailing commas and Python's True/False/None tolerated. An
    object holding `claims` wins over another object (prose may quote a small JSON example first).
    """
    text = strip_thinking(text)
    found: dict[str, Any] | None = None
    for candidate in _candidates(text):
        value = _loads(candidate)
        if isinstance(value, dict):
            if "claims" in value or "Claims" in value:
                return value
            found = found or value
    return found


def _candidates(text: str) -> list[str]:
    out = [text.strip()]
    out += [m.strip() for m in _FENCE.findall(text)]
    starts = [i for i, ch in enumerate(text) if ch == "{"][:MAX_OBJECT_STARTS]
    for start in starts:
        end = _balanced_end(text, start)
        if end is not None:
            out.append(text[start : end + 1])
    return out


def _balanced_end(text: str, start: int) -> int | None:
    """Index of the `}` closing the `{` at `start`, skipping braces inside strings; None if unclosed."""
    depth, in_string, escaped = 0, False, False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            escaped, in_string = (not escaped and ch == "\\"), in_string and (escaped or ch != '"')
            continue
        if ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
    return None


def _loads(candidate: str) -> Any:
    if not candidate.startswith("{"):
        return None
    try:
        return json.loads(candidate)
    except ValueError:
        pass
    try:
        return json.loads(_relaxed(candidate))
    except ValueError:
        return None


def _relaxed(text: str) -> str:
    """Drop trailing commas before `}`/`]` and map True/False/None to JSON, outside strings only."""
    out: list[str] = []
    i, in_string, escaped = 0, False, False
    words = {"True": "true", "False": "false", "None": "null"}
    while i < len(text):
        ch = text[i]
        if in_string:
            escaped, in_string = (not escaped and ch == "\\"), (escaped or ch != '"')
            out.append(ch)
            i += 1
            continue
        if ch == '"':
            in_string = True
        elif ch == ",":
            rest = text[i + 1 :].lstrip()
            if rest[:1] in ("}", "]"):
                i += 1
                continue
        else:
            word = next((w for w in words if text.startswith(w, i) and not text[i - 1 : i].isalnum()), None)
            if word and not text[i + len(word) : i + len(word) + 1].isalnum():
                out.append(words[word])
                i += len(word)
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def parse_answer(data: Any) -> ParsedAnswer:
    """Validate an answer claim by claim: every valid claim kept, every invalid one rejected with a reason.

    Raises:
        AnswerShapeError: `data` is not an object or its `claims` is not a list (one-line message).
    """
    if not isinstance(data, dict):
        raise AnswerShapeError(f"the answer is not a JSON object (got {_kind(data)})")
    data = {str(k).lower(): v for k, v in data.items()}
    claims = data.get("claims")
    if not isinstance(claims, list):
        got = "no 'claims' key" if claims is None else f"'claims' is {_kind(claims)}"
        raise AnswerShapeError(f"the answer needs a 'claims' list ({got})")
    summary = data.get("summary")
    kept: list[Any] = []
    rejected: list[RejectedClaim] = []
    for index, raw in enumerate(claims):
        claim, reason = parse_claim(raw)
        if reason is None:
            kept.append(claim)
        else:
            rejected.append(RejectedClaim(index, raw, f"claims[{index}]: {reason}"))
    answer = ModelAnswer.model_construct(summary=summary if isinstance(summary, str) else "", claims=kept)
    return ParsedAnswer(answer, tuple(rejected))


def parse_claim(raw: Any) -> tuple[Any, str | None]:
    """One claim, normalised and validated: (claim, None) or (None, one-line reason)."""
    if not isinstance(raw, dict):
        return None, f"a claim must be an object, got {_kind(raw)}"
    data = normalise_claim(raw)
    kind = data.get("type")
    if kind not in CLAIM_TYPES:
        expected = ", ".join(CLAIM_TYPES)
        return None, f"unknown claim type {_short(kind)} (expected one of {expected})"
    try:
        return _CLAIM_ADAPTER.validate_python(data), None
    except ValidationError as exc:
        return None, _one_line(exc)


def normalise_claim(raw: dict[str, Any]) -> dict[str, Any]:
    """Spelling only: lower-case keys and aliases, `type` as snake_case, protocol upper-case, trimmed ids.

    Numeric strings ("5432") and boolean words ("true", "no") are left to pydantic's lax mode, which reads
    them as numbers and booleans and rejects anything else.
    """
    out: dict[str, Any] = {}
    for key, value in raw.items():
        k = str(key).strip().lower()
        out.setdefault(_KEY_ALIASES.get(k, k), value)
    if isinstance(out.get("type"), str):
        out["type"] = re.sub(r"[\s-]+", "_", out["type"].strip().lower())
    if isinstance(out.get("protocol"), str):
        out["protocol"] = out["protocol"].strip().upper()
    for key in _ID_FIELDS:
        if isinstance(out.get(key), str):
            out[key] = out[key].strip()
    if out.get("type") == "dependency_broken" and isinstance(out.get("to"), str) and is_ip_address(out["to"]):
        out["to"] = f"{out['to']}/{ipaddress.ip_address(out['to']).max_prefixlen}"  # one address is a range
    if isinstance(out.get("workloads"), list):
        out["workloads"] = [w.strip() if isinstance(w, str) else w for w in out["workloads"]]
    return out


def _one_line(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"] if p not in CLAIM_TYPES)
        msg = err["msg"].removeprefix("Value error, ")
        value = f" (got {_short(err.get('input'))})" if err["type"] != "missing" and "got" not in msg else ""
        parts.append(f"{loc or 'claim'}: {msg}{value}")
    text = "; ".join(parts)
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 3] + "..."


def _short(value: Any, limit: int = 40) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean",
            type(None): "null", dict: "an object"}.get(type(value), type(value).__name__)
