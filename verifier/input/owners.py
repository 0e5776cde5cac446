"""Fold Pods and intermediate controllers into the workload that owns them.

A live export (`kubectl get pods,rs,deploy -o yaml`) holds a Deployment, its ReplicaSets
and their Pods: one workload, not three. Each object's controller `ownerReference` is
followed up to the top owner (Pod → ReplicaSet → Deployment, Pod → Job → CronJob, Pod →
StatefulSet / DaemonSet / ReplicationController), whether or not that owner is in the
input. Without references, the labels the controllers stamp on their pods still say who
owns them: `pod-template-hash` (Deployment → ReplicaSet → Pod names `NAME-HASH-xxxxx`) and
`controller-revision-hash` (StatefulSet `NAME-HASH`, DaemonSet `HASH`).

Pods of one owner with different labels (a rollout in progress) are different classes for
policies; they stay separate workloads `NAME` and `NAME@REVISION`, each marked with the
workload they belong to, and a note says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from ..model.bundle import Issue, Workload

#: Labels controllers add to the pods they create; they differ between revisions or pods,
#: so they do not make pods of one owner different workloads.
SYSTEM_LABELS = frozenset({
    "pod-template-hash", "controller-revision-hash", "pod-template-generation",
    "statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index",
    "controller-uid", "job-name", "batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name",
    "batch.kubernetes.io/job-completion-index",
})
#: The labels that name one revision of a controller's pods (dropped from the folded workload's labels).
REVISION_LABELS = frozenset({"pod-template-hash", "controller-revision-hash"})
#: Owner kinds folding follows; a Pod owned by a Node (a static pod's mirror) stays a Pod.
FOLDED_OWNER_KINDS = frozenset({
    "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet", "ReplicationController", "Job", "CronJob",
})
#: How many owners up a chain is followed (real chains are at most Pod → Job → CronJob).
_MAX_DEPTH = 8

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class OwnerRef:
    kind: str
    name: str
    uid: str = ""


@dataclass(frozen=True, slots=True)
class Candidate(Generic[P]):
    """A built workload with what folding needs to know about the object it came from.

    `payload` is the caller's (its document, say); it comes back with the folded workload.
    `active` is False for a controller scaled to zero (an old ReplicaSet).
    """

    workload: Workload
    uid: str = ""
    owner: OwnerRef | None = None
    meta_labels: dict[str, str] = field(default_factory=dict)
    active: bool = True
    payload: Any = None


@dataclass(frozen=True, slots=True)
class Folded(Generic[P]):
    """The workloads to keep (with the payload of the object they are named after) and notes."""

    workloads: list[tuple[Workload, Any]]
    notes: list[Issue]


def controller_ref(meta: dict[str, Any]) -> OwnerRef | None:
    """The ownerReference with `controller: true` (else the only one), or None."""
    given = meta.get("ownerReferences")
    refs = [r for r in given if isinstance(r, dict)] if isinstance(given, list) else []
    chosen = next((r for r in refs if r.get("controller") is True), refs[0] if len(refs) == 1 else None)
    if not chosen or not isinstance(chosen.get("kind"), str) or not isinstance(chosen.get("name"), str):
        return None
    return OwnerRef(chosen["kind"], chosen["name"], str(chosen.get("uid") or ""))


def fold_workloads(candidates: Sequence[Candidate[P]]) -> Folded[P]:
    """One workload per top owner; see the module docstring. Order follows the input.

    Candidates whose top owner is themselves pass through unchanged.
    """
    index = _Index(candidates)
    groups: dict[tuple[str, str, str], list[Candidate[P]]] = {}
    for c in candidates:
        groups.setdefault(index.top(c), []).append(c)
    kept: list[tuple[Workload, Any]] = []
    notes: list[Issue] = []
    folded = 0
    for (namespace, kind, name), members in groups.items():
        if len(members) == 1 and members[0].workload.kind == kind and members[0].workload.name == name:
            kept.append((members[0].workload, members[0].payload))
            continue
        folded += len(members)
        made = _fold_group(kind, name, members)
        kept.extend(made)
        if len(made) > 1:
            notes.append(_rollout_note(kind, namespace, name, [w for w, _ in made]))
    if folded:
        notes.insert(0, Issue(f"{folded} Pods and controllers (ReplicaSets, Jobs...) were folded into the "
                              "workloads that own them, by ownerReferences or controller labels", severity="info"))
    return Folded(kept, notes)


class _Index(Generic[P]):
    def __init__(self, candidates: Sequence[Candidate[P]]) -> None:
        self.by_uid = {(c.workload.namespace, c.uid): c for c in candidates if c.uid}
        self.by_name = {(c.workload.namespace, c.workload.kind, c.workload.name): c for c in candidates}

    def top(self, c: Candidate[P]) -> tuple[str, str, str]:
        """(namespace, kind, name) of the top owner of `c`."""
        namespace = c.workload.namespace
        current = c
        for _ in range(_MAX_DEPTH):
            ref = current.owner if current.owner and current.owner.kind in FOLDED_OWNER_KINDS else None
            if ref is None:
                guessed = _owner_from_labels(current) if current.owner is None else None
                if guessed is None:
                    return namespace, current.workload.kind, current.workload.name
                ref = guessed
            found = self.by_uid.get((namespace, ref.uid)) if ref.uid else None
            found = found or self.by_name.get((namespace, ref.kind, ref.name))
            if found is None or found is current:
                return (namespace, *_beyond_absent(ref, current))
            current = found
        return namespace, current.workload.kind, current.workload.name


def _beyond_absent(ref: OwnerRef, child: Candidate[Any]) -> tuple[str, str]:
    """The top owner when `ref` is not in the input: a ReplicaSet named `NAME-HASH` belongs to Deployment NAME."""
    if ref.kind == "ReplicaSet":
        owner = _deployment_of(ref.name, child.meta_labels.get("pod-template-hash"))
        if owner:
            return "Deployment", owner
    return ref.kind, ref.name


def _deployment_of(replicaset: str, template_hash: str | None) -> str | None:
    if template_hash and replicaset.endswith("-" + template_hash) and len(replicaset) > len(template_hash) + 1:
        return replicaset[: -len(template_hash) - 1]
    return None


def _owner_from_labels(c: Candidate[Any]) -> OwnerRef | None:
    """Who owns a Pod or ReplicaSet exported without ownerReferences, from the labels controllers add."""
    kind, name, labels = c.workload.kind, c.workload.name, c.meta_labels
    template_hash = labels.get("pod-template-hash")
    if kind == "ReplicaSet" and template_hash:
        owner = _deployment_of(name, template_hash)
        return OwnerRef("Deployment", owner) if owner else None
    if kind != "Pod":
        return None
    if template_hash:
        replicaset = name.rpartition("-")[0]  # NAME-HASH-xxxxx
        return OwnerRef("ReplicaSet", replicaset) if _deployment_of(replicaset, template_hash) else None
    revision = labels.get("controller-revision-hash")
    if not revision:
        return None
    if "statefulset.kubernetes.io/pod-name" in labels:  # revision is NAME-HASH, pods NAME-ORDINAL
        return OwnerRef("StatefulSet", name.rpartition("-")[0])
    return OwnerRef("DaemonSet", name.rpartition("-")[0]) if "-" in name else None  # pods NAME-xxxxx


def _variant_key(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in labels.items() if k not in SYSTEM_LABELS))


def _fold_group(kind: str, name: str, members: list[Candidate[P]]) -> list[tuple[Workload, Any]]:
    top = next((m for m in members if m.workload.kind == kind and m.workload.name == name), None)
    pods = [m for m in members if m.workload.kind == "Pod"]
    if not pods:
        if top is not None:
            return [(top.workload, top.payload)]
        active = [m for m in members if m.active] or members
        pods = active  # controllers stand in for their pods: each template is one label set
    partitions: dict[tuple[tuple[str, str], ...], list[Candidate[P]]] = {}
    for pod in pods:
        partitions.setdefault(_variant_key(pod.workload.labels), []).append(pod)
    ordered = _primary_first(partitions, top)
    anchor = top or pods[0]
    made = []
    for i, part in enumerate(ordered):
        variant = name if i == 0 else f"{name}@{_revision(part) or i + 1}"
        made.append((_merged(kind, variant, part, anchor, len(ordered) > 1, name), anchor.payload))
    return made


def _primary_first(partitions: dict[Any, list[Candidate[P]]], top: Candidate[P] | None) -> list[list[Candidate[P]]]:
    """The label set of the owner's current template first (else the most pods), the others after."""
    keys = list(partitions)
    current = _variant_key(top.workload.labels) if top is not None else None
    keys.sort(key=lambda k: (k != current, -len(partitions[k])))
    return [partitions[k] for k in keys]


def _revision(part: list[Candidate[Any]]) -> str:
    for label in ("pod-template-hash", "controller-revision-hash"):
        values = {m.workload.labels.get(label) for m in part}
        if len(values) == 1 and None not in values:
            return str(values.pop()).rpartition("-")[2]
    return ""


def _merged(kind: str, name: str, part: list[Candidate[Any]], anchor: Candidate[Any], rollout: bool,
            owner: str) -> Workload:
    first = part[0].workload
    common = dict(first.labels)
    for m in part[1:]:
        common = {k: v for k, v in common.items() if m.workload.labels.get(k) == v}
    # The revision hashes name one ReplicaSet / revision, not the workload: the same app given as
    # manifests has no such label, and the workload's labels must not depend on how it was exported.
    common = {k: v for k, v in common.items() if k not in REVISION_LABELS}
    ips = tuple(dict.fromkeys(ip for m in part for ip in m.workload.pod_ips))
    is_pods = first.kind == "Pod"
    replicas = len(part) if is_pods else sum(m.workload.replicas for m in part)
    return replace(first, kind=kind, name=name, labels=common, pod_ips=ips, replicas=replicas,
                   source=anchor.workload.source, variant_of=f"{first.namespace}/{owner}" if rollout else "")


def _rollout_note(kind: str, namespace: str, name: str, made: list[Workload]) -> Issue:
    parts = ", ".join(f"{w.id} ({w.replicas} pod{'s' if w.replicas != 1 else ''})" for w in made)
    return Issue(f"{kind} {namespace}/{name} is mid-rollout: its pods carry {len(made)} different label sets, "
                 f"evaluated as separate classes of the one workload: {parts}", made[0].source, "", "info",
                 f"{kind} {namespace}/{name}")
