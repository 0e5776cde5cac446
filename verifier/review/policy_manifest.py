"""NetworkPolicies as manifests: the model written back as the API writes it, JSON patches, builders.

Fixes and rollout plans produce whole NetworkPolicies and patches to existing ones; both are
plain dicts (what `kubectl apply` reads) so that the service layer can write them and the core
can re-parse them with `objects.network_policy_from` to check what they do.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from ..model.bundle import (
    NAMESPACE_NAME_LABEL,
    LabelSelector,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Protocol,
    Rule,
    Workload,
)
from .rules.context import selector_yaml

Manifest = dict[str, Any]
PatchOp = dict[str, Any]

API_VERSION = "networking.k8s.io/v1"

#: The namespaces every cluster has. The API server sets `kubernetes.io/metadata.name` on each
#: namespace (KEP-2161, GA in 1.22), so selecting one of these by name always matches.
ALWAYS_PRESENT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def selector_manifest(selector: LabelSelector) -> dict[str, Any]:
    """A LabelSelector as the API writes it (`{}` for the empty selector)."""
    return selector_yaml(selector)


def _peer_manifest(peer: Peer) -> dict[str, Any]:
    if peer.ip_block is not None:
        block: dict[str, Any] = {"cidr": peer.ip_block.cidr}
        if peer.ip_block.excepts:
            block["except"] = list(peer.ip_block.excepts)
        return {"ipBlock": block}
    out: dict[str, Any] = {}
    if peer.namespace_selector is not None:
        out["namespaceSelector"] = selector_manifest(peer.namespace_selector)
    if peer.pod_selector is not None:
        out["podSelector"] = selector_manifest(peer.pod_selector)
    return out


def _port_manifest(pp: PolicyPort) -> dict[str, Any]:
    out: dict[str, Any] = {"protocol": pp.protocol}
    if pp.port is not None:
        out["port"] = pp.port
    if pp.end_port is not None:
        out["endPort"] = pp.end_port
    return out


def _rule_manifest(rule: Rule, peers_key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rule.peers is not None:
        out[peers_key] = [_peer_manifest(p) for p in rule.peers]
    if rule.ports is not None:
        out["ports"] = [_port_manifest(p) for p in rule.ports]
    return out


def policy_manifest(p: NetworkPolicy) -> Manifest:
    """The policy as a manifest with explicit policyTypes; parsing it gives back an equal policy."""
    spec: dict[str, Any] = {"podSelector": selector_manifest(p.pod_selector), "policyTypes": list(p.policy_types)}
    if p.ingress:
        spec["ingress"] = [_rule_manifest(r, "from") for r in p.ingress]
    if p.egress:
        spec["egress"] = [_rule_manifest(r, "to") for r in p.egress]
    return {"apiVersion": API_VERSION, "kind": "NetworkPolicy",
            "metadata": {"name": p.name, "namespace": p.namespace}, "spec": spec}


# --- JSON Patch (RFC 6902: add, replace, remove) ----------------------------------------------


class PatchError(ValueError):
    """A patch operation names a path the document does not have."""


@lru_cache(maxsize=1024)  # a few distinct fields (`spec.podSelector`, ...) for thousands of fixes
def field_pointer(field: str) -> str:
    """`spec.ingress[0].from[1]` as a JSON pointer: `/spec/ingress/0/from/1` (RFC 6901 escaping)."""
    parts = re.findall(r"([^.\[\]]+)|\[(\d+)\]", field)
    return "".join("/" + (key.replace("~", "~0").replace("/", "~1") if key else index) for key, index in parts)


def apply_patch(doc: Mapping[str, Any], ops: Sequence[PatchOp], *, in_place: bool = False) -> Manifest:
    """A copy of `doc` with the RFC 6902 operations applied in order.

    `in_place=True` applies them to `doc` itself and returns it, for a document nothing else holds
    (one fresh from `policy_manifest`): the copy of a whole policy per fix was most of proposing
    thousands of patches. After a PatchError such a document is half patched: drop it.

    Raises:
        PatchError: an operation's path does not exist (or its parent, for `add`).
    """
    out: Manifest = doc if in_place and isinstance(doc, dict) else _copy(dict(doc))
    for op in ops:
        parent, last = _walk(out, op["path"])
        _apply_one(parent, last, op)
    return out


def _copy(value: Any) -> Any:
    """A deep copy of JSON-shaped data (`copy.deepcopy` took seconds for the thousands of fixes of a big bundle)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if value is None or isinstance(value, (str, int, float)):  # bool is an int
        return value
    return copy.deepcopy(value)  # anything else YAML may hold (dates, sets...): the general copy


def _walk(doc: Any, pointer: str) -> tuple[Any, str]:
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
    node = doc
    for token in tokens[:-1]:
        try:
            node = node[int(token)] if isinstance(node, list) else node[token]
        except (KeyError, IndexError, ValueError, TypeError):
            raise PatchError(f"path {pointer} does not exist (at {token!r})") from None
    return node, tokens[-1]


def _apply_one(parent: Any, last: str, op: PatchOp) -> None:
    kind = op["op"]
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if kind == "add":
            parent.insert(index, _copy(op["value"]))
        elif index >= len(parent):
            raise PatchError(f"path {op['path']} does not exist")
        elif kind == "replace":
            parent[index] = _copy(op["value"])
        else:
            del parent[index]
        return
    if not isinstance(parent, dict):
        raise PatchError(f"path {op['path']} does not exist")
    if kind in ("replace", "remove") and last not in parent:
        raise PatchError(f"path {op['path']} does not exist")
    if kind == "remove":
        del parent[last]
    else:
        parent[last] = _copy(op["value"])


# --- builders of least-privilege policies -----------------------------------------------------


def new_policy(namespace: str, name: str, pod_selector: Mapping[str, Any], *,
               ingress: list[dict[str, Any]] | None = None,
               egress: list[dict[str, Any]] | None = None, types: Sequence[str] = (),
               labels: Mapping[str, str] | None = None) -> Manifest:
    """A NetworkPolicy manifest; `types` default to the directions given rules."""
    spec: dict[str, Any] = {"podSelector": dict(pod_selector)}
    kinds = list(types) or [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules is not None]
    spec["policyTypes"] = kinds
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = dict(labels)
    return {"apiVersion": API_VERSION, "kind": "NetworkPolicy", "metadata": meta, "spec": spec}


def namespace_by_name(namespace: str) -> dict[str, Any]:
    """A namespaceSelector for one namespace by the label the API server sets on every namespace."""
    return {"matchLabels": {NAMESPACE_NAME_LABEL: namespace}}


def workload_selector(w: Workload, neighbours: Sequence[Workload]) -> dict[str, Any]:
    """The smallest matchLabels selecting `w` and no other workload of `neighbours` with different labels.

    Prefers the `app`-style keys people select by; falls back to every label of `w`.
    """
    others = [n.labels for n in neighbours if n.id != w.id and n.labels != w.labels]
    for key in ("app.kubernetes.io/name", "app", "k8s-app", "name", "component", "app.kubernetes.io/component"):
        if key in w.labels and not any(o.get(key) == w.labels[key] for o in others):
            return {"matchLabels": {key: w.labels[key]}}
    for key, value in sorted(w.labels.items()):
        if not any(o.get(key) == value for o in others):
            return {"matchLabels": {key: value}}
    return {"matchLabels": dict(sorted(w.labels.items()))}


def workload_peer(w: Workload, from_namespace: str, neighbours: Sequence[Workload]) -> dict[str, Any]:
    """A peer for `w` as seen from a policy in `from_namespace` (namespace by name when it differs)."""
    peer: dict[str, Any] = {"podSelector": workload_selector(w, neighbours)}
    if w.namespace != from_namespace:
        peer = {"namespaceSelector": namespace_by_name(w.namespace), **peer}
    return peer


def port_entries(ports: Sequence[tuple[Protocol, int]]) -> list[dict[str, Any]]:
    """`ports` of a rule, sorted and de-duplicated."""
    return [{"protocol": proto, "port": port} for proto, port in sorted(set(ports), key=lambda pp: (pp[1], pp[0]))]
