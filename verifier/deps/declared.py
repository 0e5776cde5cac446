"""Declared dependencies: the `deps.yaml` format, read into workload-to-workload flows.

Each entry is a mapping::

    - from: checkoutservice        # client workload; `namespace/name` for another namespace
      to: emailservice             # a Service, a workload, or a CIDR / IP address
      namespace: default           # namespace of bare names in `from` and `to`
      port: 5000                   # Service port dialled (a container port for a workload)
      protocol: TCP                # default TCP

Other keys (`target_port`, `evidence`, `expected`, ...) are ignored, except that a
`target_port` that disagrees with the Service is reported. A Service becomes one
dependency per workload its selector picks, on the container port its target port names
there. A name that matches nothing is an error Issue naming the entry and the closest names.

Without a bundle (a brief read back, a claim, a caller's list) an entry is taken as written by
`as_dependency`, and `as_entry` writes a dependency back as the entry its client dials.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import yaml

from ..model.bundle import PROTOCOLS, Bundle, Issue, Protocol, Service, ServicePort, Severity, SourceRef, Workload
from ..model.records import Dependency, DependencySource
from ..sets.addresses import parse_network
from ..suggest import LOOSE_CUTOFF, closest_names
from .endpoints import Endpoint, describe_ports, find_service, find_workload, service_endpoints


#: What `as_dependency` takes: a record, or a mapping as a deps file or a claim writes it.
DependencyInput = Dependency | Mapping[str, Any]


def as_dependency(record: DependencyInput) -> Dependency:
    """A dependency as written, not resolved against a bundle; a `Dependency` is returned as it is.

    Mappings may use `from` or `from_`; when they carry `namespace` (as the corpus `deps.yaml`
    does), bare names in `from`/`to` are qualified with it. Without a bundle nothing tells a
    Service from a workload, so `to` is kept as written in `dst` (an address in `cidr`): the
    record's `dialled` is the `to` as written. `declared_dependencies` resolves an entry.

    Raises:
        ValueError: not a mapping, or a required field (from, to, port) is missing.
    """
    if isinstance(record, Dependency):
        return record
    if not isinstance(record, Mapping):
        raise ValueError(f"not a dependency record: {record!r}")
    try:
        src, dst, port = record.get("from", record.get("from_")), record["to"], int(record["port"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"dependency record needs from, to and port: {sorted(record)}") from exc
    if src is None:
        raise ValueError(f"dependency record needs from, to and port: {sorted(record)}")
    src, dst = str(src), str(dst)
    ns = record.get("namespace")
    if ns:
        src, dst = _qualify(src, ns), _qualify(dst, ns)
    # A caller's protocol spelling and source tag (`env`) are kept as written: the brief prints them
    # (a source that is no plain tag as `other`), and no verifier check reads a record taken as written.
    protocol = cast(Protocol, str(record.get("protocol", "TCP")))
    source = cast(DependencySource, str(record.get("source", "declared")))
    if parse_network(dst) is not None:
        return Dependency(src, port, protocol, cidr=dst, source=source)
    return Dependency(src, port, protocol, dst=dst, source=source)


def as_entry(dep: Dependency) -> dict[str, Any]:
    """The deps-file entry declaring `dep` as its client dials it: to its Service on the Service port, else
    to its workload or CIDR."""
    return {"from": dep.src, "to": dep.dialled, "port": dep.dialled_port, "protocol": dep.protocol}


def _qualify(name: str, namespace: str) -> str:
    return name if "/" in name else f"{namespace}/{name}"


class EntryError(Exception):
    """An entry that cannot be resolved; becomes an error Issue (never escapes this module)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class DeclaredEntry:
    """One list item of a deps file, with its position for messages."""

    index: int
    data: Any
    line: int = 0


def parse_declared(text: str, origin: str) -> tuple[list[DeclaredEntry], list[Issue]]:
    """The entries of a deps file's text, each with its 1-based line.

    Malformed YAML, or a document that is not a list, is one error Issue (and no entries).
    """
    try:
        # The loader's constructor already rejects control characters (a NUL byte): inside the try.
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:
        return [], [_yaml_issue(exc, text, origin)]
    try:
        node = loader.get_single_node()
        if node is None:
            return [], []  # an empty file declares nothing
        data = loader.construct_document(node)
    except (yaml.YAMLError, RecursionError) as exc:
        return [], [_yaml_issue(exc, text, origin)]
    finally:
        loader.dispose()
    if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
        return [], [Issue("expected a list of dependencies (- {from: ..., to: ..., port: ...})", SourceRef(origin, 1))]
    return [DeclaredEntry(i, item, sub.start_mark.line + 1) for i, (item, sub) in enumerate(zip(data, node.value))], []


def _yaml_issue(exc: BaseException, text: str, origin: str) -> Issue:
    """The error Issue for a deps text libyaml refused, at the line it stopped on."""
    if isinstance(exc, RecursionError):
        return Issue("not valid YAML: nested too deeply", SourceRef(origin, 1))
    mark = getattr(exc, "problem_mark", None)
    position = getattr(exc, "position", None)  # a ReaderError (a control character) has only an offset
    if mark is not None:
        line = mark.line + 1
    elif isinstance(position, int):
        line = text.count("\n", 0, position) + 1
    else:
        line = 0
    problem = getattr(exc, "problem", None)
    if problem is None and hasattr(exc, "character"):
        problem = f"control character #x{exc.character:04x} is not allowed"
    return Issue(f"not valid YAML: {problem or exc}", SourceRef(origin, line))


def declared_dependencies(
    bundle: Bundle, declared: list[dict[str, Any]] | str, origin: str
) -> tuple[list[Dependency], list[Issue]]:
    """Resolve every entry of a deps file (its text, or its parsed list) against the bundle."""
    if isinstance(declared, str):
        entries, issues = parse_declared(declared, origin)
    else:
        entries, issues = [DeclaredEntry(i, item) for i, item in enumerate(declared)], []
    deps: list[Dependency] = []
    for entry in entries:
        resolver = _Resolver(bundle, entry, origin)
        try:
            deps.extend(resolver.resolve())
        except EntryError as exc:
            resolver.issue(str(exc), exc.field, "error")
        issues.extend(resolver.issues)
    return deps, issues


class _Resolver:
    """Resolves one entry; collects warnings in `issues`, raises EntryError on errors."""

    def __init__(self, bundle: Bundle, entry: DeclaredEntry, origin: str) -> None:
        self.bundle = bundle
        self.entry = entry
        self.where = SourceRef(origin, entry.line, entry.index)
        self.issues: list[Issue] = []

    def issue(self, message: str, field: str = "", severity: Severity = "warning") -> None:
        path = f"[{self.entry.index}]" + (f".{field}" if field else "")
        self.issues.append(Issue(f"{self.describe()}: {message}", self.where, path, severity))

    def describe(self) -> str:
        data = self.entry.data if isinstance(self.entry.data, dict) else {}
        return f"dependency {data.get('from', '?')} -> {data.get('to', '?')}:{data.get('port', '?')}"

    def evidence(self) -> str:
        line = f", line {self.entry.line}" if self.entry.line else ""
        return f"declared in {self.where.file} [{self.entry.index}]{line}"

    def resolve(self) -> list[Dependency]:
        data = self.entry.data
        if not isinstance(data, dict):
            raise EntryError("expected a mapping with from, to and port")
        namespace = _optional_str(data, "namespace")
        protocol = _protocol(data.get("protocol"))
        port = _port(data.get("port"))
        src = self.workload(_required_str(data, "from"), namespace, "from")
        return self.destination(src, _required_str(data, "to"), namespace, port, protocol)

    def workload(self, ref: str, namespace: str | None, field: str) -> Workload:
        ns, name = _split(ref, namespace)
        found = [w for w in self.bundle.workloads if w.name == name and (ns is None or w.namespace == ns)]
        if len(found) == 1:
            return found[0]
        if found:
            raise EntryError(f"{name!r} is a workload in several namespaces ({', '.join(w.namespace for w in found)}); "
                             f"set namespace or write namespace/name", field)
        where = f" in namespace {ns}" if ns else ""
        pool = [w.name for w in self.bundle.workloads if ns is None or w.namespace == ns]
        raise EntryError(f"no workload named {name!r}{where}{_closest(name, pool)}", field)

    def destination(self, src: Workload, ref: str, namespace: str | None, port: int | str,
                    protocol: Protocol) -> list[Dependency]:
        cidr = _cidr(ref)
        if cidr is not None:
            return [self.dependency(src, _number(port), protocol, cidr=cidr)]
        ns, name = _split(ref, namespace if namespace is not None else src.namespace)
        assert ns is not None
        service = find_service(self.bundle, ns, name)
        target = find_workload(self.bundle, ns, name)
        if service is not None:
            ports = _service_ports(service, port, protocol)
            if ports:
                return self.through_service(src, service, ports)
        if target is not None:
            return [self.dependency(src, _number(port), protocol, dst=target.id)]
        if service is not None:
            return self.through_target_port(src, service, port, protocol)
        pool = [s.name for s in self.bundle.services if s.namespace == ns] + [
            w.name for w in self.bundle.workloads if w.namespace == ns]
        raise EntryError(f"no Service or workload named {name!r} in namespace {ns}{_closest(name, pool)}", "to")

    def through_service(self, src: Workload, service: Service, ports: list[ServicePort]) -> list[Dependency]:
        deps: list[Dependency] = []
        for sp in ports:
            endpoints, missing = service_endpoints(self.bundle, service, sp)
            for w in missing:
                self.issue(f"Service {service.id} port {sp.port} targets {sp.target_port!r}, which {w.id} does not "
                           "serve", "to")
            for ep in endpoints:
                self.check_target_port(service, sp, ep)
                deps.append(self.dependency(src, ep.port, ep.protocol, dst=ep.workload.id,
                                            service=service.id, service_port=sp.port))
        if not deps:
            raise EntryError(f"Service {service.id} has no endpoint in the bundle "
                             f"(selector {service.selector or 'none'}, ports {describe_ports(service)})", "to")
        return deps

    def through_target_port(self, src: Workload, service: Service, port: int | str,
                            protocol: Protocol) -> list[Dependency]:
        """`port` is no Service port; accept it if it is the container port behind one."""
        for sp in service.ports:
            endpoints, _ = service_endpoints(self.bundle, service, sp)
            hits = [ep for ep in endpoints if ep.port == port and ep.protocol == protocol]
            if hits:
                self.issue(f"{port} is not a port of Service {service.id} but the container port behind its port "
                           f"{sp.port}; checked as {sp.port} -> {port}", "port", "info")
                return [self.dependency(src, ep.port, ep.protocol, dst=ep.workload.id, service=service.id,
                                        service_port=sp.port) for ep in hits]
        raise EntryError(f"Service {service.id} has no port {port}/{protocol} (it exposes {describe_ports(service)})",
                         "port")

    def check_target_port(self, service: Service, sp: ServicePort, ep: Endpoint) -> None:
        expected = self.entry.data.get("target_port")
        if isinstance(expected, int) and expected != ep.port:
            self.issue(f"target_port {expected} disagrees with Service {service.id}, whose port {sp.port} "
                       f"maps to {ep.port} on {ep.workload.id}; using {ep.port}", "target_port")

    def dependency(self, src: Workload, port: int, protocol: Protocol, **where: Any) -> Dependency:
        return Dependency(src.id, port, protocol, source="declared", evidence=self.evidence(), origin=self.where,
                          **where)


def _split(ref: str, namespace: str | None) -> tuple[str | None, str]:
    if "/" in ref:
        ns, _, name = ref.partition("/")
        return ns, name
    return namespace, ref


def _closest(name: str, pool: list[str]) -> str:
    close = closest_names(name, pool, cutoff=LOOSE_CUTOFF)
    return f"; closest: {', '.join(close)}" if close else ""


def _required_str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise EntryError(f"needs `{key}`: a name (or namespace/name)", key)
    return value.strip()


def _optional_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise EntryError(f"`{key}` must be a name", key)
    return value


def _protocol(value: Any) -> Protocol:
    if value is None:
        return "TCP"
    text = str(value).upper()
    if text not in PROTOCOLS:
        raise EntryError(f"protocol {value!r} is not one of {', '.join(PROTOCOLS)}", "protocol")
    return text


def _port(value: Any) -> int | str:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535:
        return value
    if isinstance(value, str) and value:
        return value  # a Service port name
    raise EntryError(f"port {value!r} must be a number 1-65535 (or a Service port name)", "port")


def _number(port: int | str) -> int:
    if isinstance(port, str):
        raise EntryError(f"port {port!r} is a name; only a Service's port can be given by name", "port")
    return port


def _service_ports(service: Service, port: int | str, protocol: Protocol) -> list[ServicePort]:
    if isinstance(port, str):
        return [sp for sp in service.ports if sp.name == port]
    return [sp for sp in service.ports if sp.port == port and sp.protocol == protocol]


def _cidr(ref: str) -> str | None:
    """`ref` as a canonical CIDR (an address becomes /32 or /128); None if it is a name."""
    net = parse_network(ref)
    return None if net is None else str(net)
