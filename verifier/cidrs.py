"""ipBlock matching.

API reference, IPBlock: "describes a particular CIDR ... that is allowed to the pods
matched by a NetworkPolicySpec's podSelector. The except entry describes CIDRs that
should not be included within this rule."
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from .model import IPBlock

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

EVERYWHERE = (IPBlock("0.0.0.0/0"), IPBlock("::/0"))


@lru_cache(maxsize=65536)
def network(cidr: str) -> Network:
    """Parse a CIDR leniently (host bits allowed); validation reports non-canonical ones."""
    return ipaddress.ip_network(cidr, strict=False)


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
