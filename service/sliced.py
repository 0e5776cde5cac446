"""Asking a model slice by slice: bounded concurrency, a cost ceiling, merged claims, one report per slice.

Every slice is asked the same prompt about its part of the cluster (`slices.plan_slices`); the answers'
claims are merged and checked against the whole cluster's truth by the caller, so a claim about a workload
outside a slice's brief is still judged. Nothing is refused for size: a slice over budget (one workload whose
neighbourhood alone is too big) is asked anyway and marked `over_budget`. `max_cost_usd` stops before a slice
whose estimated cost would take the run past the ceiling; the slices not asked are listed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from verifier.claims.answers import RejectedClaim
from verifier.claims.schema import ModelAnswer

from .budgets import Budget
from .providers.answers import complete_answer
from .providers.base import Provider
from .providers.errors import ProviderError
from .slices import Slice

#: Slices asked at once unless told otherwise (rate limits of hosted APIs; a local server serialises anyway).
DEFAULT_CONCURRENCY = 4

Progress = Callable[[int, int, "SliceOutcome"], None]


@dataclass
class SliceOutcome:
    """What one slice cost and produced."""

    slice: Slice
    claims: int = 0
    rejected: int = 0
    usage: dict[str, int] = field(default_factory=lambda: {"input_tokens": 0, "output_tokens": 0})
    latency_ms: float = 0.0
    cost_usd: float | None = None
    error: str | None = None
    error_kind: str | None = None
    skipped: str | None = None
    simulated: bool = False

    def to_json(self, budget: Budget) -> dict[str, Any]:
        return {**self.slice.to_json(budget), "claims": self.claims, "unparseable": self.rejected,
                "usage": dict(self.usage), "latency_ms": round(self.latency_ms, 1), "cost_usd": self.cost_usd,
                "error": self.error, "error_kind": self.error_kind, "skipped": self.skipped}


@dataclass
class SlicedAnswer:
    answer: ModelAnswer | None
    rejected: tuple[RejectedClaim, ...]
    outcomes: list[SliceOutcome]
    simulated: bool
    repaired: bool
    attempts: int

    @property
    def usage(self) -> dict[str, int]:
        return {k: sum(o.usage.get(k, 0) for o in self.outcomes) for k in ("input_tokens", "output_tokens")}

    @property
    def latency_ms(self) -> float:
        return max((o.latency_ms for o in self.outcomes), default=0.0)

    @property
    def error_kind(self) -> str | None:
        failed = [o for o in self.outcomes if o.error or o.skipped]
        if not failed:
            return None
        return failed[0].error_kind or "MaxCostReached" if len(self.outcomes) == 1 else "SlicesFailed"

    @property
    def error(self) -> str | None:
        failed = [o for o in self.outcomes if o.error or o.skipped]
        if not failed:
            return None
        first = failed[0]
        reason = first.error or first.skipped
        if len(failed) == len(self.outcomes):
            return reason if len(self.outcomes) == 1 else (f"no slice was answered ({len(failed)} slices); first: "
                                                           f"{reason}")
        return (f"{len(failed)} of {len(self.outcomes)} slices gave no answer; first (slice {first.slice.index}): "
                f"{reason}")


def slice_cost(prices: Mapping[str, float] | None, input_tokens: int, output_tokens: int) -> float | None:
    if not prices:
        return None
    return round((input_tokens * prices["input"] + output_tokens * prices["output"]) / 1_000_000, 6)


async def ask_slices(provider: Provider, slices: list[Slice], build: Callable[[Slice], Any], *,
                     prices: Mapping[str, float] | None, concurrency: int = DEFAULT_CONCURRENCY,
                     max_cost_usd: float | None = None, on_progress: Progress | None = None) -> SlicedAnswer:
    """Ask every slice (at most `concurrency` at once), keep going past failures, merge what came back."""
    semaphore = asyncio.Semaphore(max(1, concurrency))
    ledger = {"committed": 0.0}
    outcomes = [SliceOutcome(s) for s in slices]
    results: dict[int, Any] = {}
    done = 0

    async def one(outcome: SliceOutcome) -> None:
        nonlocal done
        async with semaphore:
            estimate = slice_cost(prices, outcome.slice.prompt_tokens, outcome.slice.output_tokens)
            if max_cost_usd is not None and estimate is not None and ledger["committed"] + estimate > max_cost_usd:
                outcome.skipped = (f"not asked: its estimated ${estimate:.4f} would pass --max-cost "
                                   f"${max_cost_usd:.2f} (${ledger['committed']:.4f} committed)")
            else:
                ledger["committed"] += estimate or 0.0
                results[outcome.slice.index] = await _ask_one(provider, outcome, build, prices)
                if estimate is not None and outcome.cost_usd is not None:
                    ledger["committed"] += outcome.cost_usd - estimate
        done += 1
        if on_progress:
            on_progress(done, len(outcomes), outcome)

    await asyncio.gather(*(one(o) for o in outcomes))
    return _merge(outcomes, results)


async def _ask_one(provider: Provider, outcome: SliceOutcome, build: Callable[[Slice], Any],
                   prices: Mapping[str, float] | None) -> Any:
    s = outcome.slice
    assert s.prepared is not None
    try:
        result = await complete_answer(provider, build(s), s.prepared.deanonymize)
    except ProviderError as e:
        outcome.error, outcome.error_kind = str(e), type(e).__name__
        return None
    outcome.usage = {"input_tokens": result.usage.input_tokens, "output_tokens": result.usage.output_tokens}
    outcome.latency_ms = sum(r.latency_ms for r in result.replies)
    outcome.simulated = result.reply.simulated
    outcome.cost_usd = None if outcome.simulated else slice_cost(prices, **outcome.usage)
    if result.error is not None or result.parsed is None:
        outcome.error, outcome.error_kind = str(result.error), "ProviderOutputInvalid"
        return None
    outcome.claims = len(result.parsed.answer.claims)
    outcome.rejected = len(result.parsed.rejected)
    return result


def _merge(outcomes: list[SliceOutcome], results: dict[int, Any]) -> SlicedAnswer:
    claims: dict[str, Any] = {}
    rejected: list[RejectedClaim] = []
    summaries = []
    repaired = False
    attempts = 0
    for o in outcomes:
        result = results.get(o.slice.index)
        if result is None:
            continue
        parsed = result.parsed
        repaired |= result.repaired
        attempts += sum(r.attempts for r in result.replies)
        for c in parsed.answer.claims:  # the same claim from two slices is one claim
            claims.setdefault(json.dumps(c.model_dump(mode="json", by_alias=True), sort_keys=True), c)
        prefix = f"slice {o.slice.index}: " if len(outcomes) > 1 else ""
        rejected += [RejectedClaim(r.index, r.claim, prefix + r.reason) for r in parsed.rejected]
        if parsed.answer.summary:
            summaries.append(parsed.answer.summary if len(outcomes) == 1
                             else f"[slice {o.slice.index}] {parsed.answer.summary}")
    answered = bool(results) and any(r is not None for r in results.values())
    answer = ModelAnswer.model_construct(summary=_bounded(" ".join(summaries)),
                                         claims=list(claims.values())) if answered else None
    simulated = any(o.simulated for o in outcomes)
    return SlicedAnswer(answer, tuple(rejected), outcomes, simulated, repaired, attempts)


def _bounded(text: str, limit: int = 4_000) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
