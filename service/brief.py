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

The reader (`parse_brief`) is the writer's inverse and lives beside it, so the notation is defined in one
place: simulated models (`service.providers.simulated`) parse the brief in their prompt back into
`verifier.model.bundle` records and run the verifier on them, like any model they get only the rendered prompt.
The round trip bundle -> brief -> bundle keeping connectivity intact is also the test that the brief
leaves out nothing the questions need. What the brief drops, and why it does not matter for
connectivity: rules of a direction not in policyTypes (they have no effect), Service port names,
replicas, env, annotations and source locations. Namespaces get `kubernetes.io/metadata.name` back,
as the notation says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from service.brief_admin import admin_sections
from verifier.deps.declared import DependencyInput, as_dependency
from verifier.model.errors import NetreasonError
from verifier.model.records import Dependency
from verifier.model.bundle import (
    NAMESPACE_NAME_LABEL,
    Bundle,
    ContainerPort,
    IPBlock,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Requirement,
    Rule,
    Service,
    ServicePort,
    Workload,
)

BRIEF_VERSION = "brief@1"

# Dependency `source` is printed only when it is a plain tag such as `declared` or `env`:
# evidence strings can quote env values (`env DB_HOST=...`), which must stay on the machine.
_SOURCE_TAG = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")


_Shown = TypeVar("_Shown", Namespace, Workload, Service, NetworkPolicy)


class BriefLines:
    """The brief's line of each object, written once: a prompt planned in slices renders the same objects in
    several briefs (each namespace's, to size it, then the whole cluster's or each slice's). Objects are
    frozen, so a line never changes; keyed by identity, holding the object so its id stays its own."""

    def __init__(self) -> None:
        self._lines: dict[int, tuple[object, str]] = {}

    def line(self, obj: _Shown, write: Callable[[_Shown], str]) -> str:
        """`write(obj)`, written the first time `obj` is shown."""
        found = self._lines.get(id(obj))
        if found is None:
            found = self._lines[id(obj)] = (obj, write(obj))
        return found[1]


def render_brief(bundle: Bundle, dependencies: Iterable[DependencyInput] = (), *,
                 lines: BriefLines | None = None) -> str:
    """Render `bundle` (and optional dependency records) as the cluster brief text.

    A dependency is shown as its client dials it (`Dependency.dialled`, `dialled_port`): to its Service on
    the Service port when it goes through one, else to its workload or CIDR; a mapping is taken as written
    (`verifier.deps.declared.as_dependency`). Deterministic: equal bundles give byte-identical briefs.
    Never includes env values, env var names, annotations or anything the bundle does not model (images,
    Secrets). `lines` reuses the lines of objects already rendered into another brief (the same text).

    Raises:
        ValueError: a dependency mapping without from, to or port.
    """
    line = (lines or BriefLines()).line
    deps = sorted({_dep_key(as_dependency(d)) for d in dependencies})
    sections = [
        _section("namespaces", [line(ns, _namespace_line) for ns in _sorted_namespaces(bundle)]),
        _section("workloads", [line(w, _workload_line) for w in sorted(bundle.workloads, key=_obj_key)]),
        _section("services", [line(s, _service_line) for s in sorted(bundle.services, key=_obj_key)]),
        _section("policies", [line(p, _policy_line) for p in sorted(bundle.policies, key=_obj_key)]),
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


#: A brief's dependency line: client, name and port dialled, protocol, source.
_DepLine = tuple[str, str, int, str, str]


def _dep_key(dep: Dependency) -> _DepLine:
    return (dep.src, dep.dialled, dep.dialled_port, dep.protocol, dep.source)


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


def _dependency_line(line: _DepLine) -> str:
    src, dialled, port, protocol, source = line
    tag = source if _SOURCE_TAG.match(source) else "other"
    return f"{src} -> {dialled} {protocol}/{port} ({tag})"


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


# --- reading a brief back ---------------------------------------------------------------------------

SECTIONS = ("namespaces", "workloads", "services", "policies", "dependencies")
_HEADER = re.compile(r"^Cluster brief[^\n]*:\s*$", re.MULTILINE)
_DEPENDENCY = re.compile(r"^(?P<src>\S+) -> (?P<dst>\S+) (?P<proto>[A-Z]+)/(?P<port>\d+) \((?P<source>[^)]*)\)$")
_SET_REQ = re.compile(r"^(?P<key>\S+) (?P<op>in|notin) \((?P<values>[^)]*)\)$")
_RULE = re.compile(r"^(?P<dir>in|eg)\[(?P<index>\d+)\]: (?:from|to) (?P<body>.*)$")


class BriefParseError(NetreasonError):
    """A brief line the parser does not understand (the notation changed, or the text is no brief)."""


@dataclass
class ParsedBrief:
    """A brief read back: the bundle it describes and its dependency lines, taken as written (`as_dependency`:
    a brief does not say whether a name dialled is a Service; `as_entry` gives the deps-file entry to resolve)."""

    bundle: Bundle
    dependencies: list[Dependency] = field(default_factory=list)


def extract_brief(text: str) -> str:
    """The brief inside a user message: the lines after its last `Cluster brief...:` header.

    Raises:
        BriefParseError: no header in `text`.
    """
    headers = list(_HEADER.finditer(text))
    if not headers:
        raise BriefParseError("no 'Cluster brief:' header in the prompt's last user message")
    lines = []
    for line in text[headers[-1].end():].lstrip("\n").splitlines():
        if not (line.startswith("  ") or _read_is_section_line(line)):
            break
        lines.append(line)
    return "\n".join(lines) + "\n"


def _read_is_section_line(line: str) -> bool:
    title = line.split(":", 1)[0]
    return title in SECTIONS or line.startswith("not modelled:")


def parse_brief(text: str) -> ParsedBrief:
    """Parse brief text (as `render_brief` writes it) into a bundle and dependency mappings.

    Raises:
        BriefParseError: a line that does not follow the notation; the message quotes it.
    """
    sections = _read_sections(text)
    namespaces = [_read_namespace(line) for line in sections.get("namespaces", [])]
    bundle = Bundle(
        namespaces={n.name: n for n in namespaces},
        workloads=tuple(_read_workload(line) for line in sections.get("workloads", [])),
        services=tuple(_read_service(line) for line in sections.get("services", [])),
        policies=tuple(_read_policy(line) for line in sections.get("policies", [])),
        skipped_kinds=_read_skipped(text),
    )
    return ParsedBrief(bundle, [_read_dependency(line) for line in sections.get("dependencies", [])])


def _read_sections(text: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("  ") and current is not None:
            current.append(line.strip())
        elif line.rstrip(":") in SECTIONS:
            current = sections.setdefault(line.rstrip(":"), [])
        elif line.endswith(": none") and line[: -len(": none")] in SECTIONS:
            current = sections.setdefault(line[: -len(": none")], [])
        elif line.startswith("not modelled:") or not line.strip():
            current = None
        else:
            raise BriefParseError(f"brief line not understood: {line!r}")
    return sections


def _read_skipped(text: str) -> dict[str, int]:
    for line in text.splitlines():
        if line.startswith("not modelled: "):
            items = (item.rsplit(" x", 1) for item in line[len("not modelled: "):].split(", "))
            return {kind: int(n) for kind, n in items}
    return {}


def _read_fail(what: str, line: str) -> BriefParseError:
    return BriefParseError(f"brief {what} line not understood: {line!r}")


def _read_labels(text: str) -> dict[str, str]:
    if text == "-":
        return {}
    pairs = (item.split("=", 1) for item in text.split(","))
    return {k: v for k, v in pairs}


def _read_namespace(line: str) -> Namespace:
    name, _, rest = line.partition(": ")
    implicit = rest.endswith(" (not defined in the bundle)")
    labels = _read_labels(rest.removesuffix(" (not defined in the bundle)"))
    labels.setdefault(NAMESPACE_NAME_LABEL, name)
    return Namespace(name, labels, implicit=implicit)


def _read_workload(line: str) -> Workload:
    head, _, rest = line.partition(": ")
    ref, _, kind = head.partition(" ")
    namespace, _, name = ref.partition("/")
    parts = rest.split("; ")
    if not kind or len(parts) < 2 or not parts[1].startswith("ports "):
        raise _read_fail("workload", line)
    ports = () if parts[1] == "ports -" else tuple(_read_container_port(p) for p in parts[1][6:].split(","))
    ips: tuple[str, ...] = ()
    for extra in parts[2:]:
        if extra.startswith("ips "):
            ips = tuple(extra[4:].split(","))
    return Workload(kind, namespace, name, _read_labels(parts[0]), ports, pod_ips=ips,
                    host_network="hostNetwork" in parts[2:])


# The readers below parse what `render_brief` wrote: a protocol there is TCP, UDP or SCTP, which the
# model's Protocol literal cannot see through a regex group (hence their `type: ignore[arg-type]`).
def _read_container_port(text: str) -> ContainerPort:
    m = re.fullmatch(r"([A-Z]+)/(\d+)(?:\((.+)\))?", text)
    if not m:
        raise _read_fail("workload port", text)
    return ContainerPort(int(m.group(2)), m.group(1), m.group(3))  # type: ignore[arg-type]


def _read_service(line: str) -> Service:
    head, _, rest = line.partition(": ")
    ref, _, kind = head.partition(" ")
    namespace, _, name = ref.partition("/")
    selects, _, ports = rest.partition("; ports ")
    selector = None if selects == "no selector" else _read_labels(selects.removeprefix("selects "))
    parsed = () if ports in ("-", "") else tuple(_read_service_port(p) for p in ports.split(","))
    return Service(namespace, name, selector, parsed, type=kind or "ClusterIP")


def _read_service_port(text: str) -> ServicePort:
    m = re.fullmatch(r"([A-Z]+)/(\d+)(?:->(.+))?", text)
    if not m:
        raise _read_fail("service port", text)
    target: int | str = int(m.group(2)) if m.group(3) is None else m.group(3)
    if isinstance(target, str) and target.isdigit():
        target = int(target)
    return ServicePort(int(m.group(2)), target, m.group(1))  # type: ignore[arg-type]


def _read_dependency(line: str) -> Dependency:
    m = _DEPENDENCY.match(line)
    if not m:
        raise _read_fail("dependency", line)
    return as_dependency({"from": m["src"], "to": m["dst"], "port": int(m["port"]), "protocol": m["proto"],
                          "source": m["source"]})


def split_top(text: str, sep: str) -> list[str]:
    """Split `text` on `sep` where it is outside braces and parentheses."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        depth += (ch in "{(" and 1) or 0
        depth -= (ch in "})" and 1) or 0
        if depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            i = start = i + len(sep)
            continue
        i += 1
    parts.append(text[start:])
    return parts


def parse_selector(text: str) -> LabelSelector:
    """`*` or comma-joined requirements (`k=v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`)."""
    if text == "*":
        return LabelSelector()
    return LabelSelector(tuple(_read_requirement(part) for part in split_top(text, ",")))


def _read_requirement(text: str) -> Requirement:
    m = _SET_REQ.match(text)
    if m:
        values = tuple(m["values"].split(","))
        return Requirement(m["key"], "In", values) if m["op"] == "in" else Requirement(m["key"], "NotIn", values)
    if "!=" in text:
        key, value = text.split("!=", 1)
        return Requirement(key, "NotIn", (value,))
    if "=" in text:
        key, value = text.split("=", 1)
        return Requirement(key, "In", (value,))
    if text.startswith("!"):
        return Requirement(text[1:], "DoesNotExist")
    return Requirement(text, "Exists")


def _read_policy(line: str) -> NetworkPolicy:
    head, _, rest = line.partition(": ")
    namespace, _, name = head.partition("/")
    parts = split_top(rest, "; ")
    if len(parts) < 2 or not parts[0].startswith("selects ") or not parts[1].startswith("isolates "):
        raise _read_fail("policy", line)
    isolates = parts[1][len("isolates "):]
    types = tuple(t for t in ("Ingress", "Egress") if t.lower() in isolates.split(","))
    rules: dict[str, list[Rule]] = {"in": [], "eg": []}
    for part in parts[2:]:
        for direction, rule in _read_rule(part, line):
            rules[direction].append(rule)
    return NetworkPolicy(namespace, name, parse_selector(parts[0][len("selects "):]), types,
                         tuple(rules["in"]), tuple(rules["eg"]))


def _read_rule(part: str, line: str) -> Iterator[tuple[str, Rule]]:
    if part.endswith(" rules ignored (not in policyTypes)"):
        # The rules themselves are not shown; a placeholder keeps the line (it has no effect,
        # since the direction is not in policyTypes).
        yield ("in" if part.startswith("ingress") else "eg"), Rule(None, None)
        return
    if part in ("in: none (denies all ingress)", "eg: none (denies all egress)"):
        return
    m = _RULE.match(part)
    if not m:
        raise _read_fail("policy rule", line)
    peers_text, _, ports_text = m["body"].rpartition(" ports ")
    peers = None if peers_text == "any" else tuple(_read_peer(p) for p in split_top(peers_text, " or "))
    ports = None if ports_text == "all" else tuple(_read_policy_port(p) for p in ports_text.split(","))
    yield m["dir"], Rule(peers, ports)


def _read_peer(text: str) -> Peer:
    inner = text.strip()
    if not (inner.startswith("{") and inner.endswith("}")):
        raise _read_fail("peer", text)
    inner = inner[1:-1]
    if inner.startswith("ip "):
        cidr, _, excepts = inner[3:].partition(" except ")
        return Peer(ip_block=IPBlock(cidr, tuple(excepts.split(", ")) if excepts else ()))
    pods = namespaces = None
    for item in inner.split("; "):
        kind, _, selector = item.partition(" ")
        if kind == "ns":
            namespaces = parse_selector(selector)
        elif kind == "pods":
            pods = parse_selector(selector)
        else:
            raise _read_fail("peer", text)
    return Peer(pod_selector=pods, namespace_selector=namespaces)


def _read_policy_port(text: str) -> PolicyPort:
    protocol, _, port = text.partition("/")
    if port == "*":
        return PolicyPort(protocol, None)  # type: ignore[arg-type]
    start, dash, end = port.partition("-")
    if dash and start.isdigit() and end.isdigit():
        return PolicyPort(protocol, int(start), int(end))  # type: ignore[arg-type]
    return PolicyPort(protocol, int(port) if port.isdigit() else port)  # type: ignore[arg-type]
