"""selector-too-broad: peers that admit everything, and allow policies that select everything.

Kubernetes semantics that make these mistakes easy:
- API reference, NetworkPolicySpec.podSelector: "An empty podSelector selects all pods in this
  namespace." `matchLabels: null` (a bare `matchLabels:`) is the same empty selector.
- NetworkPolicyPeer: a `namespaceSelector: {}` "selects all namespaces"; with no podSelector the
  peer is every pod of every namespace. A `-` in front of `podSelector` splits one peer
  (namespace AND pods) into two (namespace OR pods).
"""

from __future__ import annotations

from collections.abc import Iterable

from ...model.bundle import NetworkPolicy, Peer, Rule
from ...model.records import Finding
from ...sets.addresses import covers_everything
from ...sets.selectors import matches
from .context import Direction, LintContext, describe_peer, to_yaml

DNS_PORT = 53


def breadth_findings(ctx: LintContext, policies: Iterable[NetworkPolicy] | None = None) -> list[Finding]:
    """selector-too-broad findings, policy-level first, then peer-level, in bundle order.

    `policies` (of `ctx.bundle`, in bundle order): only theirs; an empty podSelector is still judged
    against every policy of the bundle.
    """
    out: list[Finding] = []
    for p in ctx.bundle.policies if policies is None else policies:
        for direction, rules in ctx.rule_sets(p):
            if p.pod_selector.is_empty and rules:
                f = _implicit_default_deny(ctx, p, direction, rules)
                if f is not None:
                    out.append(f)
            for i, rule in enumerate(rules):
                f = _broad_rule(p, direction, i, rule)
                if f is not None:
                    out.append(f)
    return out


def _everything(peer: Peer) -> str | None:
    """What a peer admits when it admits everything of its kind, else None."""
    if peer.ip_block is not None:
        return "every address" if covers_everything(peer.ip_block) else None
    ns, pods = peer.namespace_selector, peer.pod_selector
    if ns is not None and ns.is_empty and (pods is None or pods.is_empty):
        return "every pod in every namespace"
    return None


def _dns_only(rule: Rule) -> bool:
    return bool(rule.ports) and all(pp.port == DNS_PORT and pp.end_port in (None, DNS_PORT) for pp in rule.ports or ())


def _broad_rule(p: NetworkPolicy, direction: Direction, i: int, rule: Rule) -> Finding | None:
    field = "from" if direction == "ingress" else "to"
    where = f"spec.{direction}[{i}]"
    if rule.peers is None:
        if direction == "egress" and _dns_only(rule):
            return _dns_anywhere(p, where, "has ports 53 but no `to`, so it allows DNS to any address")
        return None
    broad = [(j, what) for j, peer in enumerate(rule.peers) if (what := _everything(peer))]
    if not broad:
        return None
    j, what = broad[0]
    if direction == "egress" and _dns_only(rule):
        return _dns_anywhere(p, where, f"{field}[{j}] admits {what} on port 53")
    narrow = [describe_peer(p, peer) for peer in rule.peers if _everything(peer) is None]
    if not narrow:
        return None  # a rule that means "everyone", said on purpose
    msg = (f"{where}.{field}[{j}] of {p.id} admits {what}, which makes its narrower peers ({'; '.join(narrow)}) "
           f"pointless. If one peer was meant (namespace AND pods), the `-` in front of the second selector "
           f"split it into two peers that are ORed.")
    return Finding("selector-too-broad", "warning", p.id, msg, p.source, None,
                   {"key": f"{direction}[{i}] {field}[{j}] {what}", "field": f"{where}.{field}[{j}]"})


def _dns_anywhere(p: NetworkPolicy, where: str, what: str) -> Finding:
    fix = to_yaml({"to": [{
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
    }], "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
        "limit DNS to the cluster DNS pods")
    return Finding(
        "selector-too-broad", "info", p.id,
        f"{where} of {p.id} {what}: DNS was evidently meant for cluster DNS; any DNS server (and DNS "
        f"tunnelling) outside the cluster is reachable too",
        p.source, fix, {"key": f"{where} dns", "field": where},
    )


def _implicit_default_deny(ctx: LintContext, p: NetworkPolicy, direction: Direction,
                           rules: tuple[Rule, ...]) -> Finding | None:
    """An allow policy with an empty podSelector where no explicit default deny exists.

    It isolates every pod of the namespace; pods selected by no other policy of that
    direction are then reachable (or can reach) only what this policy's rules name.
    """
    if _has_explicit_default_deny(ctx, p.namespace, direction):
        return None
    only = [w.id for w in ctx.by_namespace.get(p.namespace, ())
            if not w.host_network and not _selected_by_other(ctx, p, w.labels, direction)]
    if not only:
        return None
    peers = _describe_rules(p, rules)
    flow = "accept ingress only from" if direction == "ingress" else "may send only to"
    msg = (f"{p.id} has an empty podSelector (`{{}}` or `matchLabels: null`), so it selects every pod in "
           f"{p.namespace} and isolates all of them for {direction}. {len(only)} workload(s) are selected by no other "
           f"{direction} policy and now {flow} {peers}: {', '.join(sorted(only))}. If a default deny was meant, "
           "write it as its own policy with no rules; otherwise give this policy the podSelector of the pods it is "
           "for.")
    fix = to_yaml({"spec": {"podSelector": {"matchLabels": {"<label>": "<the pods this policy is for>"}}}},
                  "select only the pods the rules are meant for")
    return Finding("selector-too-broad", "warning", p.id, msg, p.source, fix,
                   {"key": f"podSelector {direction}", "direction": direction, "field": "spec.podSelector",
                    "isolated_only_by_this": sorted(only)})


def _has_explicit_default_deny(ctx: LintContext, namespace: str, direction: Direction) -> bool:
    for q in ctx.policies_by_namespace.get(namespace, ()):
        if not q.pod_selector.is_empty:
            continue
        if direction == "ingress" and q.affects_ingress and not q.ingress:
            return True
        if direction == "egress" and q.affects_egress and not q.egress:
            return True
    return False


def _selected_by_other(ctx: LintContext, p: NetworkPolicy, labels: dict[str, str], direction: Direction) -> bool:
    flag = "affects_ingress" if direction == "ingress" else "affects_egress"
    return any(q is not p and q.namespace == p.namespace and getattr(q, flag) and matches(q.pod_selector, labels)
               for q in ctx.bundle.policies)


def _describe_rules(p: NetworkPolicy, rules: tuple[Rule, ...]) -> str:
    parts: list[str] = []
    for rule in rules:
        peers = "anywhere" if rule.peers is None else " or ".join(describe_peer(p, peer) for peer in rule.peers)
        ports = "" if rule.ports is None else " on " + ", ".join(f"{pp.protocol}/{pp.port or 'all'}"
                                                                 for pp in rule.ports)
        parts.append(peers + ports)
    return "; ".join(parts)
