"""Typo detection: the labels that exist nearest to a selector that matches nothing."""

from __future__ import annotations

import difflib
from functools import lru_cache
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..model import LabelSelector, Requirement
from ..selectors import unmet

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


def nearest(selector: LabelSelector, candidates: Sequence[tuple[str, Mapping[str, str]]]) -> Nearest | None:
    """The candidate that fails the fewest requirements, ties broken by how close its labels are.

    A suggestion is made only when every unmet requirement is `key=value` and the candidate has
    a close value under the same key, or the same value under a close key.
    """
    best: tuple[tuple[int, float, str], Nearest] | None = None
    for name, labels in candidates:
        missing = tuple(unmet(selector, labels))
        if not missing:
            continue
        suggestion, closeness = _suggest(missing, labels)
        score = (len(missing), -closeness, name)
        if best is None or score < best[0]:
            best = (score, Nearest(name, labels, missing, suggestion))
    return best[1] if best else None


def _suggest(missing: Sequence[Requirement], labels: Mapping[str, str]) -> tuple[dict[str, str], float]:
    suggestion: dict[str, str] = {}
    total = 0.0
    for req in missing:
        if req.operator != "In" or len(req.values) != 1:
            return {}, 0.0
        key, value = _closest_label(req.key, req.values[0], labels)
        if key is None:
            return {}, total
        suggestion[key] = labels[key]
        total += _ratio(req.values[0], labels[key]) + _ratio(req.key, key)
    return suggestion, total


def _closest_label(key: str, value: str, labels: Mapping[str, str]) -> tuple[str | None, str | None]:
    if key in labels and _ratio(value, labels[key]) >= CLOSE:
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
