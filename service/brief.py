"""The cluster brief: what a prompt shows the model instead of raw YAML.

A brief is a compact, deterministic text rendering of a parsed `Bundle`: namespaces and
their labels, workloads with labels and ports, Services, each NetworkPolicy in a dense
normalized form, and the app dependencies. The notation is explained to the model by the
prompt fragment `brief-notation@1`; an example line:

    payments/api-to-db: selects app=db; isolates ingress; in[0]: from {pods app=api} ports TCP/5432

What never appears, by construction: env values and env var names, annotations, images,
commands, Secret and ConfigMap data, file names. The bundle does not hold the last four;
env and annotations stay on `Workload` for dependency inference and are not read here.
Env var names are left out too: dependencies reach the brief as explicit records, and
names such as `DB_PASSWORD` would add tokens without answering any question.

Everything is sorted (namespaces, objects by `namespace/name`, labels by key, selector
requirements by key), so the same bundle gives the same text whatever the file order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from service.brief_admin import admin_sections
from verifier import records
from verifier.model import (
    NAMESPACE_NAME_LABEL,
    Bundle,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Rule,
    Service,
    Workload,
)

BRIEF_VERSION = "brief@1"

# Dependency `source` is printed only when it is a plain tag such as `declared` or `env`:
# evidence strings can quote env values (`env DB_HOST=...`), which must stay on the machine.
_SOURCE_TAG = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")


@runtime_checkable
class DependencyLike(Protocol):
    """A dependency record with `from_`, `to`, `port`, `protocol`, `source` attributes."""

    @property
    def from_(self) -> str: ...
    @property
    def to(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def protocol(self) -> str: ...
    @property
    def source(self) -> str: ...


#: What `as_dependency` accepts: a `DependencyLike`, a `verifier.records.Dependency`, or a mapping.
DependencyInput = object


@dataclass(frozen=True, slots=True)
class Dependency:
    """`from_` (a workload id) opens connections to `to` (a Service or workload id) on port/protocol."""

    from_: str
    to: str
    port: int
    protocol: str = "TCP"
    source: str = "declared"


def as_dependency(record: DependencyInput) -> Dependency:
    """Coerce a dependency record (object or mapping) into a `Dependency`.

    Mappings may use `from` or `from_`; when they carry `namespace` (as the corpus
    `deps.yaml` does), bare names in `from`/`to` are qualified with it. A
    `verifier.records.Dependency` (fields `src`, `dst`, `service`...) is shown as the client
    dials it: to its Service on the Service port, else to its workload or CIDR.

    Raises:
        ValueError: a required field (from, to, port) is missing.
    """
    if isinstance(record, Dependency):
        return record
    if isinstance(record, records.Dependency):
        return _from_record(record)  # show what the client dials
    if not isinstance(record, Mapping):
        if not isinstance(record, DependencyLike):
            raise ValueError(f"not a dependency record: {record!r}")
        return Dependency(record.from_, record.to, int(record.port), record.protocol, record.source)
    try:
        src, dst, port = record.get("from", record.get("from_")), record["to"], int(record["port"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"dependency record needs from, to and port: {sorted(record)}") from exc
    if src is None:
        raise ValueError(f"dependency record needs from, to and port: {sorted(record)}")
    ns = record.get("namespace")
    if ns:
        src, dst = _qualify(str(src), ns), _qualify(str(dst), ns)
    return Dependency(str(src), str(dst), port, str(record.get("protocol", "TCP")), str(record.get("source", "declared")))


def _from_record(record: records.Dependency) -> Dependency:
    """A `verifier.records.Dependency`: through its Service (and Service port) when it has one."""
    if record.service:
        return Dependency(record.src, record.service, record.service_port or record.port, record.protocol, record.source)
    return Dependency(record.src, str(record.dst or record.cidr), record.port, record.protocol, record.source)


def _qualify(name: str, namespace: str) -> str:
    return name if "/" in name else f"{namespace}/{name}"


def render_brief(bundle: Bundle, dependencies: Iterable[DependencyInput] = ()) -> str:
    """Render `bundle` (and optional dependency records) as the cluster brief text.

    Deterministic: equal bundles give byte-identical briefs. Never includes env values,
    env var names, annotations or anything the bundle does not model (images, Secrets).
    """
    deps = sorted({as_dependency(d) for d in dependencies}, key=_dep_key)
    sections = [
        _section("namespaces", [_namespace_line(ns) for ns in _sorted_namespaces(bundle)]),
        _section("workloads", [_workload_line(w) for w in sorted(bundle.workloads, key=_obj_key)]),
        _section("services", [_service_line(s) for s in sorted(bundle.services, key=_obj_key)]),
        _section("policies", [_policy_line(p) for p in sorted(bundle.policies, key=_obj_key)]),
        _section("dependencies", [_dependency_line(d) for d in deps]),
    ]
    sections += admin_sections(bundle)
    if bundle.skipped_kinds:
        skipped = ", ".join(f"{kind} x{n}" for kind, n in sorted(bundle.skipped_kinds.items()))
        sections.append(f"not modelled: {skipped}")
    return "\n".join(sections) + "\n"


def _section(title: str, lines: Sequence[str]) -> str:
    if not lines:
        return f"{title}: none"
    return "\n".join([f"{title}:", *(f"  {line}" for line in lines)])


def _obj_key(obj: Workload | Service | NetworkPolicy) -> tuple[str, str, str]:
    return (obj.namespace, obj.name, type(obj).__name__)


def _dep_key(dep: Dependency) -> tuple[str, str, int, str, str]:
    return (dep.from_, dep.to, dep.port, dep.protocol, dep.source)


def _sorted_namespaces(bundle: Bundle) -> list[Namespace]:
    return [bundle.namespaces[name] for name in sorted(bundle.namespaces)]


def _labels(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "-"


def _namespace_line(ns: Namespace) -> str:
    # Every namespace carries kubernetes.io/metadata.name=<name> (set by the API server
    # since 1.21); the notation fragment says so, and the brief prints it only if it differs.
    labels = {k: v for k, v in ns.labels.items() if not (k == NAMESPACE_NAME_LABEL and v == ns.name)}
    note = " (not defined in the bundle)" if ns.implicit else ""
    return f"{ns.name}: {_labels(labels)}{note}"


def _workload_line(w: Workload) -> str:
    parts = [f"{w.id} {w.kind}: {_labels(w.labels)}"]
    ports = ",".join(
        f"{p.protocol}/{p.port}" + (f"({p.name})" if p.name else "")
        for p in sorted(w.ports, key=lambda p: (p.port, p.protocol, p.name or ""))
    )
    parts.append(f"ports {ports or '-'}")
    if w.host_network:
        parts.append("hostNetwork")
    if w.pod_ips:
        parts.append("ips " + ",".join(sorted(w.pod_ips)))
    return "; ".join(parts)


def _service_line(s: Service) -> str:
    kind = "" if s.type == "ClusterIP" else f" {s.type}"
    selects = "no selector" if s.selector is None else f"selects {_labels(s.selector)}"
    ports = ",".join(
        f"{p.protocol}/{p.port}" + ("" if p.target_port == p.port else f"->{p.target_port}")
        for p in sorted(s.ports, key=lambda p: (p.port, p.protocol))
    )
    return f"{s.id}{kind}: {selects}; ports {ports or '-'}"


def _dependency_line(d: Dependency) -> str:
    source = d.source if _SOURCE_TAG.match(d.source) else "other"
    return f"{d.from_} -> {d.to} {d.protocol}/{d.port} ({source})"


def _selector(sel: LabelSelector) -> str:
    """`*` for the empty selector (matches everything), else requirements sorted by key."""
    if sel.is_empty:
        return "*"
    return ",".join(str(r) for r in sorted(sel.requirements, key=lambda r: (r.key, r.operator, r.values)))


def _peer(peer: Peer) -> str:
    if peer.ip_block is not None:
        return f"{{ip {peer.ip_block}}}"
    parts = []
    if peer.namespace_selector is not None:
        parts.append(f"ns {_selector(peer.namespace_selector)}")
    if peer.pod_selector is not None:
        parts.append(f"pods {_selector(peer.pod_selector)}")
    return "{" + "; ".join(parts) + "}"


def _port(p: PolicyPort) -> str:
    if p.port is None:
        return f"{p.protocol}/*"
    if p.end_port is not None:
        return f"{p.protocol}/{p.port}-{p.end_port}"
    return f"{p.protocol}/{p.port}"


def _rule(rule: Rule, label: str, word: str) -> str:
    peers = "any" if rule.peers is None else " or ".join(_peer(p) for p in rule.peers)
    ports = "all" if rule.ports is None else ",".join(_port(p) for p in rule.ports)
    return f"{label}: {word} {peers} ports {ports}"


def _direction(rules: tuple[Rule, ...], affected: bool, prefix: str, word: str, name: str) -> list[str]:
    if not affected:
        # "policyTypes ... If this field is not specified, it will default based on the
        # existence of ingress or egress rules" -- rules of a type not listed are ignored.
        return [f"{name} rules ignored (not in policyTypes)"] if rules else []
    if not rules:
        return [f"{prefix}: none (denies all {name})"]
    return [_rule(r, f"{prefix}[{i}]", word) for i, r in enumerate(rules)]


def _policy_line(p: NetworkPolicy) -> str:
    isolates = ",".join(t.lower() for t in ("Ingress", "Egress") if t in p.policy_types) or "nothing"
    parts = [f"{p.id}: selects {_selector(p.pod_selector)}", f"isolates {isolates}"]
    parts += _direction(p.ingress, p.affects_ingress, "in", "from", "ingress")
    parts += _direction(p.egress, p.affects_egress, "eg", "to", "egress")
    return "; ".join(parts)
