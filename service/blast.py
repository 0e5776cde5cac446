"""The blast radius of a change: the workloads whose flows, dependencies or findings changed, and their peers.

A review asks the model only about these (the brief holds them and what decides their connections), so a
one-line change in a 5,000-pod cluster is a small prompt. Computed from a diff document and the head's truth.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from verifier.sets.selectors import iter_bits

if TYPE_CHECKING:
    from .truth import Truth  # for annotations only: truth calls blast_radius

#: Workloads a blast radius lists at most in a document (the count is always given).
MAX_LISTED = 500


def blast_radius(diff: Mapping[str, Any], head: Truth) -> list[str]:
    """Workloads of `head` touched by the change (flows, external egress, dependencies, findings, added ones)
    plus their dependency peers, sorted."""
    ids = {w.id for w in head.bundle.workloads}
    touched: set[str] = set(diff.get("workloads_added", []))
    for key in ("flows_added", "flows_removed", "dependencies_broken", "dependencies_fixed"):
        for item in diff.get(key, []):
            touched |= {item.get("from"), item.get("to")}
    for key in ("external_added", "external_removed"):
        touched |= {item.get("from") for item in diff.get(key, [])}
    selected = _selected_by_policy(head)
    for key in ("findings_introduced", "findings_resolved"):
        for f in diff.get(key, []):
            obj = f.get("object")
            touched |= {obj} | set(selected.get(obj, ()))
    touched &= ids
    peers = set()
    for r in head.dependencies:
        d = r.dependency
        if d.src in touched and d.dst:
            peers.add(d.dst)
        if d.dst in touched:
            peers.add(d.src)
    return sorted((touched | peers) & ids)


def _selected_by_policy(truth: Truth) -> dict[str, list[str]]:
    compiled = truth.conn.compiled
    out: dict[str, list[str]] = {}
    for p in truth.bundle.policies:
        out[p.id] = [compiled.bundle.workloads[m].id for cls in iter_bits(compiled.policy_targets.get(p.id, 0))
                     for m in compiled.classes[cls].members]
    return out
