"""IP addresses and CIDRs: how the API server reads them, ipBlock matching, and sets of addresses.

The one module of the verifier that knows about IP addresses, in three parts:

- **Formats** (`check_cidr`, `check_ip`): the IP and CIDR formats the API server accepts for
  NetworkPolicy ipBlocks and pod IPs. Mirrors apimachinery's `IsValidCIDRForLegacyField` /
  `IsValidIPForLegacyField` with strict validation (the StrictIPCIDRValidation behaviour for new
  objects): no leading zeros, no IPv4-mapped IPv6 addresses, and no bits set beyond the prefix length.
- **Matching** (`network`, `block_contains_ip`): API reference, IPBlock: "describes a particular
  CIDR ... that is allowed to the pods matched by a NetworkPolicySpec's podSelector. The except
  entry describes CIDRs that should not be included within this rule."
- **Sets** (`AddressSet`): sorted, disjoint, inclusive integer intervals, per IP version. An
  ipBlock is a CIDR minus its excepts; two lists of blocks that cover the same addresses, however
  they are written or ordered, have the same `AddressSet`, which makes blocks comparable;
  `to_cidrs` writes a set back as the fewest CIDRs that cover exactly it.

Pure.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from functools import lru_cache

from ..model.bundle import IPBlock

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


# --- Formats -----------------------------------------------------------------------------------

_PREFIX = re.compile(r"[0-9]+")
_SLOPPY_IPV4 = re.compile(r"([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})")
_CIDR_EXAMPLE = "must be a valid CIDR value (e.g. 10.9.8.0/24 or 2001:db8::/64)"
_IP_EXAMPLE = "must be a valid IP address (e.g. 10.9.8.7 or 2001:db8::ffff)"


@lru_cache(maxsize=65536)
def check_cidr(value: str) -> tuple[Network | None, tuple[str, ...]]:
    """Parse an ipBlock CIDR the way the API server does for a new object.

    Returns the network (masked, even when the value had host bits set, as the API server
    then uses it for the `except` checks) or None when it cannot be read at all, and the
    problems, each with the fix.
    """
    network, problems = _check_cidr(value)
    return network, tuple(problems)


def _check_cidr(value: str) -> tuple[Network | None, list[str]]:
    address, slash, prefix = value.rpartition("/")
    if not slash or not _PREFIX.fullmatch(prefix):
        return None, [_CIDR_EXAMPLE + ("; add a prefix length such as /32" if not slash else "")]
    ip, problems = _parse_ip(address)
    if ip is None or int(prefix) > ip.max_prefixlen:
        return None, [_CIDR_EXAMPLE]
    if len(prefix) > 1 and prefix.startswith("0"):
        problems.append(f"must not have leading 0s in the prefix length: write /{int(prefix)}")
    network = ipaddress.ip_network(f"{ip}/{int(prefix)}", strict=False)
    if network.network_address != ip:
        problems.append(
            f"must not have bits set beyond the prefix length: write {network} for the subnet "
            f"or {ip}/{ip.max_prefixlen} for the single address"
        )
    return network, problems


def check_ip(value: str) -> tuple[str, ...]:
    """Problems with an IP address string (strict legacy-field rules); empty when valid."""
    return tuple(_parse_ip(value)[1])


def is_strict_subnet(inner: Network, outer: Network) -> bool:
    """True when `inner` lies inside `outer` with a strictly longer prefix (same family)."""
    if inner.version != outer.version:
        return False
    # typeshed's subnet_of wants both networks of one class; callers compare versions first
    return inner.prefixlen > outer.prefixlen and inner.subnet_of(outer)  # type: ignore[arg-type]


def _parse_ip(text: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address | None, list[str]]:
    if "%" in text or text != text.strip():
        return None, [_IP_EXAMPLE]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return _parse_sloppy_ipv4(text)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip, [f"must not be an IPv4-mapped IPv6 address: write {ip.ipv4_mapped}"]
    return ip, []


def _parse_sloppy_ipv4(text: str) -> tuple[ipaddress.IPv4Address | None, list[str]]:
    # Go's sloppy parser reads "010.0.0.1" as 10.0.0.1; libc would read octal. Rejected.
    match = _SLOPPY_IPV4.fullmatch(text)
    if not match or any(int(octet) > 255 for octet in match.groups()):
        return None, [_IP_EXAMPLE]
    ip = ipaddress.IPv4Address(".".join(str(int(octet)) for octet in match.groups()))
    return ip, [f"must not have leading 0s: write {ip}"]


# --- Matching ----------------------------------------------------------------------------------

EVERYWHERE = (IPBlock("0.0.0.0/0"), IPBlock("::/0"))


@lru_cache(maxsize=65536)
def network(cidr: str) -> Network:
    """Parse a CIDR leniently (host bits allowed); validation reports non-canonical ones."""
    return ipaddress.ip_network(cidr, strict=False)


def is_ip_address(text: str) -> bool:
    """Whether `text` is one IPv4 or IPv6 address (no prefix length), as Python reads it."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def parse_network(ref: str) -> Network | None:
    """`ref` as an IP range when it is one (`10.0.0.0/8`, `192.0.2.7` as /32, host bits allowed), else None
    (a name such as `shop/api`)."""
    try:
        return network(ref)
    except ValueError:
        return None


def block_contains_ip(block: IPBlock, ip: str) -> bool:
    """Whether an address is in the block's CIDR and in none of its excepts."""
    addr = ipaddress.ip_address(ip)
    net = network(block.cidr)
    if addr.version != net.version or addr not in net:
        return False
    return not any(addr in network(e) for e in block.excepts)


def covers_everything(block: IPBlock) -> bool:
    """A /0 block without excepts: every address of its family."""
    return network(block.cidr).prefixlen == 0 and not block.excepts


# --- Sets --------------------------------------------------------------------------------------

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


__all__ = [
    "EVERYWHERE", "AddressSet", "Interval", "Network", "block_addresses", "block_contains_ip", "check_cidr",
    "check_ip", "covers_everything", "is_ip_address", "is_strict_subnet", "network", "parse_network", "subtract",
    "to_cidrs", "union",
]
