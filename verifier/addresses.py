"""Sets of IP addresses as sorted, disjoint, inclusive integer intervals, per IP version.

An ipBlock is a CIDR minus its excepts (API reference, IPBlock: "The except entry
describes CIDRs that should not be included within this rule"). Two lists of blocks that
cover the same addresses, however they are written or ordered, have the same
`AddressSet`, which makes blocks comparable; `to_cidrs` writes a set back as the fewest
CIDRs that cover exactly it. Pure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from .cidrs import network
from .model import IPBlock

#: (IP version, first address, last address), inclusive, as integers.
Interval = tuple[int, int, int]
#: Sorted, disjoint, non-adjacent intervals (IPv4 before IPv6).
AddressSet = tuple[Interval, ...]


def block_addresses(block: IPBlock) -> AddressSet:
    """The addresses of `block`: its CIDR without its excepts (host bits are ignored)."""
    return subtract(_cidr_set(block.cidr), union(_cidr_set(e) for e in block.excepts))


def union(sets: Iterable[AddressSet]) -> AddressSet:
    """Every address in any of `sets`."""
    return _normalize(i for s in sets for i in s)


def subtract(have: AddressSet, remove: AddressSet) -> AddressSet:
    """The addresses of `have` that are not in `remove`."""
    out: list[Interval] = []
    for version, lo, hi in have:
        cur = lo
        for v, rlo, rhi in remove:
            if v != version or rhi < cur or rlo > hi:
                continue
            if rlo > cur:
                out.append((version, cur, rlo - 1))
            cur = max(cur, rhi + 1)
        if cur <= hi:
            out.append((version, cur, hi))
    return tuple(out)


def to_cidrs(addresses: AddressSet) -> list[str]:
    """The fewest CIDRs (in address order) whose union is exactly `addresses`."""
    out: list[str] = []
    for version, lo, hi in addresses:
        make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
        out += [str(n) for n in ipaddress.summarize_address_range(make(lo), make(hi))]
    return out


def _cidr_set(cidr: str) -> AddressSet:
    net = network(cidr)
    return ((net.version, int(net.network_address), int(net.broadcast_address)),)


def _normalize(intervals: Iterable[Interval]) -> AddressSet:
    merged: list[list[int]] = []
    for version, lo, hi in sorted(intervals):
        last = merged[-1] if merged else None
        if last is not None and last[0] == version and lo <= last[2] + 1:
            last[2] = max(last[2], hi)
        else:
            merged.append([version, lo, hi])
    return tuple((v, lo, hi) for v, lo, hi in merged)


__all__ = ["AddressSet", "Interval", "block_addresses", "subtract", "to_cidrs", "union"]
