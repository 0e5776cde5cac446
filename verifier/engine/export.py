"""Plain-data (JSON-ready) views of connectivity results; the documented schemas.

Renderers, the HTTP API, claim checking and outside scripts all read these dicts,
so their keys are a contract: add keys, never rename them.
"""

from __future__ import annotations

from typing import Any

from ..model.admin import ref_json
from ..model.bundle import Bundle, Issue, Workload
from ..model.unevaluated import unevaluated_policies
from ..sets.ports import PortSet
from .connectivity import Connectivity
from .explain import HOST_NETWORK_NOTE, SideVerdict, Verdict

FLOWS_SCHEMA = "netreason.flows/v1"
CHECK_SCHEMA = "netreason.check/v1"


def ranges(ports: PortSet, protocol: str) -> list[list[int]]:
    # `protocol` comes from the export's own keys (TCP, UDP, SCTP), typed as str by its JSON callers
    return [[lo, hi] for lo, hi in ports.for_protocol(protocol)]  # type: ignore[arg-type]


def workload_json(w: Workload, conn: Connectivity | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": w.id, "kind": w.kind, "namespace": w.namespace, "name": w.name,
        "labels": dict(sorted(w.labels.items())), "replicas": w.replicas,
        "ports": [{"port": p.port, "protocol": p.protocol, "name": p.name} for p in w.ports],
        "host_network": w.host_network,
    }
    if w.source:
        out["file"], out["line"] = w.source.file, w.source.line
    if w.variant_of:
        out["rollout_of"] = w.variant_of
    if conn is not None:
        c = conn.compiled
        cls = c.class_of_workload(w.id)
        out["class"] = cls
        out["ingress_isolated"] = c.isolated(cls, "ingress")
        out["egress_isolated"] = c.isolated(cls, "egress")
    return out


def issue_json(issue: Issue) -> dict[str, Any]:
    src = issue.source
    return {
        "severity": issue.severity, "message": issue.message, "field": issue.field_path,
        "object": issue.object, "file": src.file if src else None, "line": src.line if src else None,
        "text": str(issue),
    }


def flows_json(conn: Connectivity, *, external: bool = True, explain: bool = False,
               flows: bool = True) -> dict[str, Any]:
    """The `netreason flows --format json` document.

    `flows` lists each ordered workload pair (a workload with itself included: replica
    to replica) and protocol with at least one allowed port, as sorted inclusive ranges
    with named ports resolved; a workload pair not listed is denied. Traffic with addresses
    outside the input is in `external_egress` and `external_ingress` (see `external_json`).
    With `explain`, each entry also says which rules allow which of its ranges, on each side (`allowed_by`).
    `flows=False` leaves that list empty, for a writer that streams it.
    """
    bundle = conn.compiled.bundle
    listed = []
    for src, dst, ports in (conn.flows() if flows else ()):
        why = conn.provenance(src, dst) if explain else []
        for proto, rs in ports.ranges:
            flow: dict[str, Any] = {"from": src, "to": dst, "protocol": proto, "ports": [[lo, hi] for lo, hi in rs]}
            if explain:
                flow["allowed_by"] = [
                    {"ports": ranges(part, proto), "egress": list(e), "ingress": list(i)}
                    for part, e, i in why if part.for_protocol(proto)
                ]
            listed.append(flow)
    listed.sort(key=lambda f: (f["from"], f["to"], f["protocol"]))
    doc: dict[str, Any] = {
        "schema": FLOWS_SCHEMA,
        "workloads": [workload_json(w, conn) for w in sorted(bundle.workloads, key=lambda w: w.id)],
        "flows": listed,
        "notes": bundle_notes(bundle),
        "issues": [issue_json(i) for i in bundle.issues],
        "skipped_kinds": dict(sorted(bundle.skipped_kinds.items())),
        "summary": conn.summary(),
    }
    if external:
        doc["external_egress"] = external_json(conn)
        doc["external_ingress"] = external_json(conn, ingress=True)
    return doc


def external_json(conn: Connectivity, *, ingress: bool = False) -> list[dict[str, Any]]:
    """Traffic with addresses outside the cluster, one entry per workload, block, protocol and rule.

    Egress entries (`external_egress`) carry `from` (the workload); ingress entries
    (`external_ingress`) carry `to`. `rule` is "unrestricted" for a workload no policy
    isolates in that direction (every address: 0.0.0.0/0 and ::/0, every port).
    """
    out = []
    end = "to" if ingress else "from"
    for w in sorted(conn.compiled.bundle.workloads, key=lambda w: w.id):
        rows = conn.external_ingress(w.id) if ingress else conn.external_egress(w.id)
        for e in rows:
            for block in e.blocks:
                for proto, rs in e.ports.ranges:
                    out.append({
                        end: w.id, "cidr": block.cidr, "except": list(block.excepts),
                        "protocol": proto, "ports": [[lo, hi] for lo, hi in rs], "rule": e.rule,
                    })
    return out


def bundle_notes(bundle: Bundle) -> list[str]:
    """Notes every whole-bundle output carries: hostNetwork pods and unevaluated policies."""
    return host_network_notes(bundle) + [p.note() for p in unevaluated_policies(bundle)]


def host_network_notes(bundle: Bundle) -> list[str]:
    """Notes every flows output carries: hostNetwork workloads, and workloads caught mid-rollout."""
    notes = [HOST_NETWORK_NOTE.format(id=w.id) for w in bundle.workloads if w.host_network]
    return notes + rollout_notes(bundle)


def rollout_notes(bundle: Bundle) -> list[str]:
    """One note per workload whose pods carry different labels (a rollout in progress)."""
    groups: dict[str, list[Workload]] = {}
    for w in bundle.workloads:
        if w.variant_of:
            groups.setdefault(w.variant_of, []).append(w)
    return [f"{owner} is mid-rollout: its pods carry {len(ws)} different label sets, evaluated as separate "
            f"classes of one workload: {', '.join(w.id for w in ws)}" for owner, ws in sorted(groups.items())]


def side_json(side: SideVerdict) -> dict[str, Any]:
    admin_allowed = [ref_json(side.admin)] if side.admin is not None and side.allowed else []
    return {
        "allowed": side.allowed, "isolated": side.isolated,
        "allowed_by": [{"policy": r.policy, "direction": r.direction, "rule": r.index} for r in side.allowed_by]
        + admin_allowed,
        "decided_by_admin": ref_json(side.admin) if side.admin is not None else None,
        "passed_by": ref_json(side.passed_by) if side.passed_by is not None else None,
        "selected_by": list(side.selected_by),
        "misses": [
            {"policy": m.rule.policy, "rule": m.rule.index, "reasons": list(m.reasons)}
            for m in sorted(side.misses, key=lambda m: len(m.reasons))
        ],
        "explanation": side.explain(),
    }


def verdict_json(v: Verdict) -> dict[str, Any]:
    """The `netreason check --format json` document."""
    return {
        "schema": CHECK_SCHEMA,
        "from": v.src, "to": v.dst, "port": v.port, "protocol": v.protocol,
        "allowed": v.allowed,
        "egress": side_json(v.egress), "ingress": side_json(v.ingress),
        "notes": list(v.notes), "explanation": v.explain(), "via": v.via or None,
    }
