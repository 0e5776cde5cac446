"""The cluster brief read back into a `Bundle`: how a simulated model "sees" the cluster.

Simulated models get only the rendered prompt, like any model. To answer they parse the
brief (`service.brief.render_brief`) back into `verifier.model` records and run the
verifier on them. The round trip bundle -> brief -> bundle keeping connectivity intact is
also the test that the brief leaves out nothing the questions need.

What the brief drops, and why it does not matter for connectivity: rules of a direction not
in policyTypes (they have no effect), Service port names, replicas, env, annotations and
source locations. Namespaces get `kubernetes.io/metadata.name` back, as the notation says.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from verifier.errors import NetreasonError
from verifier.model import (
    NAMESPACE_NAME_LABEL,
    Bundle,
    ContainerPort,
    IPBlock,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Operator,
    Peer,
    PolicyPort,
    Requirement,
    Rule,
    Service,
    ServicePort,
    Workload,
)

SECTIONS = ("namespaces", "workloads", "services", "policies", "dependencies")
_HEADER = re.compile(r"^Cluster brief[^\n]*:\s*$", re.MULTILINE)
_DEPENDENCY = re.compile(r"^(?P<src>\S+) -> (?P<dst>\S+) (?P<proto>[A-Z]+)/(?P<port>\d+) \((?P<source>[^)]*)\)$")
_SET_REQ = re.compile(r"^(?P<key>\S+) (?P<op>in|notin) \((?P<values>[^)]*)\)$")
_RULE = re.compile(r"^(?P<dir>in|eg)\[(?P<index>\d+)\]: (?:from|to) (?P<body>.*)$")


class BriefParseError(NetreasonError):
    """A brief line the parser does not understand (the notation changed, or the text is no brief)."""


@dataclass
class ParsedBrief:
    """A brief read back: the bundle it describes and its dependency lines as mappings."""

    bundle: Bundle
    dependencies: list[dict[str, Any]] = field(default_factory=list)


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
        if not (line.startswith("  ") or _is_section_line(line)):
            break
        lines.append(line)
    return "\n".join(lines) + "\n"


def _is_section_line(line: str) -> bool:
    title = line.split(":", 1)[0]
    return title in SECTIONS or line.startswith("not modelled:")


def parse_brief(text: str) -> ParsedBrief:
    """Parse brief text (as `render_brief` writes it) into a bundle and dependency mappings.

    Raises:
        BriefParseError: a line that does not follow the notation; the message quotes it.
    """
    sections = _sections(text)
    namespaces = [_namespace(line) for line in sections.get("namespaces", [])]
    bundle = Bundle(
        namespaces={n.name: n for n in namespaces},
        workloads=tuple(_workload(line) for line in sections.get("workloads", [])),
        services=tuple(_service(line) for line in sections.get("services", [])),
        policies=tuple(_policy(line) for line in sections.get("policies", [])),
        skipped_kinds=_skipped(text),
    )
    return ParsedBrief(bundle, [_dependency(line) for line in sections.get("dependencies", [])])


def _sections(text: str) -> dict[str, list[str]]:
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


def _skipped(text: str) -> dict[str, int]:
    for line in text.splitlines():
        if line.startswith("not modelled: "):
            items = (item.rsplit(" x", 1) for item in line[len("not modelled: "):].split(", "))
            return {kind: int(n) for kind, n in items}
    return {}


def _fail(what: str, line: str) -> BriefParseError:
    return BriefParseError(f"brief {what} line not understood: {line!r}")


def _labels(text: str) -> dict[str, str]:
    if text == "-":
        return {}
    pairs = (item.split("=", 1) for item in text.split(","))
    return {k: v for k, v in pairs}


def _namespace(line: str) -> Namespace:
    name, _, rest = line.partition(": ")
    implicit = rest.endswith(" (not defined in the bundle)")
    labels = _labels(rest.removesuffix(" (not defined in the bundle)"))
    labels.setdefault(NAMESPACE_NAME_LABEL, name)
    return Namespace(name, labels, implicit=implicit)


def _workload(line: str) -> Workload:
    head, _, rest = line.partition(": ")
    ref, _, kind = head.partition(" ")
    namespace, _, name = ref.partition("/")
    parts = rest.split("; ")
    if not kind or len(parts) < 2 or not parts[1].startswith("ports "):
        raise _fail("workload", line)
    ports = () if parts[1] == "ports -" else tuple(_container_port(p) for p in parts[1][6:].split(","))
    ips: tuple[str, ...] = ()
    for extra in parts[2:]:
        if extra.startswith("ips "):
            ips = tuple(extra[4:].split(","))
    return Workload(kind, namespace, name, _labels(parts[0]), ports, pod_ips=ips, host_network="hostNetwork" in parts[2:])


def _container_port(text: str) -> ContainerPort:
    m = re.fullmatch(r"([A-Z]+)/(\d+)(?:\((.+)\))?", text)
    if not m:
        raise _fail("workload port", text)
    return ContainerPort(int(m.group(2)), m.group(1), m.group(3))  # type: ignore[arg-type]


def _service(line: str) -> Service:
    head, _, rest = line.partition(": ")
    ref, _, kind = head.partition(" ")
    namespace, _, name = ref.partition("/")
    selects, _, ports = rest.partition("; ports ")
    selector = None if selects == "no selector" else _labels(selects.removeprefix("selects "))
    parsed = () if ports in ("-", "") else tuple(_service_port(p) for p in ports.split(","))
    return Service(namespace, name, selector, parsed, type=kind or "ClusterIP")


def _service_port(text: str) -> ServicePort:
    m = re.fullmatch(r"([A-Z]+)/(\d+)(?:->(.+))?", text)
    if not m:
        raise _fail("service port", text)
    target: int | str = int(m.group(2)) if m.group(3) is None else m.group(3)
    if isinstance(target, str) and target.isdigit():
        target = int(target)
    return ServicePort(int(m.group(2)), target, m.group(1))  # type: ignore[arg-type]


def _dependency(line: str) -> dict[str, Any]:
    m = _DEPENDENCY.match(line)
    if not m:
        raise _fail("dependency", line)
    return {"from": m["src"], "to": m["dst"], "port": int(m["port"]), "protocol": m["proto"], "source": m["source"]}


def split_top(text: str, sep: str) -> list[str]:
    """Split `text` on `sep` where it is outside braces and parentheses."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        depth += ch in "{(" and 1 or 0
        depth -= ch in "})" and 1 or 0
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
    return LabelSelector(tuple(_requirement(part) for part in split_top(text, ",")))


def _requirement(text: str) -> Requirement:
    m = _SET_REQ.match(text)
    if m:
        op: Operator = "In" if m["op"] == "in" else "NotIn"
        return Requirement(m["key"], op, tuple(m["values"].split(",")))
    if "!=" in text:
        key, value = text.split("!=", 1)
        return Requirement(key, "NotIn", (value,))
    if "=" in text:
        key, value = text.split("=", 1)
        return Requirement(key, "In", (value,))
    if text.startswith("!"):
        return Requirement(text[1:], "DoesNotExist")
    return Requirement(text, "Exists")


def _policy(line: str) -> NetworkPolicy:
    head, _, rest = line.partition(": ")
    namespace, _, name = head.partition("/")
    parts = split_top(rest, "; ")
    if len(parts) < 2 or not parts[0].startswith("selects ") or not parts[1].startswith("isolates "):
        raise _fail("policy", line)
    isolates = parts[1][len("isolates "):]
    types = tuple(t for t in ("Ingress", "Egress") if t.lower() in isolates.split(","))
    rules: dict[str, list[Rule]] = {"in": [], "eg": []}
    for part in parts[2:]:
        for direction, rule in _rule(part, line):
            rules[direction].append(rule)
    return NetworkPolicy(namespace, name, parse_selector(parts[0][len("selects "):]), types,
                         tuple(rules["in"]), tuple(rules["eg"]))


def _rule(part: str, line: str) -> Iterator[tuple[str, Rule]]:
    if part.endswith(" rules ignored (not in policyTypes)"):
        # The rules themselves are not shown; a placeholder keeps the line (it has no effect,
        # since the direction is not in policyTypes).
        yield ("in" if part.startswith("ingress") else "eg"), Rule(None, None)
        return
    if part in ("in: none (denies all ingress)", "eg: none (denies all egress)"):
        return
    m = _RULE.match(part)
    if not m:
        raise _fail("policy rule", line)
    peers_text, _, ports_text = m["body"].rpartition(" ports ")
    peers = None if peers_text == "any" else tuple(_peer(p) for p in split_top(peers_text, " or "))
    ports = None if ports_text == "all" else tuple(_policy_port(p) for p in ports_text.split(","))
    yield m["dir"], Rule(peers, ports)


def _peer(text: str) -> Peer:
    inner = text.strip()
    if not (inner.startswith("{") and inner.endswith("}")):
        raise _fail("peer", text)
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
            raise _fail("peer", text)
    return Peer(pod_selector=pods, namespace_selector=namespaces)


def _policy_port(text: str) -> PolicyPort:
    protocol, _, port = text.partition("/")
    if port == "*":
        return PolicyPort(protocol, None)  # type: ignore[arg-type]
    start, dash, end = port.partition("-")
    if dash and start.isdigit() and end.isdigit():
        return PolicyPort(protocol, int(start), int(end))  # type: ignore[arg-type]
    return PolicyPort(protocol, int(port) if port.isdigit() else port)  # type: ignore[arg-type]
