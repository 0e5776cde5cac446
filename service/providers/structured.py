"""Turning a model's text into validated data: JSON extraction and one repair round.

`complete_json` is generic: the caller supplies `validate` (a pydantic model's `model_validate`, say) and
`repair`, which builds the follow-up request (the prompt library's `repair@1` prompt plugs in here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from verifier.claims.answers import extract_json_object
from verifier.model.errors import NetreasonError

from .base import Message, Provider, ProviderReply, ProviderRequest, ReplyTrail
from .errors import ProviderOutputInvalid

T = TypeVar("T")

#: Builds the repair request from (original request, the invalid answer text, what was wrong with it).
Repair = Callable[[ProviderRequest, str, str], ProviderRequest]

#: Exceptions from `validate` that mean "the answer is wrong", not "the code is broken".
INVALID_ANSWER_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError, LookupError, NetreasonError)

def parse_json_object(text: str) -> dict[str, Any] | None:
    """Return `text` parsed as a JSON object, or None.

    Accepts a bare object, one inside a Markdown code fence, one surrounded by prose (local models often
    add "Here is the JSON:"), after a `<think>` block, or with trailing commas (`verifier.claims.answers`).
    Anything that is not an object (a list, a number) is None.
    """
    return extract_json_object(text)


def append_repair_turn(request: ProviderRequest, bad_text: str, problem: str) -> ProviderRequest:
    """Default repair: replay the bad answer as the assistant turn and ask for a corrected JSON object."""
    ask = (
        "Your previous answer could not be used: "
        f"{problem}\nReply again with only one JSON object that matches the requested schema."
    )
    return request.followed_by(Message("assistant", bad_text), Message("user", ask))


@dataclass(frozen=True)
class JsonResult(ReplyTrail, Generic[T]):
    """Outcome of `complete_json`: the validated value or the error, and every reply that led there."""

    value: T | None
    replies: tuple[ProviderReply, ...]
    error: ProviderOutputInvalid | None = None

    @property
    def repaired(self) -> bool:
        """True when the first answer was invalid and the repair round produced a valid one."""
        return self.error is None and len(self.replies) > 1

    def unwrap(self) -> T:
        """Return the value.

        Raises:
            ProviderOutputInvalid: when no valid answer was obtained.
        """
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]  # set whenever error is None (complete_json)


async def complete_json(
    provider: Provider,
    request: ProviderRequest,
    validate: Callable[[dict[str, Any]], T],
    repair: Repair | None = append_repair_turn,
) -> JsonResult[T]:
    """Ask `provider`, parse and `validate` the reply; on failure run ONE repair round built by `repair`.

    `validate` raises ValueError/TypeError/LookupError/NetreasonError (pydantic's ValidationError is a
    ValueError) to reject an answer. Pass `repair=None` to skip the repair round. Invalid output is returned
    in `JsonResult.error` rather than raised, so callers keep the replies for logging; `unwrap()` raises it.

    Raises:
        ProviderError: transport failures (timeout, rate limit, auth, ...) from `provider.complete`.
    """
    first = await provider.complete(request)
    value, problem = _validated(first, validate)
    if problem is None:
        return JsonResult(value, (first,))
    if repair is None:
        return JsonResult(None, (first,), _invalid(first, problem, rounds=1))
    second = await provider.complete(repair(request, first.text, problem))
    value, problem_after = _validated(second, validate)
    if problem_after is None:
        return JsonResult(value, (first, second))
    return JsonResult(None, (first, second), _invalid(second, problem_after, rounds=2))


def _validated(reply: ProviderReply, validate: Callable[[dict[str, Any]], T]) -> tuple[T | None, str | None]:
    if reply.data is None:
        return None, f"the reply is not a JSON object: {_excerpt(reply.text)}"
    try:
        return validate(reply.data), None
    except INVALID_ANSWER_ERRORS as exc:
        return None, f"the JSON does not match the schema: {exc}"


def _invalid(reply: ProviderReply, problem: str, rounds: int) -> ProviderOutputInvalid:
    after = "after one repair round" if rounds > 1 else "(no repair round)"
    return ProviderOutputInvalid(f"{problem} {after}", text=reply.text, provider=reply.provider)


def _excerpt(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[:limit] + "...")
