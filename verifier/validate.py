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

import difflib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from . import naming
from .ipformat import Network, check_cidr, check_ip, is_strict_subnet
from .documents import FieldPath, Key
from .model import PROTOCOLS, WORKLOAD_KINDS, Severity


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem in one field of an object (the path is relative to the object root)."""

    path: FieldPath
    message: str
    severity: Severity = "error"


Out = list[Violation]

#: Field sets of the networking/v1 and meta/v1 types, for unknown-field checks.
POLICY_TOP_FIELDS = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})
POLICY_SPEC_FIELDS = frozenset({"podSelector", "policyTypes", "ingress", "egress"})
RULE_FIELDS = {"ingress": frozenset({"from", "ports"}), "egress": frozenset({"to", "ports"})}
PEER_FIELDS = frozenset({"podSelector", "namespaceSelector", "ipBlock"})
PORT_FIELDS = frozenset({"protocol", "port", "endPort"})
IPBLOCK_FIELDS = frozenset({"cidr", "except"})
SELECTOR_FIELDS = frozenset({"matchLabels", "matchExpressions"})
REQUIREMENT_FIELDS = frozenset({"key", "operator", "values"})
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
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
    _unknown_fields(obj, POLICY_TOP_FIELDS, (), out)
    _object_meta(obj, naming.dns1123_subdomain, out)
    spec = _mapping(obj.get("spec"), ("spec",), out) or {}
    _unknown_fields(spec, POLICY_SPEC_FIELDS, ("spec",), out)
    _label_selector(spec.get("podSelector"), ("spec", "podSelector"), out)
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(_list(spec.get(direction), ("spec", direction), out)):
            _rule(rule, direction, peers_key, ("spec", direction, i), out)
    _policy_types(spec.get("policyTypes"), out)
    return out


# --- NetworkPolicy parts -------------------------------------------------------------


def _rule(rule: Any, direction: str, peers_key: str, path: FieldPath, out: Out) -> None:
    # A null list element decodes to the zero-valued rule (no peers, no ports): allow all.
    rule = _mapping(rule, path, out) or {}
    _unknown_fields(rule, RULE_FIELDS[direction], path, out)
    for i, port in enumerate(_list(rule.get("ports"), (*path, "ports"), out)):
        _policy_port(port, (*path, "ports", i), out)
    for i, peer in enumerate(_list(rule.get(peers_key), (*path, peers_key), out)):
        _peer(peer, (*path, peers_key, i), out)


def _policy_port(value: Any, path: FieldPath, out: Out) -> None:
    port = _mapping(value, path, out) or {}
    _unknown_fields(port, PORT_FIELDS, path, out)
    _protocol(port.get("protocol"), (*path, "protocol"), out)
    number, end = port.get("port"), port.get("endPort")
    if end is not None and not _is_int(end):
        out.append(Violation((*path, "endPort"), f"must be an integer port number, got {_kind_of(end)}"))
        end = None
    if number is None:
        if end is not None:
            out.append(Violation((*path, "endPort"), "may not be specified when `port` is not specified"))
    elif _is_int(number):
        _numeric_port(number, end, path, out)
    elif isinstance(number, str):
        if end is not None:
            out.append(Violation((*path, "endPort"), "may not be specified when `port` is non-numeric (a named port)"))
        _add(out, (*path, "port"), f"invalid port name {number!r}", naming.port_name(number))
    else:
        out.append(Violation((*path, "port"), f"must be a port number or a port name, got {_kind_of(number)}"))


def _numeric_port(number: int, end: int | None, path: FieldPath, out: Out) -> None:
    _add(out, (*path, "port"), f"invalid port {number}", naming.port_number(number))
    if end is None:
        return
    # "endPort ... must be equal to or greater than port" (NetworkPolicyPort.endPort).
    if end < number:
        out.append(Violation((*path, "endPort"), f"must be greater than or equal to `port` ({end} < {number})"))
    _add(out, (*path, "endPort"), f"invalid endPort {end}", naming.port_number(end))


def _peer(value: Any, path: FieldPath, out: Out) -> None:
    peer = _mapping(value, path, out) or {}
    _unknown_fields(peer, PEER_FIELDS, path, out)
    present = [k for k in ("podSelector", "namespaceSelector", "ipBlock") if peer.get(k) is not None]
    for key in present:
        if key == "ipBlock":
            _ip_block(peer[key], (*path, key), out)
        else:
            _label_selector(peer[key], (*path, key), out)
    if not present:
        out.append(Violation(path, "must specify a peer: set podSelector, namespaceSelector and/or ipBlock "
                             "(to allow every peer, leave the whole `from`/`to` list out)"))
    elif len(present) > 1 and "ipBlock" in present:
        out.append(Violation(path, "may not specify both ipBlock and another peer: "
                             "put the ipBlock in a list item of its own"))


def _ip_block(value: Any, path: FieldPath, out: Out) -> None:
    block = _mapping(value, path, out) or {}
    _unknown_fields(block, IPBLOCK_FIELDS, path, out)
    cidr = block.get("cidr")
    if cidr is None or cidr == "":
        out.append(Violation((*path, "cidr"), "Required value: give the CIDR to allow, e.g. 10.0.0.0/16"))
        return
    if not isinstance(cidr, str):
        out.append(Violation((*path, "cidr"), f"must be a string, got {_kind_of(cidr)}"))
        return
    network, problems = check_cidr(cidr)
    _add(out, (*path, "cidr"), f"invalid CIDR {cidr!r}", problems)
    for i, exc in enumerate(_list(block.get("except"), (*path, "except"), out)):
        _except(exc, network, cidr, (*path, "except", i), out)


def _except(value: Any, network: Network | None, cidr: str, path: FieldPath, out: Out) -> None:
    if not isinstance(value, str):
        out.append(Violation(path, f"must be a CIDR string, got {_kind_of(value)}"))
        return
    inner, problems = check_cidr(value)
    _add(out, path, f"invalid CIDR {value!r}", problems)
    if network is None or inner is None:
        return
    # "Except values will be rejected if they are outside the cidr range" (IPBlock.except);
    # the API server also requires a strictly longer prefix than `cidr`.
    if not is_strict_subnet(inner, network):
        relation = "equals" if inner == network else "is not within"
        out.append(Violation(path, f"{value} {relation} {cidr}: every except must be a strict subset of `cidr`"))


def _policy_types(value: Any, out: Out) -> None:
    path: FieldPath = ("spec", "policyTypes")
    types = _list(value, path, out)
    if len(types) > len(POLICY_TYPES):
        out.append(Violation(path, "may not specify more than two policyTypes"))
        return
    seen: set[str] = set()
    for i, kind in enumerate(types):
        if kind not in POLICY_TYPES:
            hint = _case_hint(kind, POLICY_TYPES)
            out.append(Violation((*path, i), f"Unsupported value: {kind!r}: supported values: \"Ingress\", \"Egress\"{hint}"))
        elif kind in seen:
            # The API server accepts a repeated type (it only limits the count to two).
            out.append(Violation((*path, i), f"{kind} is listed twice", "warning"))
        else:
            seen.add(kind)


# --- metav1 types ----------------------------------------------------------------------


def _label_selector(value: Any, path: FieldPath, out: Out) -> None:
    selector = _mapping(value, path, out)
    if selector is None:
        return
    _unknown_fields(selector, SELECTOR_FIELDS, path, out)
    _labels(selector.get("matchLabels"), (*path, "matchLabels"), out)
    exprs = _list(selector.get("matchExpressions"), (*path, "matchExpressions"), out)
    for i, expr in enumerate(exprs):
        _requirement(expr, (*path, "matchExpressions", i), out)


def _requirement(value: Any, path: FieldPath, out: Out) -> None:
    req = _mapping(value, path, out) or {}
    _unknown_fields(req, REQUIREMENT_FIELDS, path, out)
    key, operator = req.get("key"), req.get("operator")
    values = _list(req.get("values"), (*path, "values"), out)
    if not isinstance(key, str):
        out.append(Violation((*path, "key"), "Required value: a label key is required" if key is None
                             else f"must be a string, got {_kind_of(key)}"))
    else:
        _add(out, (*path, "key"), f"invalid label key {key!r}", naming.qualified_name(key))
    if operator in ("In", "NotIn") and not values:
        out.append(Violation((*path, "values"), f"must be specified when `operator` is '{operator}'"))
    elif operator in ("Exists", "DoesNotExist") and values:
        out.append(Violation((*path, "values"), f"may not be specified when `operator` is '{operator}'"))
    elif operator not in OPERATORS:
        hint = _case_hint(operator, OPERATORS)
        out.append(Violation((*path, "operator"), f"{operator!r} is not a valid selector operator: "
                             f"use In, NotIn, Exists or DoesNotExist{hint}"))
    for i, item in enumerate(values):
        if not isinstance(item, str):
            out.append(Violation((*path, "values", i), f"must be a string, got {_kind_of(item)}{_quote_hint(item)}"))
        else:
            _add(out, (*path, "values", i), f"invalid label value {item!r}", naming.label_value(item))


def _labels(value: Any, path: FieldPath, out: Out) -> None:
    for key, item in (_mapping(value, path, out) or {}).items():
        if type(key) is str and type(item) is str and _valid_label(key, item):
            continue  # the common case, decided by the cached checks below
        where = (*path, Key(str(key)))
        if not isinstance(key, str):
            out.append(Violation(where, f"label keys must be strings, got {_kind_of(key)}{_quote_hint(key)}"))
        else:
            _add(out, where, f"invalid label key {key!r}", naming.qualified_name(key))
        if not isinstance(item, str):
            out.append(Violation(where, f"label values must be strings, got {_kind_of(item)}{_quote_hint(item)}"))
        else:
            _add(out, where, f"invalid label value {item!r}", naming.label_value(item))


@lru_cache(maxsize=65536)
def _valid_label(key: str, value: str) -> bool:
    """Whether a label passes both checks of `_labels` (manifests repeat the same labels)."""
    return not naming.qualified_name(key) and not naming.label_value(value)


def _object_meta(obj: dict[str, Any], name_rule: Callable[[str], Collection[str]], out: Out,
                 namespaced: bool = True) -> None:
    meta = _mapping(obj.get("metadata"), ("metadata",), out)
    if meta is None:
        if obj.get("metadata") is None:
            out.append(Violation(("metadata",), "Required value: metadata.name is required"))
        return
    name = meta.get("name")
    if name is None or name == "":
        out.append(Violation(("metadata", "name"), "Required value: give the object a name"))
    elif not isinstance(name, str):
        out.append(Violation(("metadata", "name"), f"must be a string, got {_kind_of(name)}{_quote_hint(name)}"))
    else:
        _add(out, ("metadata", "name"), f"invalid name {name!r}", name_rule(name))
    namespace = meta.get("namespace")
    if namespaced and namespace is not None:
        if not isinstance(namespace, str):
            out.append(Violation(("metadata", "namespace"), f"must be a string, got {_kind_of(namespace)}"))
        elif namespace:
            _add(out, ("metadata", "namespace"), f"invalid namespace {namespace!r}", naming.dns1123_label(namespace))
    _labels(meta.get("labels"), ("metadata", "labels"), out)
    _string_map(meta.get("annotations"), ("metadata", "annotations"), out)


# --- workloads, services, namespaces ----------------------------------------------------

#: Where each workload kind keeps its pod template.
TEMPLATE_PATHS: dict[str, FieldPath] = {kind: ("spec", "template") for kind in WORKLOAD_KINDS}
TEMPLATE_PATHS["Pod"] = ()
TEMPLATE_PATHS["CronJob"] = ("spec", "jobTemplate", "spec", "template")


def validate_workload(kind: str, obj: dict[str, Any]) -> list[Violation]:
    """Shape checks for a Pod or pod-template owner: names, labels, containers, ports, env."""
    out: Out = []
    _object_meta(obj, naming.dns1123_subdomain, out)
    _optional_int(_get(obj, ("spec", "replicas")), ("spec", "replicas"), out, minimum=0)
    template = _template(obj, TEMPLATE_PATHS[kind], out)
    if template is None:
        return out
    base = TEMPLATE_PATHS[kind]
    if base:
        meta = _mapping(template.get("metadata"), (*base, "metadata"), out) or {}
        _labels(meta.get("labels"), (*base, "metadata", "labels"), out)
        _string_map(meta.get("annotations"), (*base, "metadata", "annotations"), out)
    _pod_spec(template.get("spec"), (*base, "spec"), out)
    if kind == "Pod":
        _pod_status(obj.get("status"), out)
    return out


def _template(obj: dict[str, Any], path: FieldPath, out: Out) -> dict[str, Any] | None:
    node: Any = obj
    for i, seg in enumerate(path):
        raw = node.get(seg)
        node = _mapping(raw, path[: i + 1], out)
        if node is None:
            if raw is None:
                out.append(Violation(path[: i + 1], "Required value: the pod template is missing"))
            return None
    return node if isinstance(node, dict) else None


def _pod_spec(value: Any, path: FieldPath, out: Out) -> None:
    spec = _mapping(value, path, out)
    if spec is None:
        if value is None:
            out.append(Violation(path, "Required value: a pod spec with containers is required"))
        return
    raw = spec.get("containers")
    containers = _list(raw, (*path, "containers"), out)
    if raw is None or raw == []:
        out.append(Violation((*path, "containers"), "Required value: a pod needs at least one container"))
    for field in ("containers", "initContainers"):
        items = containers if field == "containers" else _list(spec.get(field), (*path, field), out)
        for i, container in enumerate(items):
            _container(container, (*path, field, i), out)
    host = spec.get("hostNetwork")
    if host is not None and not isinstance(host, bool):
        out.append(Violation((*path, "hostNetwork"), f"must be true or false, got {_kind_of(host)}"))


def _container(value: Any, path: FieldPath, out: Out) -> None:
    container = _mapping(value, path, out)
    if container is None:
        return
    _connectivity_neutral(_required_string, container.get("name"), (*path, "name"), out)
    for i, port in enumerate(_list(container.get("ports"), (*path, "ports"), out)):
        _container_port(port, (*path, "ports", i), out)
    for i, env in enumerate(_list(container.get("env"), (*path, "env"), out)):
        _env_var(env, (*path, "env", i), out)


def _container_port(value: Any, path: FieldPath, out: Out) -> None:
    port = _mapping(value, path, out) or {}
    number = port.get("containerPort")
    if not _is_int(number):
        message = "Required value" if number is None else f"must be an integer, got {_kind_of(number)}"
        out.append(Violation((*path, "containerPort"), message + _quote_hint(number, unquote=True)))
    else:
        _add(out, (*path, "containerPort"), f"invalid port {number}", naming.port_number(number))
    _protocol(port.get("protocol"), (*path, "protocol"), out)
    name = port.get("name")
    if name is not None:
        if not isinstance(name, str):
            out.append(Violation((*path, "name"), f"must be a string, got {_kind_of(name)}"))
        else:
            _add(out, (*path, "name"), f"invalid port name {name!r}", naming.port_name(name))


def _env_var(value: Any, path: FieldPath, out: Out) -> None:
    env = _mapping(value, path, out) or {}
    _required_string(env.get("name"), (*path, "name"), out)
    item = env.get("value")
    if item is not None and not isinstance(item, str):
        out.append(Violation((*path, "value"), f"must be a string, got {_kind_of(item)}{_quote_hint(item)}"))


def _pod_status(value: Any, out: Out) -> None:
    status = _mapping(value, ("status",), out) or {}
    ip = status.get("podIP")
    if ip is not None:
        _ip(ip, ("status", "podIP"), out)
    for i, entry in enumerate(_list(status.get("podIPs"), ("status", "podIPs"), out)):
        item = _mapping(entry, ("status", "podIPs", i), out) or {}
        _ip(item.get("ip"), ("status", "podIPs", i, "ip"), out)


def _ip(value: Any, path: FieldPath, out: Out) -> None:
    if not isinstance(value, str):
        out.append(Violation(path, f"must be an IP address string, got {_kind_of(value)}"))
    else:
        _add(out, path, f"invalid IP address {value!r}", check_ip(value))


def validate_service(kind: str, obj: dict[str, Any]) -> list[Violation]:
    """Shape checks for a Service: name, selector, ports and target ports."""
    out: Out = []
    _object_meta(obj, naming.dns1035_label, out)
    spec = _mapping(obj.get("spec"), ("spec",), out) or {}
    _string_map(spec.get("selector"), ("spec", "selector"), out)
    kind_of_service = spec.get("type")
    if kind_of_service is not None and not isinstance(kind_of_service, str):
        out.append(Violation(("spec", "type"), f"must be a string, got {_kind_of(kind_of_service)}"))
    for i, port in enumerate(_list(spec.get("ports"), ("spec", "ports"), out)):
        _service_port(port, ("spec", "ports", i), out)
    return out


def _service_port(value: Any, path: FieldPath, out: Out) -> None:
    port = _mapping(value, path, out) or {}
    number = port.get("port")
    if not _is_int(number):
        message = "Required value" if number is None else f"must be an integer, got {_kind_of(number)}"
        out.append(Violation((*path, "port"), message + _quote_hint(number, unquote=True)))
    else:
        _add(out, (*path, "port"), f"invalid port {number}", naming.port_number(number))
    target = port.get("targetPort")
    if target == "" or (_is_int(target) and target == 0):
        pass  # SetDefaults_Service replaces a zero targetPort with `port`
    elif _is_int(target):
        _add(out, (*path, "targetPort"), f"invalid targetPort {target}", naming.port_number(target))
    elif isinstance(target, str):
        _add(out, (*path, "targetPort"), f"invalid targetPort name {target!r}", naming.port_name(target))
    elif target is not None:
        out.append(Violation((*path, "targetPort"), f"must be a port number or name, got {_kind_of(target)}"))
    _protocol(port.get("protocol"), (*path, "protocol"), out)
    _optional_int(port.get("nodePort"), (*path, "nodePort"), out, minimum=0)
    name = port.get("name")
    if name is not None and not isinstance(name, str):
        out.append(Violation((*path, "name"), f"must be a string, got {_kind_of(name)}"))


def validate_namespace(kind: str, obj: dict[str, Any]) -> list[Violation]:
    """Shape checks for a Namespace: an RFC 1123 label name, valid labels."""
    out: Out = []
    _object_meta(obj, naming.dns1123_label, out, namespaced=False)
    return out


_VALIDATORS: dict[str, Callable[[str, dict[str, Any]], list[Violation]]] = {
    "NetworkPolicy": lambda kind, obj: validate_network_policy(obj),
    "Service": validate_service,
    "Namespace": validate_namespace,
    **{kind: validate_workload for kind in WORKLOAD_KINDS},
}


# --- typed access ------------------------------------------------------------------------


def _mapping(value: Any, path: FieldPath, out: Out) -> dict[str, Any] | None:
    """`value` as a mapping; None (JSON null) means absent; anything else is an error."""
    if value is None or isinstance(value, dict):
        return value
    out.append(Violation(path, f"must be a mapping (an object with fields), got {_kind_of(value)}"))
    return None


def _list(value: Any, path: FieldPath, out: Out) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    out.append(Violation(path, f"must be a list, got {_kind_of(value)}"))
    return []


def _string_map(value: Any, path: FieldPath, out: Out) -> None:
    for key, item in (_mapping(value, path, out) or {}).items():
        if not isinstance(key, str) or not isinstance(item, str):
            bad = key if not isinstance(key, str) else item
            out.append(Violation((*path, Key(str(key))), f"keys and values must be strings, got {_kind_of(bad)}{_quote_hint(bad)}"))


def _connectivity_neutral(check: Callable[[Any, FieldPath, Out], None], value: Any, path: FieldPath,
                          out: Out) -> None:
    """Run `check` but report its findings as warnings: the field cannot change connectivity
    (a container's name, say), so the API server would refuse the object but netreason
    keeps it rather than lose its pods' traffic."""
    found: Out = []
    check(value, path, found)
    note = "; the API server would refuse this object, netreason keeps it (the field does not change traffic)"
    out.extend(Violation(v.path, v.message + note, "warning") for v in found)


def _required_string(value: Any, path: FieldPath, out: Out) -> None:
    if value is None or value == "":
        out.append(Violation(path, "Required value"))
    elif not isinstance(value, str):
        out.append(Violation(path, f"must be a string, got {_kind_of(value)}{_quote_hint(value)}"))


def _optional_int(value: Any, path: FieldPath, out: Out, minimum: int) -> None:
    if value is None:
        return
    if not _is_int(value):
        out.append(Violation(path, f"must be an integer, got {_kind_of(value)}{_quote_hint(value, unquote=True)}"))
    elif value < minimum:
        out.append(Violation(path, f"must be greater than or equal to {minimum}"))


def _protocol(value: Any, path: FieldPath, out: Out) -> None:
    # "The protocol (TCP, UDP, or SCTP) which traffic must match. If not specified, this
    # field defaults to TCP."
    if value is None or value in PROTOCOLS:
        return
    hint = _case_hint(value, PROTOCOLS)
    out.append(Violation(path, f"Unsupported value: {value!r}: supported values: \"TCP\", \"UDP\", \"SCTP\"{hint}"))


def _unknown_fields(obj: dict[str, Any], known: frozenset[str], path: FieldPath, out: Out) -> None:
    if known.issuperset(obj):
        return
    for key in obj:
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known fields: {', '.join(sorted(known))})"
            out.append(Violation((*path, str(key)), f"unknown field {str(key)!r}{hint}; "
                                 "kubectl rejects unknown fields by default (--validate=strict)"))


def _get(obj: dict[str, Any], path: FieldPath) -> Any:
    node: Any = obj
    for seg in path:
        if not isinstance(node, dict):
            return None
        node = node.get(seg)
    return node


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _add(out: Out, path: FieldPath, subject: str, problems: Collection[str]) -> None:
    if problems:
        out.extend([Violation(path, f"{subject}: {problem}") for problem in problems])


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             list: "a list", dict: "a mapping"}
    name = names.get(type(value), f"a {type(value).__name__}")
    return f"{name} ({_short(value)})" if isinstance(value, (bool, int, float, str)) else name


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _quote_hint(value: Any, unquote: bool = False) -> str:
    """Point out YAML's implicit typing (`on`, `1.10`, `true`) or a quoted number."""
    if unquote and isinstance(value, str) and value.strip().isdigit():
        return "; write the number without quotes"
    if not unquote and isinstance(value, (bool, int, float)):
        return "; YAML read this as a non-string, so quote it"
    return ""


def _case_hint(value: Any, allowed: tuple[str, ...]) -> str:
    if isinstance(value, str):
        for option in allowed:
            if option.lower() == value.lower():
                return f" (values are case-sensitive: write {option})"
    return ""
