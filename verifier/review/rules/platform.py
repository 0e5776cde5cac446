"""cni-not-enforcing and hostname-intent: what NetworkPolicy cannot do where it stands.

- API concept page: "Network policies are implemented by the network plugin. To use network
  policies, you must be using a networking solution which supports NetworkPolicy. Creating a
  NetworkPolicy resource without a controller that implements it will have no effect."
- NetworkPolicy matches pods, namespaces and IP blocks; the concept page lists "the ability to
  ... target services by name" and FQDN rules among the things it cannot do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...model.bundle import SourceRef, Workload
from ...model.records import Finding
from .context import LintContext

#: Plugins that enforce NetworkPolicy, by a token found in their pods' names or label values.
ENFORCING_CNIS: dict[str, tuple[str, ...]] = {
    "Calico": ("calico",), "Cilium": ("cilium",), "Weave Net": ("weave-net",), "Antrea": ("antrea",),
    "kube-router": ("kube-router",), "Canal": ("canal",), "OVN-Kubernetes": ("ovnkube",),
    "Kube-OVN": ("kube-ovn",), "Azure NPM": ("azure-npm",), "GKE Dataplane V2": ("anetd",),
    "AWS network policy agent": ("network-policy-agent",), "Romana": ("romana",),
}
NON_ENFORCING_CNIS: dict[str, tuple[str, ...]] = {"flannel": ("flannel",)}
SYSTEM_NAMESPACES = ("kube-system", "kube-flannel", "calico-system", "tigera-operator", "cilium")


def cni_findings(ctx: LintContext) -> list[Finding]:
    """cni-not-enforcing, only when the bundle has kube-system pods and some policies."""
    system = [w for w in ctx.bundle.workloads if w.namespace in SYSTEM_NAMESPACES]
    if not ctx.bundle.policies or not any(w.namespace == "kube-system" for w in system):
        return []
    enforcing = _found(system, ENFORCING_CNIS)
    if enforcing:
        return []
    policies = len(ctx.bundle.policies)
    flannel = _found(system, NON_ENFORCING_CNIS)
    if flannel:
        w = flannel[0][1]
        return [Finding(
            "cni-not-enforcing", "warning", w.id,
            f"{w.id} runs flannel, which does not enforce NetworkPolicy, and no enforcing plugin (Calico, Cilium, "
            f"Canal, Antrea, ...) is in the bundle: the {policies} policies may be decorative. Run flannel with "
            f"Calico (Canal) or switch to a plugin that enforces NetworkPolicy.",
            w.source, None, {"key": "flannel"},
        )]
    names = ", ".join(sorted({w.id for w in system if w.namespace == "kube-system"})[:6])
    return [Finding(
        "cni-not-enforcing", "info", "kube-system",
        f"the bundle has kube-system pods ({names}) but none of a network plugin known to enforce NetworkPolicy "
        f"({', '.join(ENFORCING_CNIS)}): check that the cluster's plugin enforces the {policies} policies.",
        ctx.first_source("kube-system"), None, {"key": "unknown"},
    )]


def _found(workloads: list[Workload], table: dict[str, tuple[str, ...]]) -> list[tuple[str, Workload]]:
    out = []
    for w in sorted(workloads, key=lambda w: w.id):
        words = [w.name.lower(), *(v.lower() for v in w.labels.values())]
        for cni, tokens in table.items():
            if any(t in word for t in tokens for word in words):
                out.append((cni, w))
    return out


# --- hostname-intent ---------------------------------------------------------------------

_HOST = re.compile(r"(?<![\w@/.-])(\*\.)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})(?![\w-]|\.[a-z0-9])",
                   re.I)
_KEYWORD = re.compile(r"\b(fqdn|hostnames?|domain names?|toFQDNs)\b", re.I)
_NOT_HOSTS = ("k8s.io", "kubernetes.io", "cluster.local", ".svc", ".local", "x-k8s.io")
_FILE_SUFFIXES = ("yaml", "yml", "json", "js", "py", "go", "sh", "md", "txt", "conf", "properties", "xml", "html",
                  "java", "rb", "ts", "tgz", "gz", "zip", "jar", "cnf", "ini", "toml", "pem", "crt", "key", "log")
_COMMENT = re.compile(r"(?:^|\s)#(.*)$")
_ANNOTATIONS = re.compile(r"\s*annotations:\s*$")
_ANNOTATION_KEYS = re.compile(r"fqdn|hostname|domain|allowed-hosts|egress", re.I)


def hostname_findings(ctx: LintContext) -> list[Finding]:
    """hostname-intent from policies' comments and annotations (source text) and workload annotations."""
    out: list[Finding] = []
    readable = {name: _may_hint(text) for name, text in ctx.texts.items()}
    for p in ctx.bundle.policies:
        if p.source is None or not readable.get(p.source.file):
            continue
        end = ctx.next_object_line(p.source.file, p.source.line)
        hits = list(_text_hints(ctx.text_lines(p.source.file), p.source.line, end))
        if hits:
            out.append(_hostname_finding(p.id, "policy", SourceRef(p.source.file, hits[0][0], p.source.document),
                                         sorted({h for _, hs in hits for h in hs})))
    for w in ctx.bundle.workloads:
        hosts = sorted({h for k, v in w.annotations.items() if _ANNOTATION_KEYS.search(k) for h in _hosts(v)})
        if hosts:
            out.append(_hostname_finding(w.id, "workload", w.source, hosts))
    return out


def _may_hint(text: str) -> bool:
    """Whether a file has a comment or an annotations block at all (`_document_fragments` reads nothing else)."""
    return "#" in text or "annotations:" in text


def _hostname_finding(obj: str, kind: str, source: SourceRef | None, hosts: list[str]) -> Finding:
    named = ", ".join(h for h in hosts if h != "(hostname)") or "hostnames"
    msg = (f"the {kind} {obj} mentions {named} in its comments or annotations, as if egress could be limited by "
           f"hostname; NetworkPolicy cannot do that: it matches pods, namespaces and IP blocks only. Use ipBlocks "
           f"for the provider's published ranges, an egress proxy or gateway, or a plugin's FQDN policy "
           f"(Cilium toFQDNs, Calico domain-based policy).")
    return Finding("hostname-intent", "warning", obj, msg, source, None, {"key": ",".join(hosts)})


def _text_hints(lines: list[str], start: int, end: int | None = None) -> Iterator[tuple[int, list[str]]]:
    """(line, hostnames) of comments and annotation values in the YAML document starting at `start`.

    The document ends at `---` or before line `end` (where the next object starts), whichever comes first.
    """
    for lineno, fragment in _document_fragments(lines, start, len(lines) if end is None else min(end - 1, len(lines))):
        hosts = _hosts(fragment)
        if not hosts and _KEYWORD.search(fragment):
            hosts = ["(hostname)"]
        if hosts:
            yield lineno, hosts


def _document_fragments(lines: list[str], start: int, stop: int) -> Iterator[tuple[int, str]]:
    first = start - 1
    while first > 0 and (lines[first - 1].lstrip().startswith("#") or not lines[first - 1].strip()):
        first -= 1
    annotation_indent: int | None = None
    for idx in range(first, stop):
        line = lines[idx]
        if idx >= start and line.startswith("---"):
            break
        indent = len(line) - len(line.lstrip())
        comment = _COMMENT.search(line) if "#" in line else None
        if comment:
            yield idx + 1, comment.group(1)
        if annotation_indent is not None and line.strip() and indent <= annotation_indent:
            annotation_indent = None
        if annotation_indent is not None and ":" in line and "last-applied-configuration" not in line:
            yield idx + 1, line.split(":", 1)[1]
        if "annotations:" in line and _ANNOTATIONS.match(line):
            annotation_indent = indent


def _hosts(text: str) -> list[str]:
    out = []
    for m in _HOST.finditer(text):
        host = (m.group(1) or "") + m.group(2).lower()
        tld = host.rsplit(".", 1)[1]
        if tld in _FILE_SUFFIXES or any(host.endswith(x) for x in _NOT_HOSTS) or host.count(".") < 1:
            continue
        out.append(host)
    return out
