"""egress-without-ingress and ingress-without-egress: rules whose other side is closed.

A connection needs the source's egress and the destination's ingress (API reference,
NetworkPolicy: "for a connection from a source pod to a destination pod to be allowed, both
the egress policy on the source pod and the ingress policy on the destination pod need to
allow the connection"). A rule none of whose grants the other side admits has no effect.
Rules that also admit addresses outside the cluster (no peers, or an ipBlock) are left alone:
they may well be used from or to outside.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...engine.compile import CompiledBundle, Grant
from ...model.bundle import NAMESPACE_NAME_LABEL, NetworkPolicy, Protocol, Rule, Workload
from ...model.records import Finding
from ...sets.selectors import iter_bits, lowest_bit
from .context import Direction, LintContext, to_yaml, workload_peer_labels


def side_findings(ctx: LintContext) -> list[Finding]:
    """One finding per in-cluster rule that no opposite rule (or open side) lets through."""
    conn = ctx.conn
    write = _Writer(ctx)
    ingress, egress = _OtherSide(conn.ingress), _OtherSide(conn.egress)
    out: list[Finding] = []
    for p, direction, i, rule, mine in _rules_with_grants(conn.compiled):
        # a rule that also admits outside addresses may well be used from or to outside: left alone
        if not rule.admits_outside and not (ingress if direction == "egress" else egress).passes(mine):
            out.append(write.finding(p, direction, i, mine[0]))
    return out


def _rules_with_grants(c: CompiledBundle) -> Iterator[tuple[NetworkPolicy, Direction, int, Rule, list[Grant]]]:
    """Each rule that compiled to grants, with them, in bundle order (a policy's ingress rules, then its egress).

    A policy's grants are the span compiling it added (`CompiledBundle.spans`), rule after rule.
    """
    grants, policies = c.grants, c.bundle.policies
    assert len(c.spans) == len(policies), "one span per policy"
    for p, span in zip(policies, c.spans):
        k, end = span[0], span[1]
        while k < end:
            ref = grants[k].rule
            j = k + 1
            while j < end and grants[j].rule.index == ref.index and grants[j].rule.direction == ref.direction:
                j += 1
            rule = (p.ingress if ref.direction == "ingress" else p.egress)[ref.index]
            yield p, ref.direction, ref.index, rule, grants[k:j]
            k = j


class _OtherSide:
    """One direction's entries per source class, and per class their union (most miss a grant entirely)."""

    def __init__(self, entries: list[list[tuple[int, int]]]) -> None:
        self._entries = entries
        self._unions: dict[int, tuple[int, int]] = {}

    def passes(self, grants: list[Grant]) -> bool:
        """Whether any (source, destination, port) of the grants is also granted here."""
        for g in grants:
            dst, ports = g.dst, g.ports
            for s in iter_bits(g.src):
                union = self._unions.get(s)
                if union is None:
                    union = self._unions[s] = self._union(s)
                if union[0] & dst and union[1] & ports:
                    for to, on in self._entries[s]:
                        if to & dst and on & ports:
                            return True
        return False

    def _union(self, s: int) -> tuple[int, int]:
        to_any = on_any = 0
        for to, on in self._entries[s]:
            to_any |= to
            on_any |= on
        return to_any, on_any


class _Writer:
    """Writes the findings, remembering what they share: port masks as text, each class's first workload."""

    def __init__(self, ctx: LintContext) -> None:
        self.ctx = ctx
        c = self.c = ctx.conn.compiled
        workloads = c.bundle.workloads
        self._first = [workloads[cls.members[0]] for cls in c.classes]  # each class's first workload
        self._ports: dict[int, tuple[str, Protocol, int]] = {}

    def finding(self, p: NetworkPolicy, direction: Direction, i: int, g: Grant) -> Finding:
        ctx = self.ctx
        src, dst = self._first[lowest_bit(g.src)], self._first[lowest_bit(g.dst)]  # each end's lowest class
        ports = self._ports.get(g.ports)
        if ports is None:
            portset = self.c.atoms.to_portset(g.ports)
            proto, ranges = portset.ranges[0]
            ports = self._ports[g.ports] = (str(portset), proto, ranges[0][0])
        text, proto, port = ports
        # Only the other side's verdict is reported: explain that side alone, not the whole connection.
        # (Both it and the fix snippet are the costly part of this rule; see LintContext for when they are left out.)
        other_side: Direction = "ingress" if direction == "egress" else "egress"
        who = f"ingress at {dst.id}" if direction == "egress" else f"egress at {src.id}"
        fix = None
        if ctx.snippets:
            fix = _ingress_fix(src, dst, proto, port) if direction == "egress" else _egress_fix(src, dst, proto, port)
        msg = (f"{direction} rule {i} of {p.id} opens {src.id} -> {dst.id} ({text}), but {who} does not allow it, "
               f"so the rule has no effect.")
        if ctx.explanations:
            msg += f" {who}: {ctx.explainer.side_explanation(src, dst, port, proto, other_side)}"
        return Finding(f"{direction}-without-{other_side}", "warning", p.id, msg, p.source, fix,
                       {"key": f"{direction}[{i}]", "field": f"spec.{direction}[{i}]",
                        "example": {"from": src.id, "to": dst.id, "protocol": proto, "port": port}})


def _ingress_fix(src: Workload, dst: Workload, proto: Protocol, port: int) -> str:
    policy = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": f"allow-{src.name}-to-{dst.name}", "namespace": dst.namespace},
        "spec": {
            "podSelector": {"matchLabels": workload_peer_labels(dst)},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [_peer(src, dst.namespace)], "ports": [{"protocol": proto, "port": port}]}],
        },
    }
    return to_yaml(policy, f"admit {src.id} at {dst.id}")


def _egress_fix(src: Workload, dst: Workload, proto: Protocol, port: int) -> str:
    policy = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": f"allow-{src.name}-to-{dst.name}", "namespace": src.namespace},
        "spec": {
            "podSelector": {"matchLabels": workload_peer_labels(src)},
            "policyTypes": ["Egress"],
            "egress": [{"to": [_peer(dst, src.namespace)], "ports": [{"protocol": proto, "port": port}]}],
        },
    }
    return to_yaml(policy, f"let {src.id} connect to {dst.id}")


def _peer(w: Workload, from_namespace: str) -> dict[str, object]:
    peer: dict[str, object] = {"podSelector": {"matchLabels": workload_peer_labels(w)}}
    if w.namespace != from_namespace:
        peer = {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: w.namespace}}, **peer}
    return peer
