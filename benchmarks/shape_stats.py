"""Shape statistics of a generated cluster, measured on the emitted manifests.

This is a second, deliberately plain implementation of label-selector matching (not the
verifier's), so the figures check the generator against the published shape rather than
trusting the engine under test. Counts are in pods: a workload counts its replicas.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Manifest = dict[str, Any]
WORKLOAD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")


def _requirements(selector: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    reqs = [(k, "In", (v,)) for k, v in (selector.get("matchLabels") or {}).items()]
    reqs += [(e["key"], e["operator"], tuple(e.get("values") or ())) for e in selector.get("matchExpressions") or ()]
    return reqs


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """LabelSelector semantics: every requirement holds; an empty selector matches all."""
    for key, op, values in _requirements(selector):
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


class LabelIndex:
    """Items with labels, indexed by (key, value) so `In` selectors need not scan everything."""

    def __init__(self, labels: list[dict[str, str]]) -> None:
        self.labels = labels
        self.by_pair: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, ls in enumerate(labels):
            for pair in ls.items():
                self.by_pair[pair].append(i)

    def select(self, selector: dict[str, Any]) -> list[int]:
        narrowing = [(k, vs) for k, op, vs in _requirements(selector) if op == "In"]
        if narrowing:
            key, values = narrowing[0]
            candidates: Iterable[int] = sorted({i for v in values for i in self.by_pair.get((key, v), ())})
        else:
            candidates = range(len(self.labels))
        return [i for i in candidates if matches(selector, self.labels[i])]


@dataclass
class ClusterIndex:
    ns_names: list[str]
    ns_index: LabelIndex
    wl_ns: list[str]
    wl_replicas: list[int]
    wl_index: LabelIndex
    pods_in_ns: dict[str, int]


def _pod_labels(obj: Manifest) -> dict[str, str]:
    if obj["kind"] == "Pod":
        return obj["metadata"].get("labels") or {}
    return obj["spec"]["template"]["metadata"].get("labels") or {}


def index_cluster(docs: list[Manifest]) -> ClusterIndex:
    """Namespaces and workloads of `docs`, indexed by label."""
    nss = [d for d in docs if d["kind"] == "Namespace"]
    wls = [d for d in docs if d["kind"] in WORKLOAD_KINDS]
    replicas = [1 if w["kind"] == "Pod" else int(w["spec"].get("replicas", 1)) for w in wls]
    pods_in_ns: dict[str, int] = defaultdict(int)
    for w, n in zip(wls, replicas):
        pods_in_ns[w["metadata"]["namespace"]] += n
    return ClusterIndex([n["metadata"]["name"] for n in nss],
                        LabelIndex([n["metadata"].get("labels") or {} for n in nss]),
                        [w["metadata"]["namespace"] for w in wls], replicas,
                        LabelIndex([_pod_labels(w) for w in wls]), dict(pods_in_ns))


class Selection:
    """Pod counts selected by policy targets and peers, memoized (deny/DNS repeat a lot)."""

    def __init__(self, index: ClusterIndex) -> None:
        self.ix = index
        self.cache: dict[str, int] = {}

    def _key(self, *parts: Any) -> str:
        return json.dumps(parts, sort_keys=True)

    def pods(self, namespaces: set[str] | None, pod_selector: dict[str, Any] | None) -> int:
        """Pods in `namespaces` (None: all) matching `pod_selector` (None: all)."""
        ix = self.ix
        if pod_selector is None or not _requirements(pod_selector):
            names = ix.pods_in_ns.keys() if namespaces is None else namespaces
            return sum(ix.pods_in_ns.get(n, 0) for n in names)
        hits = ix.wl_index.select(pod_selector)
        return sum(ix.wl_replicas[i] for i in hits if namespaces is None or ix.wl_ns[i] in namespaces)

    def target(self, ns: str, selector: dict[str, Any]) -> int:
        key = self._key("t", ns, selector)
        if key not in self.cache:
            self.cache[key] = self.pods({ns}, selector)
        return self.cache[key]

    def peer(self, ns: str, peer: dict[str, Any]) -> int:
        """Pods a from/to peer selects: podSelector alone is the policy's namespace."""
        key = self._key("p", ns, peer)
        if key not in self.cache:
            if "namespaceSelector" in peer:
                hits = self.ix.ns_index.select(peer["namespaceSelector"])
                scope = {self.ix.ns_names[i] for i in hits}
            else:
                scope = {ns}
            self.cache[key] = self.pods(scope, peer.get("podSelector"))
        return self.cache[key]


def _rules(policy: Manifest) -> Iterable[tuple[dict[str, Any], str]]:
    spec = policy["spec"]
    for rule in spec.get("ingress") or ():
        yield rule, "from"
    for rule in spec.get("egress") or ():
        yield rule, "to"


def _median(xs: list[int]) -> float:
    return float(statistics.median(xs)) if xs else 0.0


def shape_stats(docs: list[Manifest]) -> dict[str, Any]:
    """The figures the published shape is stated in, measured on `docs`."""
    ix = index_cluster(docs)
    sel = Selection(ix)
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    targets = [sel.target(p["metadata"]["namespace"], p["spec"]["podSelector"]) for p in policies]
    peer_pods: list[int] = []
    kinds: dict[str, int] = defaultdict(int)
    pod_peers = pod_peers_no_ports = end_ports = named_ports = 0
    for p in policies:
        for rule, field in _rules(p):
            for port in rule.get("ports") or ():
                end_ports += "endPort" in port
                named_ports += isinstance(port.get("port"), str)
            for peer in rule.get(field) or ():
                kinds["+".join(sorted(peer))] += 1
                if "ipBlock" in peer:
                    continue
                peer_pods.append(sel.peer(p["metadata"]["namespace"], peer))
                if "podSelector" in peer:
                    pod_peers += 1
                    pod_peers_no_ports += not rule.get("ports")
    nonzero = [t for t in targets if t]
    label_sets = {json.dumps(ls, sort_keys=True) for ls in ix.wl_index.labels}
    return {
        "pods": sum(ix.wl_replicas),
        "namespaces": len(ix.ns_names),
        "workloads": len(ix.wl_replicas),
        "distinct_pod_label_sets": len(label_sets),
        "services": sum(1 for d in docs if d["kind"] == "Service"),
        "policies": len(policies),
        "policies_selecting_nothing": len(targets) - len(nonzero),
        "fraction_policies_selecting_nothing": round((len(targets) - len(nonzero)) / max(1, len(targets)), 4),
        "median_pods_selected_per_policy": _median(targets),
        "median_pods_selected_per_nonempty_policy": _median(nonzero),
        "median_pods_selected_per_peer": _median(peer_pods),
        "peers_by_kind": dict(sorted(kinds.items())),
        "pod_selector_peers": pod_peers,
        "fraction_pod_selector_peers_without_ports": round(pod_peers_no_ports / max(1, pod_peers), 4),
        "end_port_ranges": end_ports,
        "named_policy_ports": named_ports,
        "median_pods_per_workload": _median(ix.wl_replicas),
    }
