"""Label selector matching, one object at a time and over an index of many.

Truth table (apimachinery `labels.Requirement.Matches`):

    operator       key present, value in set   key present, not in set   key absent
    In             match                       no                        no
    NotIn          no                          match                     match
    Exists         match                       match                     no
    DoesNotExist   no                          no                        match

A selector is the AND of its requirements; the empty selector matches everything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..model.bundle import LabelSelector, Requirement


def requirement_matches(req: Requirement, labels: Mapping[str, str]) -> bool:
    """Whether one requirement holds for a label set."""
    value = labels.get(req.key)
    if req.operator == "In":
        return value is not None and value in req.values
    if req.operator == "NotIn":
        return value is None or value not in req.values
    if req.operator == "Exists":
        return value is not None
    return value is None  # DoesNotExist


def matches(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    """Whether a label set satisfies every requirement of the selector."""
    return all(requirement_matches(r, labels) for r in selector.requirements)


def unmet(selector: LabelSelector, labels: Mapping[str, str]) -> list[Requirement]:
    """The requirements a label set fails: the explanation of a non-match."""
    return [r for r in selector.requirements if not requirement_matches(r, labels)]


def describe_labels(labels: Mapping[str, str], keys: Sequence[str]) -> str:
    """What an object has for the given keys, e.g. `app=api-v2` or `no app label`."""
    parts = [f"{k}={labels[k]}" if k in labels else f"no {k} label" for k in keys]
    return ", ".join(parts)


class LabelIndex:
    """Selects over many label sets at once; results are bit sets (bit i = item i).

    Each distinct requirement is evaluated once from an inverted index, so a
    selector costs a few big-integer operations however many items there are.
    """

    def __init__(self, label_sets: Sequence[Mapping[str, str]]) -> None:
        self.size = len(label_sets)
        self.all = (1 << self.size) - 1
        self._by_value: dict[str, dict[str, int]] = {}
        self._by_key: dict[str, int] = {}
        self._cache: dict[LabelSelector, int] = {}
        for i, labels in enumerate(label_sets):
            bit = 1 << i
            for key, value in labels.items():
                self._by_key[key] = self._by_key.get(key, 0) | bit
                values = self._by_value.setdefault(key, {})
                values[value] = values.get(value, 0) | bit

    def _requirement(self, req: Requirement) -> int:
        has_key = self._by_key.get(req.key, 0)
        if req.operator == "Exists":
            return has_key
        if req.operator == "DoesNotExist":
            return self.all & ~has_key
        values = self._by_value.get(req.key, {})
        chosen = 0
        for v in req.values:
            chosen |= values.get(v, 0)
        if req.operator == "In":
            return chosen
        return self.all & ~chosen  # NotIn: absent keys match too

    def select(self, selector: LabelSelector) -> int:
        """Bit set of the items the selector matches (cached per selector)."""
        hit = self._cache.get(selector)
        if hit is not None:
            return hit
        result = self.all
        for req in selector.requirements:
            result &= self._requirement(req)
            if not result:
                break
        self._cache[selector] = result
        return result


def lowest_bit(mask: int) -> int:
    """`iter_bits(mask)[0]` of a non-empty mask, without writing out its digits."""
    return (mask & -mask).bit_length() - 1


def iter_bits(mask: int) -> list[int]:
    """Indices of the set bits of a non-negative integer, ascending.

    Most masks of classes a policy or a peer selects have one bit, often far up a mask of thousands
    (20,000 classes on a 100,000-pod cluster): it is answered without writing digits, and the digits
    below the lowest set bit are never written out.
    """
    if not mask & (mask - 1):  # none or one
        return [mask.bit_length() - 1] if mask else []
    low = lowest_bit(mask)
    text = bin(mask >> low)[:1:-1]  # little-endian digits from the lowest set bit; str.find scans in C
    out = []
    i = text.find("1")
    while i >= 0:
        out.append(low + i)
        i = text.find("1", i + 1)
    return out
