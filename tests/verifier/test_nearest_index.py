"""Typo hints come from a label index (`LabelIndex`), and give exactly what comparing the selector with
every object gave: the candidate failing the fewest requirements, then the closest labels, then the name."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

import pytest

from verifier.model.bundle import LabelSelector, Requirement
from verifier.review.rules import nearest as near_mod
from verifier.review.rules.nearest import LabelIndex, Nearest, nearest
from verifier.sets.selectors import matches, unmet

KEYS = ["app", "apps", "tier", "team", "role", "x-client", "x-db-client"]
VALUES = ["web", "wbe", "webs", "api", "apl", "db", "postgres", "postgers", "payments", "paymnts", "cache", "a", "b"]


def by_scan(selector: LabelSelector, candidates: Sequence[tuple[str, Mapping[str, str]]]) -> Nearest | None:
    """The reference: every candidate compared with the selector (what the index must reproduce)."""
    best = None
    for name, labels in candidates:
        missing = tuple(unmet(selector, labels))
        if not missing:
            continue
        suggestion, closeness = near_mod._suggest(missing, labels)
        score = (len(missing), -closeness, name)
        if best is None or score < best[0]:
            best = (score, Nearest(name, labels, missing, suggestion))
    return best[1] if best else None


def random_requirement(rng: random.Random) -> Requirement:
    op = rng.choices(["In", "NotIn", "Exists", "DoesNotExist"], weights=[8, 1, 1, 1])[0]
    values = tuple(rng.sample(VALUES, rng.choice([1, 1, 1, 2]))) if op in ("In", "NotIn") else ()
    return Requirement(rng.choice(KEYS), op, values)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(40))
def test_index_answers_as_the_scan_did(seed: int) -> None:
    rng = random.Random(seed)
    pool = [(f"ns/w{rng.randrange(1000):03d}-{i}", {k: rng.choice(VALUES) for k in rng.sample(KEYS, rng.randint(0, 3))})
            for i in range(rng.randint(0, 30))]
    index = LabelIndex(pool)
    for _ in range(30):
        selector = LabelSelector(tuple(random_requirement(rng) for _ in range(rng.randint(0, 3))))
        assert nearest(selector, index) == by_scan(selector, pool), selector
        assert index.matches_any(selector) == any(matches(selector, labels) for _, labels in pool), selector
        assert index.matches_any(selector) == any(matches(selector, labels) for _, labels in pool), selector  # again


def test_a_typo_is_found_through_the_index_without_comparing_every_workload(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = [(f"shop/w{i:04d}", {"app": f"service-{i:04d}", "tier": "backend"}) for i in range(2000)]
    pool.append(("shop/payments", {"app": "payments", "tier": "backend"}))
    index = LabelIndex(pool)
    calls = []
    real_unmet = near_mod.unmet
    monkeypatch.setattr(near_mod, "unmet", lambda s, labels: calls.append(1) or real_unmet(s, labels))
    found = nearest(LabelSelector((Requirement("app", "In", ("paymnts",)),)), index)
    assert found is not None and found.name == "shop/payments" and found.suggestion == {"app": "payments"}
    assert len(calls) <= 3, "only the candidates the index names are compared"


@pytest.mark.parametrize("seed", range(20))
def test_close_values_are_those_difflib_rates_close(seed: int) -> None:
    """`_close_among` (bounds first, then difflib) keeps exactly the strings whose difflib ratio reaches the cutoff,
    in their order."""
    import difflib

    rng = random.Random(seed)
    words = [*VALUES, *KEYS, "", "service-0001", "service-0010", "paymnts-api"]
    words += ["".join(rng.choice("abcde-1") for _ in range(rng.randint(0, 9))) for _ in range(40)]
    for a in rng.sample(words, 15):
        for cutoff in (near_mod.CLOSE, near_mod.CLOSE_KEY):
            want = [b for b in words if difflib.SequenceMatcher(None, a, b).ratio() >= cutoff]
            assert near_mod._close_among(a, words, cutoff) == want, (a, cutoff)


@pytest.mark.parametrize("seed", range(10))
def test_closest_label_is_the_one_difflib_rates_close(seed: int) -> None:
    """`_closest_label` (the bounds of `_close_among` before difflib) keeps the label under the same key when
    difflib rates its value close, else the first label by key with the same value under a close key."""
    import difflib

    def ratio(a: str, b: str) -> float:
        return difflib.SequenceMatcher(None, a, b).ratio()

    rng = random.Random(seed)
    for _ in range(200):
        labels = {k: rng.choice(VALUES) for k in rng.sample(KEYS, rng.randint(0, 4))}
        key, value = rng.choice(KEYS), rng.choice(VALUES)
        if key in labels and ratio(value, labels[key]) >= near_mod.CLOSE:
            want: tuple[str | None, str | None] = (key, labels[key])
        else:
            want = next(((k, v) for k, v in sorted(labels.items())
                         if v == value and ratio(key, k) >= near_mod.CLOSE_KEY), (None, None))
        assert near_mod._closest_label(key, value, labels) == want, (key, value, labels)
