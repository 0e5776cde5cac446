"""egress-without-ingress and ingress-without-egress: rules whose other side is closed.

A connection needs the source's egress and the destination's ingress (API reference,
NetworkPolicy: "for a connection from a source pod to a destination pod to be allowed, both
the egress policy on the source pod and the ingress policy on the destination pod need to
allow the connection"). A rule none of whose grants the other side admits has no effect.
Rules that also admit addresses outside the cluster (no peers, or an ipBlock) are left alone:
they may well be used from or to outside.
"""

from __future__ import annotations

from ...engine.compile import Grant
from ...engine.explain import RuleRef
from ...model.bundle import NAMESPACE_NAME_LABEL, NetworkPolicy, Protocol, Rule, Workload
from ...model.records import Finding
from ...sets.ports import PortSet
from ...sets.selectors import iter_bits
from .context import Direction, LintContext, to_yaml, workload_peer_labels


def side_findings(ctx: LintContext) -> list[Finding]:
    """One finding per in-cluster rule that no opposite rule (or open side) lets through."""
    grants = _grants_by_rule(ctx)
    portsets: dict[int, PortSet] = {}  # grants share their port masks: each is turned into ranges once
    out: list[Finding] = []
    for p in ctx.bundle.policies:
        for direction, rules in ctx.rule_sets(p):
            for i, rule in enumerate(rules):
                if rule.peers is None or any(peer.ip_block is not None for peer in rule.peers):
                    continue
                mine = grants.get(RuleRef(p.id, direction, i), [])
                if mine and not any(_passes(ctx, g, direction) for g in mine):
                    out.append(_finding(ctx, p, direction, i, rule, mine[0], portsets))
    return out


def _grants_by_rule(ctx: LintContext) -> dict[RuleRef, list[Grant]]:
    out: dict[RuleRef, list[Grant]] = {}
    for g in ctx.conn.compiled.grants:
        out.setdefault(g.rule, []).append(g)
    return out


def _passes(ctx: LintContext, g: Grant, direction: Direction) -> bool:
    """Whether any (source, destination, port) of the grant is also granted by the other side."""
    other = ctx.conn.ingress if direction == "egress" else ctx.conn.egress
    for s in iter_bits(g.src):
        for dst, ports in other[s]:
            if dst & g.dst and ports & g.ports:
                return True
    return False


def _finding(ctx: LintContext, p: NetworkPolicy, direction: Direction, i: int, rule: Rule, g: Grant,
             portsets: dict[int, PortSet]) -> Finding:
    c = ctx.conn.compiled
    workloads = c.bundle.workloads
    src = workloads[c.classes[_lowest(g.src)].members[0]]
    dst = workloads[c.classes[_lowest(g.dst)].members[0]]
    ports = portsets.get(g.ports)
    if ports is None:
        ports = portsets[g.ports] = c.atoms.to_portset(g.ports)
    proto, ranges = ports.ranges[0]
    port = ranges[0][0]
    # Only the other side's verdict is reported: explain that side alone, not the whole connection.
    # (Both it and the fix snippet are the costly part of this rule; see LintContext for when they are left out.)
    other_side: Direction = "ingress" if direction == "egress" else "egress"
    rule_id = f"{direction}-without-{other_side}"
    who = f"ingress at {dst.id}" if direction == "egress" else f"egress at {src.id}"
    fix = None
    if ctx.snippets:
        fix = _ingress_fix(src, dst, proto, port) if direction == "egress" else _egress_fix(src, dst, proto, port)
    msg = (f"{direction} rule {i} of {p.id} opens {src.id} -> {dst.id} ({ports}), but {who} does not allow it, "
           f"so the rule has no effect.")
    if ctx.explanations:
        msg += f" {who}: {ctx.explainer.side_explanation(src, dst, port, proto, other_side)}"
    return Finding(rule_id, "warning", p.id, msg, p.source, fix,
                   {"key": f"{direction}[{i}]", "field": f"spec.{direction}[{i}]",
                    "example": {"from": src.id, "to": dst.id, "protocol": proto, "port": port}})


def _lowest(mask: int) -> int:
    """`iter_bits(mask)[0]` of a non-empty mask, without writing out its digits."""
    return (mask & -mask).bit_length() - 1


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
