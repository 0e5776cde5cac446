"""Scores from checked claims: pure arithmetic over the verifier's verdicts, no I/O.

Inputs are what `grading.py` extracts from a `verifier.claims.check.ClaimReport`: each claim's type,
key and verdict, and per claim type in the question's scope the truth items a complete answer
covers and the ones the answer never mentioned. Everything here is a count or a ratio of sums;
`stats.py` adds the confidence intervals.

Definitions (per response, summed over responses before dividing):
- precision(type) = confirmed claims / claims of that type; unverifiable claims count against.
- recall(type)    = truth items covered by a confirmed claim / truth items (scope types only).
- flow-verdict accuracy = confirmed / (confirmed + contradicted) flow claims: verdicts on real flows.
- hallucination rate = unverifiable claims / claims: claims naming a workload, Service, port,
  policy or dependency that does not exist.
- schema failure: no answer fitting the schema after the repair round (then no claims, and every
  truth item counts as missed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Verdict = Literal["confirmed", "contradicted", "unverifiable"]
Key = tuple[str, ...]


@dataclass(frozen=True)
class ClaimOutcome:
    """One checked claim: its type, identity (`flow`: from, to, port, protocol) and verdict."""

    type: str
    key: Key
    verdict: Verdict


@dataclass(frozen=True)
class TruthItems:
    """Per claim type in scope: the items a complete answer covers, and those no claim mentioned."""

    items: Mapping[str, frozenset[Key]]
    missed: Mapping[str, frozenset[Key]] = field(default_factory=dict)


@dataclass(frozen=True)
class TypeCounts:
    """Counts for one claim type in one response (or summed over many)."""

    claims: int = 0
    confirmed: int = 0
    contradicted: int = 0
    unverifiable: int = 0
    truth_items: int = 0
    covered: int = 0

    def __add__(self, other: TypeCounts) -> TypeCounts:
        return TypeCounts(self.claims + other.claims, self.confirmed + other.confirmed,
                          self.contradicted + other.contradicted, self.unverifiable + other.unverifiable,
                          self.truth_items + other.truth_items, self.covered + other.covered)


@dataclass(frozen=True)
class ResponseScore:
    """The score of one stored response; `by_type` maps claim type -> counts."""

    by_type: Mapping[str, TypeCounts]
    schema_failure: bool = False
    error: bool = False

    def total(self) -> TypeCounts:
        """Counts summed over every claim type."""
        out = TypeCounts()
        for counts in self.by_type.values():
            out = out + counts
        return out


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when the denominator is 0 (nothing to measure)."""
    return numerator / denominator if denominator else None


def score_response(outcomes: Sequence[ClaimOutcome], truth: TruthItems, *, schema_failure: bool = False,
                   error: bool = False) -> ResponseScore:
    """Count claims per type and the truth items they cover.

    An in-scope truth item is covered when no one missed it and some claim with its key was
    confirmed (dependency and DNS claims that match a truth item are confirmed by construction;
    a flow claim with the wrong verdict is not).
    """
    types = sorted({o.type for o in outcomes} | set(truth.items))
    by_type = {t: _type_counts(t, [o for o in outcomes if o.type == t], truth) for t in types}
    return ResponseScore(by_type, schema_failure, error)


def _type_counts(claim_type: str, outcomes: Sequence[ClaimOutcome], truth: TruthItems) -> TypeCounts:
    verdicts = [o.verdict for o in outcomes]
    items = truth.items.get(claim_type, frozenset())
    missed = truth.missed.get(claim_type, frozenset())
    confirmed_keys = {o.key for o in outcomes if o.verdict == "confirmed"}
    wrong = {o.key for o in outcomes if o.verdict == "contradicted"} - confirmed_keys
    covered = len((items - missed) - wrong)
    return TypeCounts(len(outcomes), verdicts.count("confirmed"), verdicts.count("contradicted"),
                      verdicts.count("unverifiable"), len(items), covered)


def sum_counts(scores: Iterable[ResponseScore], claim_type: str | None = None) -> TypeCounts:
    """Counts summed over responses, for one claim type or (None) all of them."""
    out = TypeCounts()
    for s in scores:
        out = out + (s.total() if claim_type is None else s.by_type.get(claim_type, TypeCounts()))
    return out


def precision(counts: TypeCounts) -> float | None:
    return ratio(counts.confirmed, counts.claims)


def recall(counts: TypeCounts) -> float | None:
    return ratio(counts.covered, counts.truth_items)


def hallucination_rate(counts: TypeCounts) -> float | None:
    return ratio(counts.unverifiable, counts.claims)


def verdict_accuracy(counts: TypeCounts) -> float | None:
    return ratio(counts.confirmed, counts.confirmed + counts.contradicted)


def failure_rate(scores: Sequence[ResponseScore]) -> float | None:
    """Share of answered responses (no transport error) that failed the schema."""
    answered = [s for s in scores if not s.error]
    return ratio(sum(1 for s in answered if s.schema_failure), len(answered))


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def cost_usd(input_tokens: int, output_tokens: int, price: Mapping[str, float] | None) -> float | None:
    """Cost from a price entry (`input`, `output`: USD per million tokens); None without a price."""
    if price is None:
        return None
    return (input_tokens * price.get("input", 0.0) + output_tokens * price.get("output", 0.0)) / 1_000_000
