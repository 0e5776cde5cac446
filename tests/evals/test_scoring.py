"""Pure scoring and statistics: counts, ratios, intervals, paired comparisons."""

from __future__ import annotations

import pytest

from evals.scoring import (
    ClaimOutcome,
    TruthItems,
    cost_usd,
    hallucination_rate,
    percentile,
    precision,
    recall,
    score_response,
    verdict_accuracy,
)
from evals.stats import bootstrap_ratio, paired_comparison

A, B, C = ("x/a", "x/b", "80", "TCP"), ("x/a", "x/c", "80", "TCP"), ("x/b", "x/c", "80", "TCP")


def test_wrong_verdicts_and_missed_items_lower_recall_and_unverifiable_claims_are_hallucinations():
    truth = TruthItems({"flow": frozenset({A, B, C})}, {"flow": frozenset({C})})
    outcomes = [ClaimOutcome("flow", A, "confirmed"), ClaimOutcome("flow", B, "contradicted"),
                ClaimOutcome("flow", ("x/ghost", "x/a", "80", "TCP"), "unverifiable")]
    counts = score_response(outcomes, truth).by_type["flow"]
    assert (counts.claims, counts.confirmed, counts.contradicted, counts.unverifiable) == (3, 1, 1, 1)
    assert (counts.truth_items, counts.covered) == (3, 1)
    assert precision(counts) == 1 / 3 and recall(counts) == 1 / 3
    assert hallucination_rate(counts) == 1 / 3 and verdict_accuracy(counts) == 1 / 2


def test_a_schema_failure_has_no_claims_and_misses_every_item():
    truth = TruthItems({"dns_egress_missing": frozenset({("x/a",)})}, {"dns_egress_missing": frozenset({("x/a",)})})
    score = score_response([], truth, schema_failure=True)
    assert score.schema_failure and recall(score.total()) == 0.0 and precision(score.total()) is None


def test_percentile_interpolates_and_cost_uses_per_million_prices():
    assert percentile([10, 20, 30, 40], 50) == 25
    assert percentile([5.0], 95) == 5.0 and percentile([], 50) is None
    assert cost_usd(1_000_000, 500_000, {"input": 0.4, "output": 1.6}) == pytest.approx(1.2)
    assert cost_usd(10, 10, None) is None


def test_bootstrap_is_seeded_and_brackets_the_ratio():
    units = [(1.0, 2.0), (2.0, 2.0), (0.0, 1.0), (3.0, 4.0), (1.0, 1.0)]
    first, again = bootstrap_ratio(units, seed=3), bootstrap_ratio(units, seed=3)
    assert first == again
    assert first.low <= first.value <= first.high
    assert first.value == pytest.approx(7 / 10)


def test_paired_comparison_finds_a_consistent_difference_significant_and_noise_not():
    a = {f"s{i}": (5.0, 10.0) for i in range(30)}
    better = {f"s{i}": (9.0, 10.0) for i in range(30)}
    noisy = {f"s{i}": (5.0 + (1 if i % 2 else -1), 10.0) for i in range(30)}
    win = paired_comparison("claim_recall", "a", "b", a, better)
    assert win.significant and win.better == "b" and win.difference.value == pytest.approx(0.4)
    tie = paired_comparison("claim_recall", "a", "c", a, noisy)
    assert not tie.significant and tie.better is None
