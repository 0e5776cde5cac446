"""The traffic graph a report draws, as plain data: `ground_truth.graph` of an analysis document.

Kept in the document so a stored analysis can be rendered as a page later without the bundle.
Bounded: at most `max_edges` workload pairs are listed (namespace-pair counts always cover them all).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from verifier.model.bundle import Bundle, Workload
from verifier.sets.ports import PortSet

if TYPE_CHECKING:
    from verifier.engine.compile import CompiledBundle

    from .truth import Truth

#: Workload pairs listed in `graph.edges`; past this the report draws namespaces and one namespace.
MAX_EDGES = 5000
#: The id of the node that stands for every address outside the cluster.
OUTSIDE = "(outside the cluster)"


def graph_json(truth: Truth, *, max_edges: int = MAX_EDGES) -> dict[str, Any]:
    """Workloads, allowed workload pairs (ports as text), namespace-pair counts, and traffic to and
    from outside the cluster. A pair of a workload with itself (replica to replica) is counted in
    `self_flows`, not drawn as an edge."""
    conn = truth.conn
    edges: list[dict[str, Any]] = []
    pairs: Counter[tuple[str, str]] = Counter()
    self_flows: list[str] = []
    total = 0
    c = conn.compiled
    workloads = c.bundle.workloads
    # Each distinct atom mask's text, made once: class pairs repeat a few port sets (1,783 pairs, 13 masks
    # at benchmark tier M).
    texts: dict[int, str] = {}
    # `conn.flows()` pair by pair, but a class pair's ports are made into ranges only while edges are listed.
    for s, d, mask in conn.class_pairs():
        text: str | None = None
        for ws in c.classes[s].members:
            src = workloads[ws]
            for wd in c.classes[d].members:
                dst = workloads[wd]
                if src.id == dst.id:
                    self_flows.append(src.id)
                    continue
                total += 1
                pairs[(src.namespace, dst.namespace)] += 1
                if len(edges) < max_edges:
                    text = text if text is not None else _mask_text(mask, c, texts)
                    edges.append({"from": src.id, "to": dst.id, "ports": text})
    return {
        "workloads": [_node(w, truth) for w in sorted(truth.bundle.workloads, key=lambda w: w.id)],
        "edges": edges,
        "edges_total": total,
        "truncated": total > len(edges),
        "self_flows": sorted(self_flows),
        "namespace_pairs": [{"from": a, "to": b, "flows": n} for (a, b), n in sorted(pairs.items())],
        "outside": {"id": OUTSIDE, "egress": _outside_egress(truth), "ingress": outside_ingress(truth.bundle, truth)},
    }


def _mask_text(mask: int, c: CompiledBundle, texts: dict[int, str]) -> str:
    """`ports_text` of an atom mask, remembered in `texts`."""
    text = texts.get(mask)
    if text is None:
        text = texts[mask] = ports_text(c.atoms.to_portset(mask))
    return text


def ports_text(ports: PortSet) -> str:
    """`TCP/80,443 UDP/53`: a port set as one short line."""
    if ports.count() == 3 * 65535:
        return "all ports"
    parts = []
    for proto, ranges in ports.ranges:
        if list(ranges) == [(1, 65535)]:
            parts.append(f"{proto}/any")
            continue
        parts.append(f"{proto}/" + ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges))
    return " ".join(parts)


def _node(w: Workload, truth: Truth) -> dict[str, Any]:
    c = truth.conn.compiled
    cls = c.class_of_workload(w.id)
    return {"id": w.id, "namespace": w.namespace, "name": w.name, "kind": w.kind, "replicas": w.replicas,
            "host_network": w.host_network, "ingress_isolated": c.isolated(cls, "ingress"),
            "egress_isolated": c.isolated(cls, "egress")}


def _outside_egress(truth: Truth) -> list[dict[str, Any]]:
    """Per workload that may send outside: the address blocks and ports, one line each."""
    out = []
    for w in sorted(truth.bundle.workloads, key=lambda w: w.id):
        lines = [f"{', '.join(str(b) for b in e.blocks)} {ports_text(e.ports)}"
                 for e in truth.conn.external_egress(w.id) if e.blocks and e.ports]
        if lines:
            out.append({"workload": w.id, "to": lines})
    return out


def outside_ingress(bundle: Bundle, truth: Truth) -> list[dict[str, Any]]:
    """Workloads that accept connections from outside the cluster, and why (`Connectivity.external_ingress`).

    A pod no policy isolates for ingress accepts every source. An isolated pod accepts outside
    sources through a rule whose `from` is empty ("If this field is empty or missing, this rule
    matches all sources", API reference) or names an ipBlock, on that rule's ports.
    """
    out = []
    for w in sorted(bundle.workloads, key=lambda w: w.id):
        rows = [r for r in truth.conn.external_ingress(w.id) if r.ports]
        if rows and rows[0].rule == "unrestricted":
            out.append({"workload": w.id, "why": "not isolated for ingress: accepts every source"})
        elif rows:
            out.append({"workload": w.id, "why": "; ".join(
                f"{r.rule} admits {', '.join(str(b) for b in r.blocks)} on {ports_text(r.ports)}" for r in rows)})
    return out
