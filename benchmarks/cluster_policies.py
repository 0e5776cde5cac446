"""The NetworkPolicies of a synthetic cluster, as API-shaped dicts.

Every namespace repeats the same two policies (default deny, DNS egress to kube-dns).
The rest allow one flow each, as teams write them: to a workload from a client in the
same namespace, from another namespace, from monitoring or the ingress controller, to a
CIDR. A fixed share are stale: their podSelector names an app that no longer runs.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from .cluster_world import (INGRESS_NS, KUBE_SYSTEM, MONITORING, NAME_LABEL, GenWorkload, World)

Manifest = dict[str, Any]
Peer = dict[str, Any]
Ports = list[dict[str, Any]] | None

#: Probability that a rule whose peers are workloads lists no ports (tuned so that the
#: cluster-wide share of pod-selector peers without ports lands near 69%).
NO_PORTS_P = 0.80
INFRA_POLICY_COUNT = 5
STALE_SUFFIXES = ("legacy", "v1", "old", "canary", "decommissioned")
PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]


def _match(labels: dict[str, str]) -> dict[str, Any]:
    return {"matchLabels": dict(labels)}


def _ns_peer(ns: str, pod_labels: dict[str, str] | None = None) -> Peer:
    peer: Peer = {"namespaceSelector": _match({NAME_LABEL: ns})}
    if pod_labels is not None:
        peer["podSelector"] = _match(pod_labels)
    return peer


def _policy(ns: str, name: str, selector: dict[str, Any], *, ingress: list[Any] | None = None,
            egress: list[Any] | None = None) -> Manifest:
    spec: dict[str, Any] = {"podSelector": selector}
    types = []
    if ingress is not None:
        spec["ingress"] = ingress
        types.append("Ingress")
    if egress is not None:
        spec["egress"] = egress
        types.append("Egress")
    spec["policyTypes"] = types
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def _rule(direction: str, peers: list[Peer], ports: Ports) -> dict[str, Any]:
    rule: dict[str, Any] = {"from" if direction == "ingress" else "to": peers}
    if ports is not None:
        rule["ports"] = ports
    return rule


def default_deny(ns: str) -> Manifest:
    """Deny all ingress and egress for every pod of `ns`."""
    return _policy(ns, "default-deny-all", {}, ingress=[], egress=[])


def allow_dns(ns: str) -> Manifest:
    """Egress from every pod of `ns` to kube-dns on 53/UDP and 53/TCP."""
    ports = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    peer = _ns_peer(KUBE_SYSTEM, {"k8s-app": "kube-dns"})
    return _policy(ns, "allow-dns-egress", {}, egress=[_rule("egress", [peer], ports)])


def infra_policies() -> list[Manifest]:
    """What keeps the shared services reachable once every namespace denies by default."""
    dns_ports = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    everyone = {"namespaceSelector": {}}
    web = [{"protocol": "TCP", "port": 80}, {"protocol": "TCP", "port": 443}]
    return [
        _policy(KUBE_SYSTEM, "allow-dns-from-cluster", _match({"k8s-app": "kube-dns"}),
                ingress=[_rule("ingress", [everyone], dns_ports)]),
        _policy(KUBE_SYSTEM, "coredns-upstream", _match({"k8s-app": "kube-dns"}),
                egress=[_rule("egress", [{"ipBlock": {"cidr": "0.0.0.0/0"}}], dns_ports)]),
        _policy(MONITORING, "prometheus-scrape", _match({"app": "prometheus"}),
                egress=[_rule("egress", [{"namespaceSelector": {}, "podSelector": {}}],
                              [{"port": "metrics"}, {"protocol": "TCP", "port": 9100, "endPort": 9199}])]),
        _policy(INGRESS_NS, "controller-from-internet", _match({"app.kubernetes.io/name": "ingress-nginx"}),
                ingress=[_rule("ingress", [{"ipBlock": {"cidr": "0.0.0.0/0"}}], web)]),
        _policy(INGRESS_NS, "controller-to-backends", _match({"app.kubernetes.io/name": "ingress-nginx"}),
                egress=[_rule("egress", [{"namespaceSelector": {"matchExpressions": [
                    {"key": "env", "operator": "In", "values": ["prod", "staging"]}]}}], None)]),
    ]


class PolicyWriter:
    """Draws app policies for one cluster; holds the rng and the lookup tables it needs."""

    def __init__(self, world: World, rng: random.Random) -> None:
        self.rng = rng
        self.by_ns = world.in_namespace()
        self.filled = [ns for ns, ws in self.by_ns.items() if ws and ns not in (KUBE_SYSTEM, MONITORING, INGRESS_NS)]
        self.app_ns = [ns.name for ns in world.namespaces if ns.name not in (KUBE_SYSTEM, MONITORING, INGRESS_NS)]
        self.team_of = {ns.name: ns.labels.get("team", "") for ns in world.namespaces}
        self.servers = [w for w in world.workloads if w.serving_ports and w.role != "infra"]
        self.names: dict[str, set[str]] = {}
        self.ingress_kinds: list[tuple[Callable[[GenWorkload], tuple[list[Peer], Ports]], int]] = [
            (self._from_same_ns, 44), (self._from_other_ns, 18), (self._from_monitoring, 8),
            (self._from_ingress, 7), (self._from_team, 5), (self._from_tier, 5),
            (self._from_expression, 5), (self._from_cidr, 4), (self._from_range, 4)]

    def unique_name(self, ns: str, base: str) -> str:
        used = self.names.setdefault(ns, set())
        name, k = base, 2
        while name in used:
            name, k = f"{base}-{k}", k + 1
        used.add(name)
        return name

    def _ports_of(self, target: GenWorkload, workload_peer: bool) -> Ports:
        """Ports for a rule reaching `target`: often none for workload peers, else one
        serving port by number or by name."""
        if (workload_peer and self.rng.random() < NO_PORTS_P) or not target.serving_ports:
            return None
        port = self.rng.choice(target.serving_ports)
        value: int | str = port.name if self.rng.random() < 0.3 else port.port
        return [{"protocol": port.protocol, "port": value}]

    def _client(self, target: GenWorkload) -> GenWorkload | None:
        """Another workload of the target's namespace, or None if it is alone."""
        others = [w for w in self.by_ns[target.namespace] if w.name != target.name]
        return self._small(others) if others else None

    def _small(self, workloads: list[GenWorkload]) -> GenWorkload:
        """Clients are more often small workloads (jobs, workers) than big frontends."""
        return self.rng.choices(workloads, weights=[1 / w.replicas ** 2 for w in workloads])[0]

    def _from_same_ns(self, t: GenWorkload) -> tuple[list[Peer], Ports]:
        client = self._client(t)
        if client is None:
            return self._from_other_ns(t)
        return [{"podSelector": _match({"app": client.name})}], self._ports_of(t, True)

    def _from_other_ns(self, t: GenWorkload) -> tuple[list[Peer], Ports]:
        ns = self.rng.choice(self.filled)
        client = self._small(self.by_ns[ns])
        return [_ns_peer(ns, {"app": client.name})], self._ports_of(t, True)

    def _from_monitoring(self, t: GenWorkload) -> tuple[list[Peer], Ports]:
        port: int | str = "metrics" if any(p.name == "metrics" for p in t.ports) else 9090
        return [_ns_peer(MONITORING, {"app": "prometheus"})], [{"port": port}]

    def _from_ingress(self, t: GenWorkload) -> tuple[list[Peer], Ports]:
        return [_ns_peer(INGRESS_NS)], self._ports_of(t, False)

    def _from_team(self, t: GenWorkload) -> tuple[list[Peer], Ports]:
        team = self.team_of[t.namespace]
        return [{"namespaceSelector": _match({"team": team})}], self._ports_of(t, False)

    def _from_tier(self, t: GenWorkload) -> tuple[list[Peer], Ports]:
        return [{"podSelector": _match({"tier": "frontend"})}], self._ports_of(t, True)

    def _from_expression(self, t: GenWorkload) -> tuple[list[Peer], Ports]:
        names = sorted({w.name for w in self.rng.sample(self.by_ns[t.namespace],
                                                         min(2, len(self.by_ns[t.namespace])))})
        expr = {"key": "app", "operator": "In", "values": names}
        return [{"podSelector": {"matchExpressions": [expr]}}], self._ports_of(t, True)

    def _from_cidr(self, t: GenWorkload) -> tuple[list[Peer], Ports]:
        peer = {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.96.0.0/12"]}}
        return [peer], self._ports_of(t, False)

    def _from_range(self, t: GenWorkload) -> tuple[list[Peer], Ports]:
        client = self._client(t) or t
        return [{"podSelector": _match({"app": client.name})}], [{"protocol": "TCP", "port": 8000, "endPort": 8999}]

    def _egress_peers(self, source: GenWorkload) -> tuple[list[Peer], Ports]:
        roll = self.rng.random()
        if roll < 0.15:
            return [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE}}], [{"protocol": "TCP", "port": 443}]
        if roll < 0.22:
            return [{"ipBlock": {"cidr": "10.20.0.0/16"}}], [{"protocol": "TCP", "port": 5432}]
        local = [w for w in self.by_ns[source.namespace] if w.serving_ports and w.name != source.name]
        server = self.rng.choice(local) if local and roll < 0.7 else self.rng.choice(self.servers)
        labels = {"app": server.name}
        same = server.namespace == source.namespace
        peer = {"podSelector": _match(labels)} if same else _ns_peer(server.namespace, labels)
        return [peer], self._ports_of(server, True)

    def app_policy(self, target: GenWorkload, *, stale: bool = False) -> Manifest:
        """One policy on `target` (or, if stale, on a look-alike app that does not run)."""
        selector_labels = {"app": target.name}
        if stale:
            selector_labels = {"app": f"{target.name}-{self.rng.choice(STALE_SUFFIXES)}"}
        elif self.rng.random() < 0.08:
            selector_labels = {"tier": target.labels["tier"]}
        selector = _match(selector_labels)
        label = next(iter(selector_labels.values()))
        ns = target.namespace
        if target.role == "batch" or self.rng.random() < 0.2:
            peers, ports = self._egress_peers(target)
            name = self.unique_name(ns, f"{label}-egress")
            return _policy(ns, name, selector, egress=[_rule("egress", peers, ports)])
        rules = [self._ingress_rule(target) for _ in range(1 if self.rng.random() < 0.8 else 2)]
        name = self.unique_name(ns, f"{label}-ingress")
        return _policy(ns, name, selector, ingress=rules)

    def _ingress_rule(self, target: GenWorkload) -> dict[str, Any]:
        kinds, weights = zip(*self.ingress_kinds)
        peers, ports = self.rng.choices(kinds, weights=weights)[0](target)
        return _rule("ingress", peers, ports)


def build_policies(world: World, total: int, empty_fraction: float, rng: random.Random) -> dict[str, list[Manifest]]:
    """Exactly `total` policies keyed by namespace.

    About `empty_fraction` of them select no pod: the deny and DNS policies of empty
    namespaces, then stale app policies to make up the rest.
    """
    writer = PolicyWriter(world, rng)
    out: dict[str, list[Manifest]] = {ns: [default_deny(ns), allow_dns(ns)] for ns in writer.by_ns}
    for p in infra_policies():
        out[p["metadata"]["namespace"]].append(p)
    empty_ns = sum(1 for ns in writer.app_ns if not writer.by_ns[ns])
    stale = max(0, round(empty_fraction * total) - 2 * empty_ns)
    app = total - 2 * len(out) - INFRA_POLICY_COUNT - stale
    if app < 0:
        raise ValueError(f"{total} policies is too few for {len(out)} namespaces")
    _spread(writer, out, app, stale=False)
    _spread(writer, out, stale, stale=True)
    return out


def _spread(writer: PolicyWriter, out: dict[str, list[Manifest]], count: int, *, stale: bool) -> None:
    """Add `count` policies, spread over filled namespaces in proportion to their pods."""
    targets = [w for ns in writer.filled for w in writer.by_ns[ns]]
    weights = [float(w.replicas) for w in targets]
    for target in writer.rng.choices(targets, weights=weights, k=count):
        out[target.namespace].append(writer.app_policy(target, stale=stale))
