"""Egress to outside addresses under AdminNetworkPolicy `networks` rules.

`Connectivity.external_egress` lists what a workload may reach outside the cluster as
allow rows (blocks, ports, rule). With admin policies the rows are corrected in
precedence order:

* a baseline Deny cuts the "unrestricted" row of a workload no NetworkPolicy isolates for
  egress, a baseline Allow adds a row;
* an ANP Deny cuts every lower-tier row (NetworkPolicy, baseline, unrestricted), an ANP
  Allow adds a row, itself cut by the ANP Denies checked before it.

Two CIDRs are either nested or disjoint, so a cut is exact: a Deny network holding a row's
CIDR removes the row (for the denied ports), one inside it becomes an `except`.
Limitation: a Pass rule checked before a Deny for the same addresses is not honoured here
(the Deny still cuts the lower tiers); pod-to-pod verdicts are exact either way.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from ..model.bundle import IPBlock
from ..sets.addresses import network
from ..sets.ports import PortSet

if TYPE_CHECKING:
    from ..sets.ports import PortAtoms
    from .admin_compile import AdminGrant, AdminTiers
    from .connectivity import ExternalEgress


def admin_external(tiers: AdminTiers, atoms: PortAtoms, s: int, isolated: bool,
                   rows: list[ExternalEgress], make: type[ExternalEgress]) -> list[ExternalEgress]:
    """`rows` (NetworkPolicy's view of class `s`) corrected by the admin tiers; `make` builds a row.

    `make` is `connectivity.ExternalEgress`, passed in so that this module, which connectivity
    calls, does not import connectivity back.
    """
    if not isolated:
        rows = _apply(_mine(tiers.baseline_egress, s), atoms, rows, make)
    return _apply(_mine(tiers.egress, s), atoms, rows, make)


def _mine(grants: list[AdminGrant], s: int) -> list[AdminGrant]:
    return [g for g in grants if g.src >> s & 1 and g.networks and g.external_ports]


def _apply(grants: list[AdminGrant], atoms: PortAtoms, lower: list[ExternalEgress],
           row_type: type[ExternalEgress]) -> list[ExternalEgress]:
    added: list[ExternalEgress] = []
    denies: list[tuple[tuple[IPBlock, ...], PortSet]] = []
    for g in grants:
        ports = atoms.to_portset(g.external_ports)
        if g.ref.action == "Allow":
            row = [row_type(g.networks, ports, str(g.ref))]
            for blocks, denied in denies:
                row = [piece for r in row for piece in _cut(r, blocks, denied)]
            added += row
        elif g.ref.action == "Deny":
            denies.append((g.networks, ports))
    for blocks, denied in denies:
        lower = [piece for r in lower for piece in _cut(r, blocks, denied)]
    return added + lower


def _cut(row: ExternalEgress, deny: tuple[IPBlock, ...], denied: PortSet) -> list[ExternalEgress]:
    """The row minus the denied networks on the denied ports."""
    overlap = row.ports.intersection(denied)
    if not overlap:
        return [row]
    out = []
    rest = row.ports.difference(denied)
    if rest:
        out.append(dataclasses.replace(row, ports=rest))
    blocks = list(row.blocks)
    for d in deny:
        blocks = [b for block in blocks if (b := _subtract(block, d.cidr)) is not None]
    if blocks:
        out.append(dataclasses.replace(row, blocks=tuple(blocks), ports=overlap))
    return out


def _subtract(block: IPBlock, cidr: str) -> IPBlock | None:
    """`block` without the addresses of `cidr` (None when nothing is left)."""
    outer, cut = network(block.cidr), network(cidr)
    if outer.version != cut.version or not outer.overlaps(cut):
        return block
    # typeshed's subnet_of wants both networks of one class; the versions were compared above (and below)
    if outer.subnet_of(cut):  # type: ignore[arg-type]
        return None
    if any(cut.subnet_of(network(e)) for e in block.excepts if network(e).version == cut.version):  # type: ignore[arg-type]
        return block
    return IPBlock(block.cidr, (*block.excepts, cidr))
