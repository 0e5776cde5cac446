"""Asking for a `ModelAnswer`: tolerant parsing, and a repair round about only the claims that failed.

`complete_answer` keeps every valid claim of the first reply. When some claims do not fit the schema, the one
repair round quotes just those claims with their one-line reasons and asks for them corrected; the valid
claims of the repair are added, and whatever is still invalid is reported as rejected (`unparseable`). When
the reply holds no usable answer at all, the repair round asks for the whole answer again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from verifier.claims.answers import (
    AnswerShapeError, ParsedAnswer, RejectedClaim, normalise_claim, parse_answer, strip_thinking,
)
from verifier.claims.schema import ModelAnswer

from .base import Message, Provider, ProviderReply, ProviderRequest, ReplyTrail
from .errors import ProviderOutputInvalid

#: Maps an answer's names back (pseudonyms -> real); identity when not anonymized.
Deanonymize = Callable[[Any], Any]
#: How many rejected claims the repair round quotes (the rest stay rejected; the prompt stays bounded).
MAX_REPAIR_CLAIMS = 50


@dataclass(frozen=True)
class AnswerResult(ReplyTrail):
    """The merged answer (None when nothing usable came back), rejected claims, and every reply."""

    parsed: ParsedAnswer | None
    replies: tuple[ProviderReply, ...]
    error: ProviderOutputInvalid | None = None

    @property
    def repaired(self) -> bool:
        return len(self.replies) > 1 and self.parsed is not None

    def merged_text(self) -> str:
        """The answer as one JSON text: the reply verbatim, or after a repair the merged claims."""
        if len(self.replies) == 1 or self.parsed is None:
            return self.reply.text
        doc = self.parsed.answer.to_json_dict()
        doc["claims"] += [r.claim for r in self.parsed.rejected]
        return json.dumps(doc)


async def complete_answer(provider: Provider, request: ProviderRequest,
                          deanonymize: Deanonymize = lambda data: data) -> AnswerResult:
    """Ask once, keep what is valid, repair once what is not (see the module docstring).

    Raises:
        ProviderError: transport failures from `provider.complete`.
    """
    first = await provider.complete(request)
    raw, problem = _parse(first, lambda d: d)
    if raw is not None and not raw.rejected:
        return AnswerResult(_parse(first, deanonymize)[0], (first,))
    ask = _claims_repair(raw) if raw is not None else _whole_repair(problem or "")
    second = await provider.complete(request.followed_by(Message("assistant", strip_thinking(first.text)),
                                                         Message("user", ask)))
    if raw is None:
        parsed, problem_after = _parse(second, deanonymize)
        if parsed is None:
            return AnswerResult(None, (first, second), _invalid(second, problem_after or "", rounds=2))
        return AnswerResult(parsed, (first, second))
    kept = _parse(first, deanonymize)[0]
    assert kept is not None  # the same data parsed above
    fixed, _ = _parse(second, deanonymize)
    return AnswerResult(_merge(kept, fixed), (first, second))


def _parse(reply: ProviderReply, deanonymize: Deanonymize) -> tuple[ParsedAnswer | None, str | None]:
    if reply.data is None:
        return None, f"the reply holds no JSON object: {_excerpt(reply.text)}"
    try:
        return parse_answer(deanonymize(reply.data)), None
    except AnswerShapeError as exc:
        return None, str(exc)


def _merge(kept: ParsedAnswer, fixed: ParsedAnswer | None) -> ParsedAnswer:
    """Valid claims of the first reply plus the repaired ones.

    A rejected claim the repair did not answer (no repaired claim names the same objects) stays rejected
    with its first reason; a repaired claim that is still invalid is rejected "after repair".
    """
    if fixed is None:
        return kept
    claims = [*kept.answer.claims, *fixed.answer.claims]
    answer = ModelAnswer.model_construct(summary=kept.answer.summary or fixed.answer.summary, claims=claims)
    answered = {_identity(c.model_dump(mode="json", by_alias=True)) for c in fixed.answer.claims}
    answered |= {_identity(r.claim) for r in fixed.rejected}
    left = tuple(r for r in kept.rejected if _identity(r.claim) not in answered)
    base = len(kept.answer.claims) + len(kept.rejected)
    again = tuple(RejectedClaim(base + r.index, r.claim, f"after repair: {r.reason}") for r in fixed.rejected)
    return ParsedAnswer(answer, left + again)


def _identity(claim: Any) -> tuple[str, ...]:
    """The objects a claim is about (whatever its type or port), to pair a repaired claim with the original."""
    if not isinstance(claim, dict):
        return (json.dumps(claim, default=str),)
    data = normalise_claim(claim)
    return tuple(str(data.get(k, "")).lower() for k in ("from", "to", "workload", "object", "policy"))


def _claims_repair(parsed: ParsedAnswer) -> str:
    shown = parsed.rejected[:MAX_REPAIR_CLAIMS]
    lines = [f"- {json.dumps(r.claim, default=str)[:400]}\n  problem: {r.reason}" for r in shown]
    return (
        f"{len(parsed.answer.claims)} of your claims are valid and kept. These {len(shown)} could not be used:\n"
        + "\n".join(lines)
        + "\nReply with only one JSON object {\"summary\": \"\", \"claims\": [...]} holding ONLY these claims, "
        "corrected to the schema (claim types: flow, dependency_broken, dns_egress_missing, finding, "
        "policy_selects). Leave out a claim you cannot correct; do not repeat the valid ones."
    )


def _whole_repair(problem: str) -> str:
    return (f"Your previous answer could not be used: {problem}\n"
            "Reply again with only one JSON object that matches the requested schema.")


def _invalid(reply: ProviderReply, problem: str, rounds: int) -> ProviderOutputInvalid:
    after = "after one repair round" if rounds > 1 else "(no repair round)"
    return ProviderOutputInvalid(f"{problem} {after}", text=reply.text, provider=reply.provider)


def _excerpt(text: str, limit: int = 120) -> str:
    flat = " ".join(strip_thinking(text).split())
    return repr(flat if len(flat) <= limit else flat[:limit] + "...")
