"""The one seam every model provider plugs into: `Provider.complete(ProviderRequest) -> ProviderReply`.

Like inspect's `ModelAPI.generate` and llm's `Model.execute`, a provider does one thing: send one request and
return one reply. Retries, timing and SDK error mapping live inside each provider; JSON repair lives in
`structured.complete_json`. No SDK type crosses this boundary.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Message:
    """One turn of the conversation. The system text travels separately in `ProviderRequest.system`."""

    role: Role
    content: str


@dataclass(frozen=True)
class ProviderRequest:
    """What to ask the model. `json_schema` is the answer's JSON Schema (an object schema) or None for free text.

    `strict_schema` asks providers that support it (OpenAI structured outputs) to enforce the schema exactly;
    that requires every property to be listed in `required` and `additionalProperties: false`.
    `temperature=None` leaves the provider's default (some models accept no other value).
    """

    system: str
    messages: Sequence[Message]
    json_schema: Mapping[str, Any] | None = None
    schema_name: str = "answer"
    strict_schema: bool = True
    max_tokens: int = 2048
    temperature: float | None = 0.0
    timeout_s: float = 60.0

    def __post_init__(self) -> None:
        # Accept a list for convenience but store a tuple so the request stays immutable.
        object.__setattr__(self, "messages", tuple(self.messages))
        if not self.messages:
            raise ValueError("ProviderRequest.messages must hold at least one message")

    def replace(self, **changes: Any) -> ProviderRequest:
        """Return a copy with `changes` applied (a thin wrapper over `dataclasses.replace`)."""
        return dataclasses.replace(self, **changes)

    def followed_by(self, *messages: Message) -> ProviderRequest:
        """Return a copy with `messages` appended to the conversation."""
        return self.replace(messages=(*self.messages, *messages))


def system_with_schema(request: ProviderRequest) -> str:
    """The system text plus the answer schema spelled out, for backends that cannot enforce a schema natively."""
    if request.json_schema is None:
        return request.system
    schema = json.dumps(request.json_schema, indent=1, sort_keys=True)
    return (
        f"{request.system}\n\nReply with only one JSON object, no prose and no code fence. "
        f"It must match this JSON Schema:\n{schema}"
    )


def tool_name(request: ProviderRequest) -> str:
    """`schema_name` reduced to what tool and response-format names allow: `^[a-zA-Z0-9_-]{1,64}$`."""
    cleaned = re.sub(r"[^a-zA-Z0-9_-]", "_", request.schema_name)[:64]
    return cleaned or "answer"


@dataclass(frozen=True)
class Usage:
    """Token counts as reported by the provider (0 when it reports none)."""

    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens)


@dataclass(frozen=True)
class ProviderReply:
    """One model answer.

    `text` is the raw answer text (for tool-use answers, the tool input serialised as JSON); `data` is that
    text parsed as a JSON object, or None when it is not one. `latency_ms` is wall time for the whole call,
    including retries and backoff waits; `attempts` counts the HTTP requests sent for it.
    `simulated` is True for scripted and simulated providers, so no log or report mistakes them for a model.
    """

    text: str
    data: dict[str, Any] | None
    model: str
    provider: str
    usage: Usage = field(default_factory=Usage)
    latency_ms: float = 0.0
    simulated: bool = False
    attempts: int = 1


@runtime_checkable
class Provider(Protocol):
    """A model behind one async method. Implementations raise only `ProviderError` subclasses."""

    async def complete(self, request: ProviderRequest) -> ProviderReply:
        """Send `request` once (retrying transient failures internally) and return the reply.

        Raises:
            ProviderError: a subclass naming the failure (timeout, rate limit, auth, config, ...).
        """
        ...


class ReplyTrail:
    """What every result of a model call built from several replies (a repair round) shares: the last reply and
    the tokens of all of them. Mixed into `structured.JsonResult` and `answers.AnswerResult`, which hold `replies`."""

    replies: tuple[ProviderReply, ...]

    @property
    def reply(self) -> ProviderReply:
        """The last reply (the repaired one when a repair round ran)."""
        return self.replies[-1]

    @property
    def usage(self) -> Usage:
        """Tokens summed over every reply, repair round included."""
        total = Usage()
        for reply in self.replies:
            total = total + reply.usage
        return total
