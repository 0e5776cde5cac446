"""Typo detection: the labels that exist nearest to a selector that matches nothing."""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from ...model.bundle import LabelSelector, Requirement
from ...sets.selectors import unmet

#: difflib ratio above which a label value counts as a probable typo of another.
CLOSE = 0.6
#: Keys must be closer (`app`/`apps`): related keys such as `x-client`/`x-db-client` are common.
CLOSE_KEY = 0.85


@dataclass(frozen=True, slots=True)
class Nearest:
    """The closest label set found, and the labels that would make the selector match it."""

    name: str  # the object carrying the labels (workload id or namespace name)
    labels: Mapping[str, str]
    unmet: tuple[Requirement, ...]
    suggestion: dict[str, str]  # replacement key=value for each unmet requirement; {} if none is close


class LabelIndex:
    """The label sets of a pool of objects, indexed for typo hints: built once, asked many times.

    `nearest` answers from the index instead of comparing the selector with every object: the
    objects that satisfy each requirement come from the (key, value) index, the probable typos
    from the distinct values under a key (and the keys carrying a value), never from a scan of
    the pool.
    """

    def __init__(self, candidates: Sequence[tuple[str, Mapping[str, str]]]) -> None:
        self.candidates = list(candidates)
        self.by_pair: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.values: dict[str, set[str]] = defaultdict(set)  # key -> distinct values under it
        self.keys: dict[str, set[str]] = defaultdict(set)  # value -> keys carrying it
        for i, (_, labels) in enumerate(self.candidates):
            for key, value in labels.items():
                self.by_pair[(key, value)].append(i)
                self.values[key].add(value)
                self.keys[value].add(key)
        self.order = sorted(range(len(self.candidates)), key=lambda i: self.candidates[i][0])  # by name
        # `nearest` per selector: policies repeat selectors, and the fix round asks again for the same ones.
        self.nearest_found: dict[LabelSelector, Nearest | None] = {}
        # `matches_any` per selector: a namespace's policies ask for the same few selectors (6 times each on the
        # 5,413-pod benchmark).
        self._any: dict[LabelSelector, bool] = {}

    def satisfying(self, req: Requirement) -> set[int]:
        """The candidates that meet one requirement."""
        pairs = self.values.get(req.key, set())
        if req.operator in ("In", "NotIn"):
            hits = {i for v in req.values for i in self.by_pair.get((req.key, v), ())}
        else:  # Exists, DoesNotExist
            hits = {i for v in pairs for i in self.by_pair[(req.key, v)]}
        return hits if req.operator in ("In", "Exists") else set(range(len(self.candidates))) - hits

    def matches_any(self, selector: LabelSelector) -> bool:
        """Whether some candidate has every label the selector requires (from the index, not a scan)."""
        found = self._any.get(selector)
        if found is None:
            found = self._any[selector] = self._matches_any(selector)
        return found

    def _matches_any(self, selector: LabelSelector) -> bool:
        hits: set[int] | None = None
        for req in selector.requirements:
            met = self.satisfying(req)
            hits = met if hits is None else hits & met
            if not hits:
                return False
        return bool(self.candidates)

    def close_to(self, req: Requirement) -> set[int]:
        """Candidates with a probable typo of `key=value`: a close value under the key, or the value under a close
        key."""
        if req.operator != "In" or len(req.values) != 1:
            return set()
        key, value = req.key, req.values[0]
        values, keys = self.values.get(key), self.keys.get(value)  # most typos' value is under no other key
        out = {i for v in _close_among(value, values, CLOSE) for i in self.by_pair[(key, v)]} if values else set()
        if keys:
            out |= {i for k in _close_among(key, keys, CLOSE_KEY) for i in self.by_pair[(k, value)]}
        return out


def _close_among(a: str, others: Iterable[str], cutoff: float) -> list[str]:
    """The strings of `others` whose `_ratio` with `a` reaches `cutoff`, ruling most out first by bounds that cost
    no alignment.

    As difflib.get_close_matches does: the ratio is at most 2*min(len)/(sum of lengths), and at most
    2*(characters in common, with multiplicity)/(sum of lengths). `a`'s characters are counted once: a stale
    selector's value is compared with every value in use under its key, and Counter's `&` per pair was the
    largest cost of policy-selects-nothing on a 100,000-pod cluster.
    """
    mine = _chars(a)
    out = []
    for b in others:
        total = len(a) + len(b)
        if not total or 2 * min(len(a), len(b)) < cutoff * total:
            if not total and cutoff <= 1.0:
                out.append(b)
            continue
        common = 0
        for ch, n in _chars(b).items():
            m = mine.get(ch)
            if m:
                common += n if n < m else m
        if 2 * common >= cutoff * total and _ratio(a, b) >= cutoff:
            out.append(b)
    return out


@lru_cache(maxsize=1 << 16)
def _chars(text: str) -> dict[str, int]:
    return dict(Counter(text))


def nearest(selector: LabelSelector,
            candidates: Sequence[tuple[str, Mapping[str, str]]] | LabelIndex) -> Nearest | None:
    """The candidate that fails the fewest requirements, ties broken by how close its labels are, then name.

    A suggestion is made only when every unmet requirement is `key=value` and the candidate has
    a close value under the same key, or the same value under a close key.
    """
    if isinstance(candidates, LabelIndex):
        if selector not in candidates.nearest_found:
            candidates.nearest_found[selector] = _nearest(selector, candidates)
        return candidates.nearest_found[selector]
    return _nearest(selector, LabelIndex(candidates))


def _nearest(selector: LabelSelector, index: LabelIndex) -> Nearest | None:
    reqs = selector.requirements
    if len(reqs) == 1:  # most selectors: a candidate meets the requirement (and everything) or fails everything
        return _failing_every_requirement(selector, index, index.satisfying(reqs[0]))
    met: Counter[int] = Counter()
    for req in reqs:
        met.update(index.satisfying(req))
    most = max((n for n in met.values() if n < len(reqs)), default=0)
    if most:  # the best fail fewer than all requirements: only they (found through the index) compete
        return _best(selector, index, [i for i, n in met.items() if n == most])
    return _failing_every_requirement(selector, index, met)


def _failing_every_requirement(selector: LabelSelector, index: LabelIndex, met: Container[int]) -> Nearest | None:
    """The nearest when no candidate fails fewer than all requirements (`met`: those meeting some).

    Closeness then comes only from a typo of the first requirement, else the first candidate by name that meets
    nothing (skipping the few that meet everything).
    """
    reqs = selector.requirements
    group = [i for i in index.close_to(reqs[0]) if i not in met] if reqs else []
    first = next((i for i in index.order if i not in met), None) if met else next(iter(index.order), None)
    if first is not None:
        group.append(first)
    return _best(selector, index, group, reqs)  # none of them meets a requirement: each fails them all


def _best(selector: LabelSelector, index: LabelIndex, group: list[int],
          missing: tuple[Requirement, ...] | None = None) -> Nearest | None:
    """The nearest of the candidates `group`; `missing`, if given, the requirements each of them fails (else read
    from its labels)."""
    best: tuple[tuple[int, float, str], Nearest] | None = None
    for i in group:
        name, labels = index.candidates[i]
        unmet_here = missing if missing is not None else tuple(unmet(selector, labels))
        if not unmet_here:
            continue
        suggestion, closeness = _suggest(unmet_here, labels)
        score = (len(unmet_here), -closeness, name)
        if best is None or score < best[0]:
            best = (score, Nearest(name, labels, unmet_here, suggestion))
    return best[1] if best else None


def _suggest(missing: Sequence[Requirement], labels: Mapping[str, str]) -> tuple[dict[str, str], float]:
    suggestion: dict[str, str] = {}
    total = 0.0
    for req in missing:
        if req.operator != "In" or len(req.values) != 1:
            return {}, 0.0
        key, _value = _closest_label(req.key, req.values[0], labels)
        if key is None:
            return {}, total
        suggestion[key] = labels[key]
        total += _ratio(req.values[0], labels[key]) + _ratio(req.key, key)
    return suggestion, total


def _closest_label(key: str, value: str, labels: Mapping[str, str]) -> tuple[str | None, str | None]:
    # the bounds first: the first candidate by name is asked too, and its value is seldom close (difflib on
    # such pairs was a fifth of the typo hints at benchmark tier M)
    if key in labels and _close_among(value, (labels[key],), CLOSE):
        return key, labels[key]
    for other, v in sorted(labels.items()):
        if v == value and _ratio(key, other) >= CLOSE_KEY:
            return other, v
    return None, None


@lru_cache(maxsize=1 << 16)  # the same label pairs come up for many selectors
def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def values_in_use(key: str, label_sets: Sequence[Mapping[str, str]], limit: int = 8) -> list[str]:
    """Sorted distinct values of `key` across label sets (at most `limit`)."""
    return sorted({labels[key] for labels in label_sets if key in labels})[:limit]
