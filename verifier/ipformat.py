"""IP and CIDR formats the API server accepts for NetworkPolicy ipBlocks and pod IPs.

Mirrors apimachinery's `IsValidCIDRForLegacyField` / `IsValidIPForLegacyField` with
strict validation (the StrictIPCIDRValidation behaviour for new objects): no leading
zeros, no IPv4-mapped IPv6 addresses, and no bits set beyond the prefix length.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

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
