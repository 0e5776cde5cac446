"""API-server validation of manifest objects, before they become model records.

NetworkPolicies are checked as kubernetes/kubernetes `pkg/apis/networking/validation`
(`ValidateNetworkPolicy`) and apimachinery's label-selector validation do for a newly
created object, after the JSON decoding step that rejects wrongly typed fields. With
kubectl's default `--validate=strict`, unknown fields are rejected too, so a misspelt
`podselector:` is reported instead of silently meaning "no selector".

Workloads, Services and Namespaces get the shape checks the builders rely on (types,
names, ports), enough that garbage never crashes the loader. Every check returns all of
its problems; nothing stops at the first one. This module holds the validation messages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model.bundle import WORKLOAD_KINDS
from ..sets.addresses import Network, check_cidr, check_ip, is_strict_subnet
from . import naming
from .documents import FieldPath
from .fieldcheck import (
    Out,
    Violation,
    add,
    case_hint,
    fields,
    get_path,
    is_int,
    kind_of,
    label_map,
    label_selector,
    list_of,
    mapping,
    object_meta,
    optional_int,
    protocol,
    quote_hint,
    required_string,
    string_map,
    unknown_fields,
)

#: Field sets of the networking/v1 and meta/v1 types, for unknown-field checks.
POLICY_TOP_FIELDS = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})
POLICY_SPEC_FIELDS = frozenset({"podSelector", "policyTypes", "ingress", "egress"})
RULE_FIELDS = {"ingress": frozenset({"from", "ports"}), "egress": frozenset({"to", "ports"})}
PEER_FIELDS = frozenset({"podSelector", "namespaceSelector", "ipBlock"})
PORT_FIELDS = frozenset({"protocol", "port", "endPort"})
IPBLOCK_FIELDS = frozenset({"cidr", "except"})
POLICY_TYPES = ("Ingress", "Egress")


def validate_object(kind: str, obj: dict[str, Any]) -> list[Violation]:
    """Validate one object of a kind netreason models; other kinds get no checks.

    Returns every violation found, errors and warnings, in document order.
    """
    check = _VALIDATORS.get(kind)
    return check(kind, obj) if check else []


def validate_network_policy(obj: dict[str, Any]) -> list[Violation]:
    """Validate a NetworkPolicy as the API server does on create (see module docstring)."""
    out: Out = []
    unknown_fields(obj, POLICY_TOP_FIELDS, (), out)
    object_meta(obj, naming.dns1123_subdomain, out)
    spec = fields(obj.get("spec"), POLICY_SPEC_FIELDS, ("spec",), out)
    label_selector(spec.get("podSelector"), ("spec", "podSelector"), out)
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(list_of(spec.get(direction), ("spec", direction), out)):
            _rule(rule, direction, peers_key, ("spec", direction, i), out)
    _policy_types(spec.get("policyTypes"), out)
    return out


# --- NetworkPolicy parts -------------------------------------------------------------


def _rule(rule: Any, direction: str, peers_key: str, path: FieldPath, out: Out) -> None:
    # A null list element decodes to the zero-valued rule (no peers, no ports): allow all.
    rule = fields(rule, RULE_FIELDS[direction], path, out)
    for i, port in enumerate(list_of(rule.get("ports"), (*path, "ports"), out)):
        _policy_port(port, (*path, "ports", i), out)
    for i, peer in enumerate(list_of(rule.get(peers_key), (*path, peers_key), out)):
        _peer(peer, (*path, peers_key, i), out)


def _policy_port(value: Any, path: FieldPath, out: Out) -> None:
    port = fields(value, PORT_FIELDS, path, out)
    protocol(port.get("protocol"), (*path, "protocol"), out)
    number, end = port.get("port"), port.get("endPort")
    if end is not None and not is_int(end):
        out.append(Violation((*path, "endPort"), f"must be an integer port number, got {kind_of(end)}"))
        end = None
    if number is None:
        if end is not None:
            out.append(Violation((*path, "endPort"), "may not be specified when `port` is not specified"))
    elif is_int(number):
        _numeric_port(number, end, path, out)
    elif isinstance(number, str):
        if end is not None:
            out.append(Violation((*path, "endPort"), "may not be specified when `port` is non-numeric (a named port)"))
        add(out, (*path, "port"), f"invalid port name {number!r}", naming.port_name(number))
    else:
        out.append(Violation((*path, "port"), f"must be a port number or a port name, got {kind_of(number)}"))


def _numeric_port(number: int, end: int | None, path: FieldPath, out: Out) -> None:
    add(out, (*path, "port"), f"invalid port {number}", naming.port_number(number))
    if end is None:
        return
    # "endPort ... must be equal to or greater than port" (NetworkPolicyPort.endPort).
    if end < number:
        out.append(Violation((*path, "endPort"), f"must be greater than or equal to `port` ({end} < {number})"))
    add(out, (*path, "endPort"), f"invalid endPort {end}", naming.port_number(end))


def _peer(value: Any, path: FieldPath, out: Out) -> None:
    peer = fields(value, PEER_FIELDS, path, out)
    present = [k for k in ("podSelector", "namespaceSelector", "ipBlock") if peer.get(k) is not None]
    for key in present:
        if key == "ipBlock":
            _ip_block(peer[key], (*path, key), out)
        else:
            label_selector(peer[key], (*path, key), out)
    if not present:
        out.append(Violation(path, "must specify a peer: set podSelector, namespaceSelector and/or ipBlock "
                             "(to allow every peer, leave the whole `from`/`to` list out)"))
    elif len(present) > 1 and "ipBlock" in present:
        out.append(Violation(path, "may not specify both ipBlock and another peer: "
                             "put the ipBlock in a list item of its own"))


def _ip_block(value: Any, path: FieldPath, out: Out) -> None:
    block = fields(value, IPBLOCK_FIELDS, path, out)
    cidr = block.get("cidr")
    if cidr is None or cidr == "":
        out.append(Violation((*path, "cidr"), "Required value: give the CIDR to allow, e.g. 10.0.0.0/16"))
        return
    if not isinstance(cidr, str):
        out.append(Violation((*path, "cidr"), f"must be a string, got {kind_of(cidr)}"))
        return
    network, problems = check_cidr(cidr)
    add(out, (*path, "cidr"), f"invalid CIDR {cidr!r}", problems)
    for i, exc in enumerate(list_of(block.get("except"), (*path, "except"), out)):
        _except(exc, network, cidr, (*path, "except", i), out)


def _except(value: Any, network: Network | None, cidr: str, path: FieldPath, out: Out) -> None:
    if not isinstance(value, str):
        out.append(Violation(path, f"must be a CIDR string, got {kind_of(value)}"))
        return
    inner, problems = check_cidr(value)
    add(out, path, f"invalid CIDR {value!r}", problems)
    if network is None or inner is None:
        return
    # "Except values will be rejected if they are outside the cidr range" (IPBlock.except);
    # the API server also requires a strictly longer prefix than `cidr`.
    if not is_strict_subnet(inner, network):
        relation = "equals" if inner == network else "is not within"
        out.append(Violation(path, f"{value} {relation} {cidr}: every except must be a strict subset of `cidr`"))


def _policy_types(value: Any, out: Out) -> None:
    path: FieldPath = ("spec", "policyTypes")
    types = list_of(value, path, out)
    if len(types) > len(POLICY_TYPES):
        out.append(Violation(path, "may not specify more than two policyTypes"))
        return
    seen: set[str] = set()
    for i, kind in enumerate(types):
        if kind not in POLICY_TYPES:
            hint = case_hint(kind, POLICY_TYPES)
            out.append(Violation((*path, i),
                                 f"Unsupported value: {kind!r}: supported values: \"Ingress\", \"Egress\"{hint}"))
        elif kind in seen:
            # The API server accepts a repeated type (it only limits the count to two).
            out.append(Violation((*path, i), f"{kind} is listed twice", "warning"))
        else:
            seen.add(kind)


# --- workloads, services, namespaces ----------------------------------------------------

#: Where each workload kind keeps its pod template.
TEMPLATE_PATHS: dict[str, FieldPath] = {kind: ("spec", "template") for kind in WORKLOAD_KINDS}
TEMPLATE_PATHS["Pod"] = ()
TEMPLATE_PATHS["CronJob"] = ("spec", "jobTemplate", "spec", "template")


def validate_workload(kind: str, obj: dict[str, Any]) -> list[Violation]:
    """Shape checks for a Pod or pod-template owner: names, labels, containers, ports, env."""
    out: Out = []
    object_meta(obj, naming.dns1123_subdomain, out)
    optional_int(get_path(obj, ("spec", "replicas")), ("spec", "replicas"), out, minimum=0)
    template = _template(obj, TEMPLATE_PATHS[kind], out)
    if template is None:
        return out
    base = TEMPLATE_PATHS[kind]
    if base:
        meta = mapping(template.get("metadata"), (*base, "metadata"), out) or {}
        label_map(meta.get("labels"), (*base, "metadata", "labels"), out)
        string_map(meta.get("annotations"), (*base, "metadata", "annotations"), out)
    _pod_spec(template.get("spec"), (*base, "spec"), out)
    if kind == "Pod":
        _pod_status(obj.get("status"), out)
    return out


def _template(obj: dict[str, Any], path: FieldPath, out: Out) -> dict[str, Any] | None:
    node: Any = obj
    for i, seg in enumerate(path):
        raw = node.get(seg)
        node = mapping(raw, path[: i + 1], out)
        if node is None:
            if raw is None:
                out.append(Violation(path[: i + 1], "Required value: the pod template is missing"))
            return None
    return node if isinstance(node, dict) else None


def _pod_spec(value: Any, path: FieldPath, out: Out) -> None:
    spec = mapping(value, path, out)
    if spec is None:
        if value is None:
            out.append(Violation(path, "Required value: a pod spec with containers is required"))
        return
    raw = spec.get("containers")
    containers = list_of(raw, (*path, "containers"), out)
    if raw is None or raw == []:
        out.append(Violation((*path, "containers"), "Required value: a pod needs at least one container"))
    for field in ("containers", "initContainers"):
        items = containers if field == "containers" else list_of(spec.get(field), (*path, field), out)
        for i, container in enumerate(items):
            _container(container, (*path, field, i), out)
    host = spec.get("hostNetwork")
    if host is not None and not isinstance(host, bool):
        out.append(Violation((*path, "hostNetwork"), f"must be true or false, got {kind_of(host)}"))


def _container(value: Any, path: FieldPath, out: Out) -> None:
    container = mapping(value, path, out)
    if container is None:
        return
    _connectivity_neutral(required_string, container.get("name"), (*path, "name"), out)
    for i, port in enumerate(list_of(container.get("ports"), (*path, "ports"), out)):
        _container_port(port, (*path, "ports", i), out)
    for i, env in enumerate(list_of(container.get("env"), (*path, "env"), out)):
        _env_var(env, (*path, "env", i), out)


def _container_port(value: Any, path: FieldPath, out: Out) -> None:
    port = mapping(value, path, out) or {}
    number = port.get("containerPort")
    if not is_int(number):
        message = "Required value" if number is None else f"must be an integer, got {kind_of(number)}"
        out.append(Violation((*path, "containerPort"), message + quote_hint(number, unquote=True)))
    else:
        add(out, (*path, "containerPort"), f"invalid port {number}", naming.port_number(number))
    protocol(port.get("protocol"), (*path, "protocol"), out)
    name = port.get("name")
    if name is not None:
        if not isinstance(name, str):
            out.append(Violation((*path, "name"), f"must be a string, got {kind_of(name)}"))
        else:
            add(out, (*path, "name"), f"invalid port name {name!r}", naming.port_name(name))


def _env_var(value: Any, path: FieldPath, out: Out) -> None:
    env = mapping(value, path, out) or {}
    required_string(env.get("name"), (*path, "name"), out)
    item = env.get("value")
    if item is not None and not isinstance(item, str):
        out.append(Violation((*path, "value"), f"must be a string, got {kind_of(item)}{quote_hint(item)}"))


def _pod_status(value: Any, out: Out) -> None:
    status = mapping(value, ("status",), out) or {}
    ip = status.get("podIP")
    if ip is not None:
        _ip(ip, ("status", "podIP"), out)
    for i, entry in enumerate(list_of(status.get("podIPs"), ("status", "podIPs"), out)):
        item = mapping(entry, ("status", "podIPs", i), out) or {}
        _ip(item.get("ip"), ("status", "podIPs", i, "ip"), out)


def _ip(value: Any, path: FieldPath, out: Out) -> None:
    if not isinstance(value, str):
        out.append(Violation(path, f"must be an IP address string, got {kind_of(value)}"))
    else:
        add(out, path, f"invalid IP address {value!r}", check_ip(value))


def validate_service(kind: str, obj: dict[str, Any]) -> list[Violation]:
    """Shape checks for a Service: name, selector, ports and target ports."""
    out: Out = []
    object_meta(obj, naming.dns1035_label, out)
    spec = mapping(obj.get("spec"), ("spec",), out) or {}
    string_map(spec.get("selector"), ("spec", "selector"), out)
    kind_of_service = spec.get("type")
    if kind_of_service is not None and not isinstance(kind_of_service, str):
        out.append(Violation(("spec", "type"), f"must be a string, got {kind_of(kind_of_service)}"))
    for i, port in enumerate(list_of(spec.get("ports"), ("spec", "ports"), out)):
        _service_port(port, ("spec", "ports", i), out)
    return out


def _service_port(value: Any, path: FieldPath, out: Out) -> None:
    port = mapping(value, path, out) or {}
    number = port.get("port")
    if not is_int(number):
        message = "Required value" if number is None else f"must be an integer, got {kind_of(number)}"
        out.append(Violation((*path, "port"), message + quote_hint(number, unquote=True)))
    else:
        add(out, (*path, "port"), f"invalid port {number}", naming.port_number(number))
    target = port.get("targetPort")
    if target == "" or (is_int(target) and target == 0):
        pass  # SetDefaults_Service replaces a zero targetPort with `port`
    elif is_int(target):
        add(out, (*path, "targetPort"), f"invalid targetPort {target}", naming.port_number(target))
    elif isinstance(target, str):
        add(out, (*path, "targetPort"), f"invalid targetPort name {target!r}", naming.port_name(target))
    elif target is not None:
        out.append(Violation((*path, "targetPort"), f"must be a port number or name, got {kind_of(target)}"))
    protocol(port.get("protocol"), (*path, "protocol"), out)
    optional_int(port.get("nodePort"), (*path, "nodePort"), out, minimum=0)
    name = port.get("name")
    if name is not None and not isinstance(name, str):
        out.append(Violation((*path, "name"), f"must be a string, got {kind_of(name)}"))


def validate_namespace(kind: str, obj: dict[str, Any]) -> list[Violation]:
    """Shape checks for a Namespace: an RFC 1123 label name, valid labels."""
    out: Out = []
    object_meta(obj, naming.dns1123_label, out, namespaced=False)
    return out


_VALIDATORS: dict[str, Callable[[str, dict[str, Any]], list[Violation]]] = {
    "NetworkPolicy": lambda kind, obj: validate_network_policy(obj),
    "Service": validate_service,
    "Namespace": validate_namespace,
    **{kind: validate_workload for kind in WORKLOAD_KINDS},
}


def _connectivity_neutral(check: Callable[[Any, FieldPath, Out], None], value: Any, path: FieldPath,
                          out: Out) -> None:
    """Run `check` but report its findings as warnings: the field cannot change connectivity
    (a container's name, say), so the API server would refuse the object but netreason
    keeps it rather than lose its pods' traffic."""
    found: Out = []
    check(value, path, found)
    note = "; the API server would refuse this object, netreason keeps it (the field does not change traffic)"
    out.extend(Violation(v.path, v.message + note, "warning") for v in found)
