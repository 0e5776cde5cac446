"""Validate AdminNetworkPolicy / BaselineAdminNetworkPolicy as the API server does, and build records.

The rules are the CRD's OpenAPI schema and CEL rules (kubernetes-sigs/network-policy-api,
config/crd/experimental, v1alpha1): priority 0..1000; a subject, a peer and a port each
set exactly one field (min/maxProperties 1); 1..100 peers and at most 100 rules and ports;
rule names at most 100 characters; portNumber/portRange ports 1..65535 with `start < end`;
1..25 `networks`, each a CIDR; no namedPort with a networks or nodes peer ("there are no
namedPorts for networks/nodes"); the BaselineAdminNetworkPolicy must be named `default`.
"""

from __future__ import annotations

from typing import Any

from ..model.admin import AdminKind, AdminPeer, AdminPolicy, AdminPort, AdminRule, AdminSubject
from ..model.bundle import SourceRef
from ..sets.addresses import check_cidr
from . import naming
from .documents import FieldPath
from .fieldcheck import (
    Out,
    Violation,
    add,
    fields,
    is_int,
    kind_of,
    label_selector,
    list_of,
    mapping,
    object_meta,
    protocol,
    unknown_fields,
)
from .objects import selector_from

MAX_RULES = 100
MAX_PEERS = 100
MAX_PORTS = 100
MAX_NETWORKS = 25
MAX_RULE_NAME = 100
TOP_FIELDS = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})
SPEC_FIELDS = {"AdminNetworkPolicy": frozenset({"priority", "subject", "ingress", "egress"}),
               "BaselineAdminNetworkPolicy": frozenset({"subject", "ingress", "egress"})}
SUBJECT_FIELDS = frozenset({"namespaces", "pods"})
PODS_FIELDS = frozenset({"namespaceSelector", "podSelector"})
RULE_FIELDS = {"ingress": frozenset({"name", "action", "from", "ports"}),
               "egress": frozenset({"name", "action", "to", "ports"})}
PEER_FIELDS = {"ingress": frozenset({"namespaces", "pods"}),
               "egress": frozenset({"namespaces", "pods", "nodes", "networks"})}
PORT_FIELDS = frozenset({"portNumber", "portRange", "namedPort"})
ACTIONS = {"AdminNetworkPolicy": ("Allow", "Deny", "Pass"), "BaselineAdminNetworkPolicy": ("Allow", "Deny")}


def validate_admin_policy(kind: str, obj: dict[str, Any]) -> list[Violation]:
    """Every violation of an ANP or BANP object, in document order."""
    out: Out = []
    unknown_fields(obj, TOP_FIELDS, (), out)
    object_meta(obj, naming.dns1123_subdomain, out, namespaced=False)
    raw_meta = obj.get("metadata")
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    if kind == "BaselineAdminNetworkPolicy" and meta.get("name") not in (None, "", "default"):
        # CEL: self.metadata.name == 'default'
        out.append(Violation(("metadata", "name"),
                             'Only one baseline admin network policy with metadata.name="default" '
                             "can be created in the cluster; name it default"))
    spec = mapping(obj.get("spec"), ("spec",), out)
    if spec is None:
        out.append(Violation(("spec",), "Required value: an admin policy needs a spec with a subject"))
        return out
    unknown_fields(spec, SPEC_FIELDS[kind], ("spec",), out)
    if kind == "AdminNetworkPolicy":
        _priority(spec.get("priority"), out)
    _subject(spec.get("subject"), out)
    for direction in ("ingress", "egress"):
        rules = list_of(spec.get(direction), ("spec", direction), out)
        _at_most(rules, MAX_RULES, ("spec", direction), "rules", out)
        for i, rule in enumerate(rules):
            _rule(kind, direction, rule, ("spec", direction, i), out)
    return out


def _priority(value: Any, out: Out) -> None:
    path: FieldPath = ("spec", "priority")
    if value is None:
        out.append(Violation(path, "Required value: give the priority, 0 (checked first) to 1000"))
    elif not is_int(value):
        out.append(Violation(path, f"must be an integer, got {kind_of(value)}"))
    elif not 0 <= value <= 1000:
        out.append(Violation(path, f"{value} must be between 0 and 1000 (lower values are checked first)"))


def _subject(value: Any, out: Out) -> None:
    path: FieldPath = ("spec", "subject")
    subject = mapping(value, path, out)
    if subject is None:
        if value is None:
            out.append(Violation(path, "Required value: give the subject (namespaces or pods)"))
        return
    unknown_fields(subject, SUBJECT_FIELDS, path, out)
    _one_of(subject, SUBJECT_FIELDS, path, out)
    if subject.get("namespaces") is not None:
        label_selector(subject["namespaces"], (*path, "namespaces"), out)
    if subject.get("pods") is not None:
        _namespaced_pods(subject["pods"], (*path, "pods"), out)


def _namespaced_pods(value: Any, path: FieldPath, out: Out) -> None:
    pods = fields(value, PODS_FIELDS, path, out)
    for key in ("namespaceSelector", "podSelector"):
        if pods.get(key) is None:
            out.append(Violation((*path, key), f"Required value: {key} is required ({{}} selects all)"))
        else:
            label_selector(pods[key], (*path, key), out)


def _rule(kind: str, direction: str, value: Any, path: FieldPath, out: Out) -> None:
    rule = fields(value, RULE_FIELDS[direction], path, out)
    name = rule.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > MAX_RULE_NAME):
        out.append(Violation((*path, "name"), f"must be a string of at most {MAX_RULE_NAME} characters"))
    action = rule.get("action")
    if action not in ACTIONS[kind]:
        allowed = ", ".join(f'"{a}"' for a in ACTIONS[kind])
        got = "Required value" if action is None else f"Unsupported value: {action!r}"
        out.append(Violation((*path, "action"), f"{got}: supported values: {allowed}"))
    key = "from" if direction == "ingress" else "to"
    peers = list_of(rule.get(key), (*path, key), out)
    if not peers:
        out.append(Violation((*path, key), f"Required value: `{key}` must list at least one peer"))
    _at_most(peers, MAX_PEERS, (*path, key), "peers", out)
    for i, peer in enumerate(peers):
        _peer(direction, peer, (*path, key, i), out)
    _ports(rule, path, out)
    _named_port_with_networks(rule, peers, path, out)


def _peer(direction: str, value: Any, path: FieldPath, out: Out) -> None:
    peer = fields(value, PEER_FIELDS[direction], path, out)
    _one_of(peer, PEER_FIELDS[direction], path, out)
    for key in ("namespaces", "nodes"):
        if peer.get(key) is not None:
            label_selector(peer[key], (*path, key), out)
    if peer.get("pods") is not None:
        _namespaced_pods(peer["pods"], (*path, "pods"), out)
    if "networks" in peer:
        _networks(peer["networks"], (*path, "networks"), out)


def _networks(value: Any, path: FieldPath, out: Out) -> None:
    networks = list_of(value, path, out)
    if not networks:
        out.append(Violation(path, "must list at least one CIDR"))
    _at_most(networks, MAX_NETWORKS, path, "CIDRs", out)
    for i, cidr in enumerate(networks):
        if not isinstance(cidr, str):
            out.append(Violation((*path, i), f"must be a CIDR string, got {kind_of(cidr)}"))
            continue
        _, problems = check_cidr(cidr)
        add(out, (*path, i), f"invalid CIDR {cidr!r}", problems)


def _ports(rule: dict[str, Any], path: FieldPath, out: Out) -> None:
    if "ports" not in rule or rule["ports"] is None:
        return
    ports = list_of(rule["ports"], (*path, "ports"), out)
    _at_most(ports, MAX_PORTS, (*path, "ports"), "ports", out)
    for i, port in enumerate(ports):
        _port(port, (*path, "ports", i), out)


def _port(value: Any, path: FieldPath, out: Out) -> None:
    port = fields(value, PORT_FIELDS, path, out)
    _one_of(port, PORT_FIELDS, path, out)
    if port.get("portNumber") is not None:
        number = mapping(port["portNumber"], (*path, "portNumber"), out) or {}
        protocol(number.get("protocol"), (*path, "portNumber", "protocol"), out)
        _port_value(number.get("port"), (*path, "portNumber", "port"), out)
    if port.get("portRange") is not None:
        _port_range(port["portRange"], (*path, "portRange"), out)
    name = port.get("namedPort")
    if name is not None:
        if not isinstance(name, str):
            out.append(Violation((*path, "namedPort"), f"must be a string, got {kind_of(name)}"))
        else:
            add(out, (*path, "namedPort"), f"invalid port name {name!r}", naming.port_name(name))


def _port_range(value: Any, path: FieldPath, out: Out) -> None:
    rng = mapping(value, path, out) or {}
    protocol(rng.get("protocol"), (*path, "protocol"), out)
    start, end = rng.get("start"), rng.get("end")
    ok = _port_value(start, (*path, "start"), out) & _port_value(end, (*path, "end"), out)
    if ok and isinstance(start, int) and isinstance(end, int) and start >= end:
        # CEL: self.start < self.end
        out.append(Violation(path, f"Start port must be less than End port ({start} >= {end}); "
                             "for one port use portNumber"))


def _port_value(value: Any, path: FieldPath, out: Out) -> bool:
    if value is None:
        out.append(Violation(path, "Required value: give a port number 1-65535"))
    elif not is_int(value):
        out.append(Violation(path, f"must be an integer, got {kind_of(value)}"))
    elif not 1 <= value <= 65535:
        out.append(Violation(path, f"{value} must be between 1 and 65535"))
    else:
        return True
    return False


def _named_port_with_networks(rule: dict[str, Any], peers: list[Any], path: FieldPath, out: Out) -> None:
    raw = rule.get("ports")
    ports: list[Any] = raw if isinstance(raw, list) else []
    named = any(isinstance(p, dict) and "namedPort" in p for p in ports)
    outside = any(isinstance(p, dict) and ("networks" in p or "nodes" in p) for p in peers)
    if named and outside:
        out.append(Violation(path, "networks/nodes peer cannot be set with namedPorts since there are no "
                             "namedPorts for networks/nodes; use portNumber or portRange"))


def _one_of(obj: dict[str, Any], fields: frozenset[str], path: FieldPath, out: Out) -> None:
    present = [k for k in sorted(fields) if obj.get(k) is not None]
    if len(present) != 1:
        which = "none" if not present else " and ".join(present)
        out.append(Violation(path, f"exactly one of {', '.join(sorted(fields))} must be set, found {which}"))


def _at_most(items: list[Any], limit: int, path: FieldPath, what: str, out: Out) -> None:
    if len(items) > limit:
        out.append(Violation(path, f"Too many: {len(items)}: must have at most {limit} {what}"))


# --- records --------------------------------------------------------------------------------


def admin_policy_from(kind: str, data: dict[str, Any], source: SourceRef | None = None) -> AdminPolicy:
    """An AdminPolicy from a validated object (protocol defaults to TCP)."""
    spec = data["spec"]
    admin_kind: AdminKind = "AdminNetworkPolicy" if kind == "AdminNetworkPolicy" else "BaselineAdminNetworkPolicy"
    return AdminPolicy(
        kind=admin_kind,
        name=data["metadata"]["name"],
        subject=_subject_from(spec["subject"]),
        priority=spec.get("priority") if kind == "AdminNetworkPolicy" else None,
        ingress=tuple(_rule_from(r, "from") for r in spec.get("ingress") or ()),
        egress=tuple(_rule_from(r, "to") for r in spec.get("egress") or ()),
        source=source,
    )


def _subject_from(subject: dict[str, Any]) -> AdminSubject:
    if subject.get("namespaces") is not None:
        return AdminSubject(selector_from(subject["namespaces"]))
    pods = subject["pods"]
    return AdminSubject(selector_from(pods["namespaceSelector"]), selector_from(pods["podSelector"]))


def _rule_from(rule: dict[str, Any], key: str) -> AdminRule:
    # "If Ports is not set then the rule does not filter traffic via port."
    ports = rule.get("ports")
    return AdminRule(rule["action"], tuple(_peer_from(p) for p in rule[key]),
                     tuple(_port_from(p) for p in ports) if ports is not None else None, rule.get("name") or "")


def _peer_from(peer: dict[str, Any]) -> AdminPeer:
    if peer.get("namespaces") is not None:
        return AdminPeer(namespaces=selector_from(peer["namespaces"]))
    if peer.get("pods") is not None:
        pods = peer["pods"]
        return AdminPeer(namespaces=selector_from(pods["namespaceSelector"]), pods=selector_from(pods["podSelector"]))
    if peer.get("nodes") is not None:
        return AdminPeer(nodes=selector_from(peer["nodes"]))
    return AdminPeer(networks=tuple(peer["networks"]))


def _port_from(port: dict[str, Any]) -> AdminPort:
    if port.get("namedPort") is not None:
        return AdminPort(name=port["namedPort"])
    if port.get("portNumber") is not None:
        number = port["portNumber"]
        return AdminPort(number.get("protocol") or "TCP", number["port"], number["port"])
    rng = port["portRange"]
    return AdminPort(rng.get("protocol") or "TCP", rng["start"], rng["end"])
