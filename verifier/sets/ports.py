"""Port sets: sorted, disjoint, inclusive intervals per protocol, and the atoms of a port space.

The evaluator never enumerates ports. It splits 1..65535 of each protocol into the
few intervals ("atoms") that no policy distinguishes inside, and represents any
port set as a bit mask over those atoms.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from ..model.bundle import PROTOCOLS, Protocol

MIN_PORT = 1
MAX_PORT = 65535

Range = tuple[int, int]


def normalize(ranges: Iterable[Range]) -> tuple[Range, ...]:
    """Sort and merge inclusive ranges; adjacent ranges join (80-81 + 82-90 = 80-90)."""
    merged: list[list[int]] = []
    for lo, hi in sorted(r for r in ranges if r[0] <= r[1]):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return tuple((lo, hi) for lo, hi in merged)


@dataclass(frozen=True, slots=True)
class PortSet:
    """An immutable set of (protocol, port) pairs, stored as intervals per protocol."""

    ranges: tuple[tuple[Protocol, tuple[Range, ...]], ...] = ()

    @classmethod
    def of(cls, by_protocol: Mapping[Protocol, Iterable[Range]]) -> PortSet:
        items = []
        for proto in PROTOCOLS:
            rs = normalize(by_protocol.get(proto, ()))
            if rs:
                items.append((proto, rs))
        return cls(tuple(items))

    @classmethod
    def all_ports(cls) -> PortSet:
        """Every port of every protocol: one shared instance (a PortSet is immutable; exposure asks per workload)."""
        if cls is PortSet and _ALL_PORTS:
            return _ALL_PORTS[0]
        return cls.of({p: [(MIN_PORT, MAX_PORT)] for p in PROTOCOLS})

    def for_protocol(self, protocol: Protocol) -> tuple[Range, ...]:
        for proto, rs in self.ranges:
            if proto == protocol:
                return rs
        return ()

    def as_dict(self) -> dict[Protocol, tuple[Range, ...]]:
        return dict(self.ranges)

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def contains(self, protocol: Protocol, port: int) -> bool:
        rs = self.for_protocol(protocol)
        i = bisect.bisect_right(rs, (port, MAX_PORT + 1)) - 1
        return i >= 0 and rs[i][0] <= port <= rs[i][1]

    def union(self, other: PortSet) -> PortSet:
        merged: dict[Protocol, list[Range]] = {}
        for src in (self, other):
            for proto, rs in src.ranges:
                merged.setdefault(proto, []).extend(rs)
        return PortSet.of(merged)

    def intersection(self, other: PortSet) -> PortSet:
        out: dict[Protocol, list[Range]] = {}
        for proto, rs in self.ranges:
            out[proto] = list(_intersect(rs, other.for_protocol(proto)))
        return PortSet.of(out)

    def difference(self, other: PortSet) -> PortSet:
        out: dict[Protocol, list[Range]] = {}
        for proto, rs in self.ranges:
            out[proto] = list(_subtract(rs, other.for_protocol(proto)))
        return PortSet.of(out)

    def count(self) -> int:
        return sum(hi - lo + 1 for _, rs in self.ranges for lo, hi in rs)

    def __str__(self) -> str:
        if not self.ranges:
            return "nothing"
        parts = []
        for proto, rs in self.ranges:
            if rs == ((MIN_PORT, MAX_PORT),):
                parts.append(f"{proto}/all")
            else:
                text = ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in rs)
                parts.append(f"{proto}/{text}")
        return " ".join(parts)


def _intersect(a: tuple[Range, ...], b: tuple[Range, ...]) -> Iterator[Range]:
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            yield lo, hi
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1


def _subtract(a: tuple[Range, ...], b: tuple[Range, ...]) -> Iterator[Range]:
    for lo, hi in a:
        cur = lo
        for blo, bhi in b:
            if bhi < cur or blo > hi:
                continue
            if blo > cur:
                yield cur, blo - 1
            cur = max(cur, bhi + 1)
        if cur <= hi:
            yield cur, hi


_ALL_PORTS: list[PortSet] = []  # filled once below, by `all_ports` itself
_ALL_PORTS.append(PortSet.all_ports())


#: How many masks' port sets one `PortAtoms` keeps (`to_portset`).
PORTSETS_KEPT = 4096


class PortAtoms:
    """A partition of every protocol's 1..65535 into intervals, indexed as bits.

    Built from the boundaries of every port range any rule mentions, so each rule's
    port set is an exact union of atoms.
    """

    def __init__(self, cuts: Mapping[Protocol, Iterable[Range]]) -> None:
        self.atoms: list[tuple[Protocol, int, int]] = []
        self._starts: dict[Protocol, list[int]] = {}
        self._first: dict[Protocol, int] = {}
        for proto in PROTOCOLS:
            bounds = {MIN_PORT, MAX_PORT + 1}
            for lo, hi in cuts.get(proto, ()):
                bounds.update((lo, hi + 1))
            edges = sorted(b for b in bounds if MIN_PORT <= b <= MAX_PORT + 1)
            self._first[proto] = len(self.atoms)
            self._starts[proto] = edges[:-1]
            for lo, nxt in itertools.pairwise(edges):
                self.atoms.append((proto, lo, nxt - 1))
        self.all = (1 << len(self.atoms)) - 1
        self.protocol_masks = {p: self.mask(p, MIN_PORT, MAX_PORT) for p in PROTOCOLS}
        self._portsets: dict[int, PortSet] = {}  # `to_portset`'s

    def atom_of(self, protocol: Protocol, port: int) -> int:
        """Index of the atom holding a port."""
        starts = self._starts[protocol]
        return self._first[protocol] + bisect.bisect_right(starts, port) - 1

    def mask(self, protocol: Protocol, lo: int, hi: int) -> int:
        """Mask of a range; its ends must be atom boundaries (they are, for any cut range)."""
        first, last = self.atom_of(protocol, lo), self.atom_of(protocol, hi)
        return ((1 << (last + 1)) - 1) ^ ((1 << first) - 1)

    def to_portset(self, mask: int) -> PortSet:
        """The ports of a mask: one object per mask (a PortSet is immutable), as a workload's grants, its
        outside rows and the traffic graph ask for the same few masks again and again (781 times, 15 masks,
        in an analysis at benchmark tier M). At most `PORTSETS_KEPT` are kept: a listing of every pair of a
        large cluster may meet many more."""
        ports = self._portsets.get(mask)
        if ports is None:
            ports = self._portset(mask)
            if len(self._portsets) < PORTSETS_KEPT:
                self._portsets[mask] = ports
        return ports

    def _portset(self, mask: int) -> PortSet:
        by_proto: dict[Protocol, list[Range]] = {}
        i = 0
        while mask:
            if mask & 1:
                proto, lo, hi = self.atoms[i]
                by_proto.setdefault(proto, []).append((lo, hi))
            mask >>= 1
            i += 1
        return PortSet.of(by_proto)
