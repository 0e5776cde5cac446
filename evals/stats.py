"""Bootstrap confidence intervals and paired comparisons, over scenarios (pure, seeded).

Metrics are ratios of sums (confirmed claims / claims, summed over responses), so the
bootstrap resamples *units* (one unit = one scenario's numerator and denominator) with
replacement and recomputes the ratio; the interval is the percentile interval. A fixed
seed makes reports reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Unit = tuple[float, float]  # (numerator, denominator) of one scenario


@dataclass(frozen=True)
class Estimate:
    """A point value with its bootstrap interval (None where there is nothing to measure)."""

    value: float | None
    low: float | None = None
    high: float | None = None

    def to_json(self) -> dict[str, float | None]:
        return {"value": _round(self.value), "ci_low": _round(self.low), "ci_high": _round(self.high)}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _ratio(units: Sequence[Unit]) -> float | None:
    den = sum(d for _, d in units)
    return sum(n for n, _ in units) / den if den else None


def bootstrap_ratio(units: Sequence[Unit], *, resamples: int = 1000, confidence: float = 0.95,
                    seed: int = 0) -> Estimate:
    """Ratio of sums over `units` with a percentile bootstrap interval."""
    value = _ratio(units)
    if value is None or len(units) < 2:
        return Estimate(value, value, value)
    rng = random.Random(seed)
    stats = []
    for _ in range(resamples):
        sample = [units[rng.randrange(len(units))] for _ in units]
        r = _ratio(sample)
        if r is not None:
            stats.append(r)
    return Estimate(value, *_interval(stats, confidence))


def bootstrap_mean(values: Sequence[float], *, resamples: int = 1000, confidence: float = 0.95,
                   seed: int = 0) -> Estimate:
    """Mean of `values` with a percentile bootstrap interval."""
    return bootstrap_ratio([(v, 1.0) for v in values], resamples=resamples, confidence=confidence, seed=seed)


def _interval(stats: list[float], confidence: float) -> tuple[float | None, float | None]:
    if not stats:
        return None, None
    stats.sort()
    tail = (1 - confidence) / 2
    lo = stats[int(tail * (len(stats) - 1))]
    hi = stats[round((1 - tail) * (len(stats) - 1))]
    return lo, hi


@dataclass(frozen=True)
class PairedComparison:
    """B minus A on the scenarios both answered: mean difference, its interval, and the verdict."""

    metric: str
    a: str
    b: str
    scenarios: int
    difference: Estimate
    better: str | None  # a, b, or None when the interval includes 0
    significant: bool

    def to_json(self) -> dict[str, object]:
        return {"metric": self.metric, "a": self.a, "b": self.b, "scenarios": self.scenarios,
                "difference_b_minus_a": self.difference.to_json(), "better": self.better,
                "significant": self.significant}


def paired_comparison(metric: str, a: str, b: str, per_scenario_a: Mapping[str, Unit],
                      per_scenario_b: Mapping[str, Unit], *, resamples: int = 1000, seed: int = 0) -> PairedComparison:
    """Compare two systems scenario by scenario: bootstrap the mean per-scenario difference (b - a).

    Only scenarios where both have a defined value count. The difference is significant
    when its 95% interval excludes 0.
    """
    diffs = []
    for sid in sorted(set(per_scenario_a) & set(per_scenario_b)):
        (na, da), (nb, db) = per_scenario_a[sid], per_scenario_b[sid]
        if da and db:
            diffs.append(nb / db - na / da)
    est = bootstrap_mean(diffs, resamples=resamples, seed=seed)
    significant = bool(diffs) and est.low is not None and est.high is not None and (est.low > 0 or est.high < 0)
    better = (b if (est.value or 0) > 0 else a) if significant else None
    return PairedComparison(metric, a, b, len(diffs), est, better, significant)
