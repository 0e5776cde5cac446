"""Fixes as data: whole NetworkPolicies to add, or JSON patches to existing ones, that converge.

Every fix is machine-applicable (`kubectl apply` of `manifest`, or the RFC 6902 `patch` of one
existing policy), unique by the policy it adds or patches (two findings that need the same
policy share one fix; a dependency's allow rules merge into one policy per workload and side),
and free of placeholders: where a human must choose (which pods an allow-all-pods policy was
meant for, which namespace an unlabelled selector meant), no fix is proposed.

Fixes are computed to a fixed point: the fixes for the bundle as given are applied, the result
is linted again, and the fixes its findings need are added (a default deny needs the allows of
the dependencies it would cut, and DNS), until nothing new is needed. Applying all of them at
once therefore leaves no broken dependency and opens no in-cluster flow beyond the
dependencies, DNS and outside ingress to exposed workloads.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import yaml

from ..deps.dependencies import DependencyResult
from ..engine.compile import Grant, compile_bundle
from ..engine.connectivity import Connectivity, compute_connectivity
from ..engine.explain import RuleRef
from ..input.objects import network_policy_from, selector_from
from ..model.bundle import Bundle, LabelSelector, NetworkPolicy, Peer, SourceRef, Workload
from ..model.records import Dependency, Finding
from ..sets.ports import PortSet
from ..sets.selectors import iter_bits, requirement_matches
from .exposure import Exposure, ExternalActors, exposures
from .policy_manifest import (
    Manifest,
    PatchError,
    PatchOp,
    apply_patch,
    field_pointer,
    namespace_by_name,
    new_policy,
    policy_manifest,
    port_entries,
    selector_manifest,
    workload_peer,
    workload_selector,
)
from .rules import yamltext

FixAction = Literal["add", "patch"]

DNS_NAMESPACE = "kube-system"
DNS_LABELS = {"k8s-app": "kube-dns"}
#: Where new policies are said to come from (SourceRef.file) when a bundle is fixed in memory.
FIXES_FILE = "netreason-fixes"
#: How many lint-and-fix rounds before giving up on a fixed point (each round only adds).
MAX_ROUNDS = 4


#: `json.dumps(_, separators=(",", ":"))` without building an encoder per call (thousands of patches).
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Fix:
    """One policy to add, or one existing policy to patch.

    `manifest` is the whole policy to apply: the new policy, or the patched one (as netreason
    reads it: comments and unknown fields of the original are only kept by applying `patch`).
    `round` 0 fixes answer findings of the bundle as given; round n fixes are needed once the
    fixes of rounds before n are applied (the allows a default deny would otherwise cut).
    """

    action: FixAction
    namespace: str
    name: str
    description: str
    manifest: Manifest
    patch: tuple[PatchOp, ...] = ()
    source: SourceRef | None = None
    round: int = 0
    isolates: tuple[str, ...] = ()  # directions in which it isolates pods that were not: later rounds follow from it

    @property
    def policy(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def id(self) -> str:
        return f"{self.action} {self.policy}"

    def as_json(self) -> dict[str, Any]:
        """The `fixes[]` entry of `lint --format json`."""
        return {
            "id": self.id, "action": self.action, "policy": self.policy, "namespace": self.namespace,
            "name": self.name, "description": self.description, "manifest": self.manifest,
            "patch": [dict(op) for op in self.patch], "round": self.round,
            "file": self.source.file if self.source else None, "line": self.source.line if self.source else None,
        }

    def yaml(self) -> str:
        """The fix as YAML to `kubectl apply` (a patch also as the `kubectl patch` command)."""
        head = f"# {self.description}\n"
        if self.action == "patch":
            ops = _COMPACT_JSON.encode(list(self.patch))
            head += f"# kubectl patch networkpolicy {self.name} -n {self.namespace} --type json -p '{ops}'\n"
        # Written as text where it can be (PyYAML's Python dumper cost seconds on big bundles), else PyYAML.
        body = yamltext.dump(self.manifest)
        return head + (body if body is not None else
                       yaml.safe_dump(self.manifest, sort_keys=False, default_flow_style=False, width=100))


@dataclass(frozen=True, slots=True)
class FixSet:
    """The converged fixes and, per finding of the bundle as given, the ids of the fixes it needs."""

    fixes: tuple[Fix, ...]
    by_finding: tuple[tuple[str, ...], ...]
    rounds: int
    converged: bool
    # Each fix's position and YAML, filled on first use: thousands of findings share a few fixes.
    _yaml: dict[str, tuple[int, str]] = dataclasses.field(default_factory=dict, compare=False, repr=False)
    # The joined YAML per tuple of ids asked for: most findings that have fixes share their tuple with others.
    _joined: dict[tuple[str, ...], str | None] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def yaml_for(self, ids: Iterable[str]) -> str | None:
        """The YAML of the fixes named by `ids`, in the order of `fixes`."""
        key = tuple(ids)
        if key in self._joined:
            return self._joined[key]
        if not self._yaml and self.fixes:
            self._yaml.update({f.id: (i, "") for i, f in enumerate(self.fixes)})
        chosen = sorted(self._yaml[i][0] for i in set(key) if i in self._yaml)
        text = self._joined[key] = "---\n".join(self._fix_yaml(self.fixes[i]) for i in chosen) or None
        return text

    def _fix_yaml(self, fix: Fix) -> str:
        index, text = self._yaml[fix.id]
        if not text:
            text = fix.yaml()
            self._yaml[fix.id] = (index, text)
        return text


# --- collecting fixes --------------------------------------------------------------------------


class FixCollector:
    """Accumulates fixes across rounds: names stay unique and stable, adds merge, patches combine."""

    def __init__(self, original: Bundle) -> None:
        self.original = {p.id: p for p in original.policies}
        self.adds: dict[str, Manifest] = {}
        self.patches: dict[str, list[PatchOp]] = {}
        self.meta: dict[str, tuple[str, int, tuple[str, ...]]] = {}  # id -> (description, round, isolates)
        # Each patched policy's manifest with `patches[key]` applied, as checked when they were recorded (read
        # only: the fixes share it).
        self._patched: dict[str, Manifest] = {}
        self.version = 0
        self._fixes: tuple[int, list[Fix]] | None = None

    def add(self, manifest: Manifest, description: str, round_: int, isolates: tuple[str, ...] = ()) -> str:
        ns, wanted = manifest["metadata"]["namespace"], manifest["metadata"]["name"]
        name = self._free_name(ns, wanted)
        manifest = {**manifest, "metadata": {**manifest["metadata"], "name": name}}
        key = f"add {ns}/{name}"
        old = self.adds.get(key)
        merged = manifest if old is None else merge_policies(old, manifest)
        if merged != old:
            self.adds[key] = merged
            self.version += 1
        self.meta.setdefault(key, (description, round_, isolates))
        return key

    def patch(self, policy: NetworkPolicy, ops: Sequence[PatchOp], description: str, round_: int,
              isolates: tuple[str, ...] = ()) -> str | None:
        """Record a patch of an original policy; None when it does not apply to it."""
        if policy.id not in self.original:
            return None
        key = f"patch {policy.id}"
        have = self.patches.get(key, [])
        paths = {op["path"] for op in have}
        new = [dict(op) for op in ops if op["path"] not in paths]
        if new or not have:  # `have` alone applied when it was recorded: asked again (the next round), it still does
            try:
                # operations apply in order: `have` then `new` is `new` applied to what `have` gave
                patched = (apply_patch(self._patched[key], new) if have
                           else apply_patch(policy_manifest(self.original[policy.id]), new, in_place=True))
            except PatchError:
                return None
        if new:
            self.patches[key] = [*have, *new]
            self._patched[key] = patched
            self.version += 1
        self.meta.setdefault(key, (description, round_, isolates))
        return key if key in self.patches else None

    def fixes(self) -> list[Fix]:
        """Every fix collected so far, in order (computed once per change: patches are applied to copies)."""
        if self._fixes is None or self._fixes[0] != self.version:
            self._fixes = (self.version, self._all_fixes())
        return list(self._fixes[1])

    def _all_fixes(self) -> list[Fix]:
        out = []
        for key, manifest in self.adds.items():
            desc, round_, iso = self.meta[key]
            meta = manifest["metadata"]
            out.append(Fix("add", meta["namespace"], meta["name"], desc, manifest, round=round_, isolates=iso))
        for key, ops in self.patches.items():
            p = self.original[key.split(" ", 1)[1]]
            desc, round_, iso = self.meta[key]
            out.append(Fix("patch", p.namespace, p.name, desc, self._patched[key], tuple(ops), p.source, round_, iso))
        return sorted(out, key=lambda f: (f.round, f.namespace, f.action, f.name))

    def _free_name(self, namespace: str, wanted: str) -> str:
        name = wanted[:253]
        n = 1
        while f"{namespace}/{name}" in self.original:
            n += 1
            name = f"netreason-{wanted}"[:250] + ("" if n == 2 else f"-{n}")
        return name


def merge_policies(old: Manifest, new: Manifest) -> Manifest:
    """`old` with `new`'s policyTypes and rules added; a rule to the same peers gains the new ports."""
    spec = json.loads(json.dumps(old["spec"]))
    types = set(spec.get("policyTypes", [])) | set(new["spec"].get("policyTypes", []))
    spec["policyTypes"] = [t for t in ("Ingress", "Egress") if t in types]
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for rule in new["spec"].get(direction, []):
            rules = spec.setdefault(direction, [])
            same = next((r for r in rules if r.get(peers_key) == rule.get(peers_key)), None)
            if same is None:
                rules.append(rule)
            elif "ports" not in same or "ports" not in rule:
                same.pop("ports", None)
            else:
                same["ports"] = _union_ports(same["ports"], rule["ports"])
    return {**old, "spec": spec}


def _union_ports(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = list(a)
    for p in b:
        if p not in out:
            out.append(p)
    return sorted(out, key=lambda p: (str(p.get("port")), p.get("protocol", "TCP")))


# --- what each rule's fix is --------------------------------------------------------------------


class FixView:
    """What fix generators read: one bundle (as given, or with earlier fixes applied) and its lint."""

    def __init__(self, bundle: Bundle, findings: Sequence[Finding], results: Sequence[DependencyResult],
                 actors: ExternalActors, conn: Connectivity | None = None,
                 exposed: Sequence[Exposure] | None = None) -> None:
        self.bundle = bundle
        self._exposed = exposed
        self.findings = findings
        self.results = results
        self.actors = actors
        self._conn = conn

    @cached_property
    def conn(self) -> Connectivity:
        return self._conn if self._conn is not None else compute_connectivity(compile_bundle(self.bundle))

    @cached_property
    def by_namespace(self) -> dict[str, list[Workload]]:
        out: dict[str, list[Workload]] = defaultdict(list)
        for w in self.bundle.workloads:
            out[w.namespace].append(w)
        return out

    @cached_property
    def workloads(self) -> dict[str, Workload]:
        return {w.id: w for w in self.bundle.workloads}

    @cached_property
    def needs(self) -> dict[tuple[str, str], list[Dependency]]:
        """The dependencies between two workloads, by (source id, destination id)."""
        out: dict[tuple[str, str], list[Dependency]] = defaultdict(list)
        for r in self.results:
            if r.dependency.dst is not None:
                out[(r.dependency.src, r.dependency.dst)].append(r.dependency)
        return out

    @cached_property
    def grants_by_rule(self) -> dict[RuleRef, list[Grant]]:
        """The compiled grants of each policy rule (one pass, not one scan per finding)."""
        out: dict[RuleRef, list[Grant]] = defaultdict(list)
        for g in self.conn.compiled.grants:
            out[g.rule].append(g)
        return out

    @cached_property
    def policies(self) -> dict[str, NetworkPolicy]:
        return {p.id: p for p in self.bundle.policies}

    @cached_property
    def dns_lacking(self) -> dict[str, list[Workload]]:
        out: dict[str, list[Workload]] = defaultdict(list)
        for f in self.findings:
            if f.rule in ("dns-egress-missing", "ipblock-without-dns") and f.object in self.workloads:
                w = self.workloads[f.object]
                if w not in out[w.namespace]:
                    out[w.namespace].append(w)
        return out

    @cached_property
    def exposed(self) -> list[Exposure]:
        return list(self._exposed) if self._exposed is not None else exposures(self.bundle)

    def isolated(self, w: Workload, direction: str) -> bool:
        c = self.conn.compiled
        return c.isolated(c.class_of_workload(w.id), direction)  # type: ignore[arg-type]

    def result_for(self, f: Finding) -> DependencyResult | None:
        return self._results_by_key.get((f.object, str(f.details.get("key"))))

    @cached_property
    def _results_by_key(self) -> dict[tuple[str, str], DependencyResult]:
        """The first result per (client, finding key): one lookup per finding, not a scan."""
        out: dict[tuple[str, str], DependencyResult] = {}
        for r in self.results:
            d = r.dependency
            out.setdefault((d.src, f"{d.target} {d.protocol}/{d.port}"), r)
        return out


Generator = Callable[[FixView, Finding, FixCollector, int], list[str]]


def _dns_fix(view: FixView, f: Finding, c: FixCollector, round_: int) -> list[str]:
    w = view.workloads.get(f.object)
    if w is None:
        return []
    members = [m for m in view.by_namespace[w.namespace] if not m.host_network]
    lacking = view.dns_lacking.get(w.namespace, [w])
    if all(view.isolated(m, "egress") for m in members):
        selector: dict[str, Any] = {}
        name = "allow-dns"
    elif len(lacking) == 1 or (group := group_selector(lacking, members)) is None:
        selector, name = workload_selector(w, members), f"allow-dns-{w.name}"
    else:
        selector, name = group, "allow-dns"
    target = str(f.details.get("dns_target") or f"{DNS_NAMESPACE}/kube-dns").split("/", 1)[0]
    rule = {"to": [{"namespaceSelector": namespace_by_name(target), "podSelector": {"matchLabels": dict(DNS_LABELS)}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
    who = "every pod" if not selector else "the pods that lack it"
    manifest = new_policy(w.namespace, name, selector, egress=[rule])
    opens_up = not selector and not all(view.isolated(m, "egress") for m in members)
    return [c.add(manifest, f"allow {who} in {w.namespace} to reach cluster DNS (53/UDP and 53/TCP)", round_,
                  isolates=("egress",) if opens_up else ())]


def group_selector(ws: Sequence[Workload], members: Sequence[Workload]) -> dict[str, Any] | None:
    """A selector for exactly the workloads `ws` among `members` (`key In [...]`), or None."""
    wanted = {w.id for w in ws}
    keys = set.intersection(*(set(w.labels) for w in ws)) if ws else set()
    for key in sorted(keys, key=lambda k: (k not in ("app", "app.kubernetes.io/name", "name"), k)):
        values = sorted({w.labels[key] for w in ws})
        hit = {m.id for m in members if m.labels.get(key) in values}
        if hit == wanted:
            return {"matchExpressions": [{"key": key, "operator": "In", "values": values}]}
    return None


def _dependency_fix(view: FixView, f: Finding, c: FixCollector, round_: int) -> list[str]:
    r = view.result_for(f)
    if r is None:
        return []
    return dependency_allows(view, r.dependency, r, c, round_)


def dependency_allows(view: FixView, d: Dependency, r: DependencyResult | None, c: FixCollector,
                      round_: int) -> list[str]:
    """The least-privilege allow on each side that denies `d` (both sides when `r` is None)."""
    src = view.workloads.get(d.src)
    if src is None:
        return []
    out: list[str] = []
    if d.dst is None:
        if d.cidr and (r is None or not r.allowed):
            rule = {"to": [{"ipBlock": {"cidr": d.cidr}}], "ports": port_entries([(d.protocol, d.port)])}
            out.append(c.add(new_policy(src.namespace, f"allow-{src.name}-egress",
                                        workload_selector(src, view.by_namespace[src.namespace]), egress=[rule]),
                             f"let {d.src} reach what it needs", round_))
        return out
    dst = view.workloads.get(d.dst)
    if dst is None:
        return []
    denied = {"egress", "ingress"} if r is None or r.verdict is None else {
        s.direction for s in (r.verdict.egress, r.verdict.ingress) if not s.allowed}
    for side in ("egress", "ingress"):
        if side in denied:
            out += side_allow(view, d, src, dst, side, c, round_)
    return out


def side_allow(view: FixView, d: Dependency, src: Workload, dst: Workload, side: str, c: FixCollector,
                round_: int) -> list[str]:
    """The allow for dependency `d` at one side: egress at the client or ingress at the server."""
    what = f"{d.src} -> {d.target} {d.protocol}/{d.port}"
    ports = port_entries([(d.protocol, d.port)])
    if side == "egress":
        if src.host_network:
            return []
        rule = {"to": [workload_peer(dst, src.namespace, view.by_namespace[dst.namespace])], "ports": ports}
        manifest = new_policy(src.namespace, f"allow-{src.name}-egress",
                              workload_selector(src, view.by_namespace[src.namespace]), egress=[rule])
        return [c.add(manifest, f"let {d.src} open the connections its dependencies need ({what}, ...)", round_)]
    if dst.host_network:
        return []
    rule = {"from": [workload_peer(src, dst.namespace, view.by_namespace[src.namespace])], "ports": ports}
    manifest = new_policy(dst.namespace, f"allow-{dst.name}-ingress",
                          workload_selector(dst, view.by_namespace[dst.namespace]), ingress=[rule])
    return [c.add(manifest, f"admit at {d.target} the clients that depend on it ({what}, ...)", round_)]


def _default_deny_fix(view: FixView, f: Finding, c: FixCollector, round_: int) -> list[str]:
    ns = f.object
    missing = [m for m in f.details.get("missing", ()) if m in ("ingress", "egress")]
    if f.rule == "legacy-isolation-annotation":
        missing = [] if _has_namespace_wide(view, ns, "ingress") else ["ingress"]
    out = []
    for direction in missing:
        manifest = new_policy(ns, f"default-deny-{direction}", {}, types=[direction.capitalize()])
        out.append(c.add(manifest, f"deny all {direction} in {ns} not allowed by another policy "
                                    f"(apply after the allows it needs)", round_, isolates=(direction,)))
        if direction == "ingress":
            out += external_allows(view, ns, c, round_)
    return out


def external_allows(view: FixView, namespace: str, c: FixCollector, round_: int, *,
                    only_open: bool = True) -> list[str]:
    """Keep outside ingress to the namespace's exposed workloads (from the configured actors)."""
    out = []
    for e in view.exposed:
        w = e.workload
        if w.namespace != namespace or w.host_network or (only_open and view.isolated(w, "ingress")):
            continue
        rule = {"from": view.actors.peers(e.via), "ports": port_entries(e.ports)}
        manifest = new_policy(namespace, f"allow-{w.name}-external", workload_selector(w, view.by_namespace[namespace]),
                              ingress=[rule])
        out.append(c.add(manifest, f"keep outside ingress to {w.id} ({e.reason})", round_))
    return out


def _has_namespace_wide(view: FixView, ns: str, direction: str) -> bool:
    flag = "affects_ingress" if direction == "ingress" else "affects_egress"
    return any(p.namespace == ns and p.pod_selector.is_empty and getattr(p, flag) for p in view.bundle.policies)


def _namespace_label_fix(view: FixView, f: Finding, c: FixCollector, round_: int) -> list[str]:
    target, where, p = f.details.get("namespace"), f.details.get("field"), view.policies.get(f.object)
    if not target or not where or p is None:
        return []
    op = {"op": "replace", "path": field_pointer(where), "value": namespace_by_name(target)}
    key = c.patch(p, [op], f"select namespace {target} by its name label in {where}", round_)
    return [key] if key else []


def _selects_nothing_fix(view: FixView, f: Finding, c: FixCollector, round_: int) -> list[str]:
    where, near_id, p = f.details.get("field"), f.details.get("nearest"), view.policies.get(f.object)
    suggestion = f.details.get("suggestion") or {}
    if not where or not near_id or not suggestion or p is None:
        return []
    selector = _selector_at(p, where)
    near = view.workloads.get(str(near_id))
    if selector is None or near is None:
        return []
    fixed = _with_suggestion(selector, near, suggestion)
    if fixed is None:
        return []
    own = where == "spec.podSelector"
    pointer = field_pointer(where) + ("" if own else "/podSelector")
    labels = ", ".join([f"{k}={v}" for k, v in suggestion.items()])  # a list: join makes one of a generator
    key = c.patch(p, [{"op": "replace", "path": pointer, "value": fixed}],
                  f"select {near.id} in {where} (labels {labels})", round_,
                  isolates=tuple([t.lower() for t in p.policy_types]) if own else ())
    return [key] if key else []


def _selector_at(p: NetworkPolicy, where: str) -> LabelSelector | None:
    if where == "spec.podSelector":
        return p.pod_selector
    peer = _peer_at(p, where)
    return peer.pod_selector if peer is not None else None


def _peer_at(p: NetworkPolicy, where: str) -> Peer | None:
    m = re.fullmatch(r"spec\.(ingress|egress)\[(\d+)\]\.(?:from|to)\[(\d+)\]", where)
    if m is None:
        return None
    rules = p.ingress if m.group(1) == "ingress" else p.egress
    i, j = int(m.group(2)), int(m.group(3))
    peers = rules[i].peers if i < len(rules) else None
    return peers[j] if peers is not None and j < len(peers) else None


def _with_suggestion(selector: LabelSelector, near: Workload, suggestion: Mapping[str, str]) -> dict[str, Any] | None:
    """`selector` with the requirements `near` fails replaced by `suggestion`'s labels, if it then selects `near`."""
    labels = near.labels
    out = selector_manifest(LabelSelector(tuple(r for r in selector.requirements if requirement_matches(r, labels))))
    match_labels = out.setdefault("matchLabels", {})
    match_labels.update(suggestion)
    # `near` meets every requirement kept, those of matchExpressions among them: it is selected when it has every
    # label of matchLabels (not parsed again and matched: thousands of fixes at benchmark tier M)
    return out if all(labels.get(k) == v for k, v in match_labels.items()) else None


def _dns_anywhere_fix(view: FixView, f: Finding, c: FixCollector, round_: int) -> list[str]:
    where, p = f.details.get("field"), view.policies.get(f.object)
    if not str(f.details.get("key", "")).endswith(" dns") or not where or p is None:
        return []
    rule = {"to": [{"namespaceSelector": namespace_by_name(DNS_NAMESPACE),
                    "podSelector": {"matchLabels": dict(DNS_LABELS)}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
    key = c.patch(p, [{"op": "replace", "path": field_pointer(where), "value": rule}],
                  f"limit {where} of {p.id} to the cluster DNS pods", round_)
    return [key] if key else []


def _one_sided_fix(view: FixView, f: Finding, c: FixCollector, round_: int) -> list[str]:
    """The other side of each flow the rule grants, the other side denies, and a dependency needs.

    Every peer of the rule is considered (not just the example in the message); flows no
    dependency needs stay closed: least privilege, and a human decides whether they are meant.
    """
    needs = view.needs
    if not needs:
        return []  # only flows a dependency needs are opened: with none known there is nothing to look for
    p, where = view.policies.get(f.object), str(f.details.get("key", ""))
    m = re.fullmatch(r"(ingress|egress)\[(\d+)\]", where)
    if p is None or m is None:
        return []
    direction, index = m.group(1), int(m.group(2))
    out = []
    # `direction` is the regex group (ingress|egress) above; RuleRef wants the Direction literal
    for src, dst, missing in _one_sided_gaps(view, RuleRef(p.id, direction, index)):  # type: ignore[arg-type]
        for d in needs.get((src.id, dst.id), ()):
            if missing.contains(d.protocol, d.port):
                side = "egress" if direction == "ingress" else "ingress"
                out += side_allow(view, d, src, dst, side, c, round_)
    return out


def _one_sided_gaps(view: FixView, ref: RuleRef) -> list[tuple[Workload, Workload, PortSet]]:
    """(source, destination, ports) the rule grants that the opposite side denies, one workload pair each."""
    cmp = view.conn.compiled
    other = view.conn.ingress if ref.direction == "egress" else view.conn.egress
    out = []
    for g in view.grants_by_rule.get(ref, ()):
        for s in iter_bits(g.src):
            for d in iter_bits(g.dst):
                passed = 0
                for dst_mask, ports in other[s]:
                    if dst_mask >> d & 1:
                        passed |= ports
                missing = g.ports & ~passed
                if not missing:
                    continue
                portset = cmp.atoms.to_portset(missing)
                for ws in cmp.classes[s].members:
                    for wd in cmp.classes[d].members:
                        out.append((cmp.bundle.workloads[ws], cmp.bundle.workloads[wd], portset))
    return out


GENERATORS: dict[str, Generator] = {
    "egress-without-ingress": _one_sided_fix,
    "ingress-without-egress": _one_sided_fix,
    "dns-egress-missing": _dns_fix,
    "ipblock-without-dns": _dns_fix,
    "dependency-broken": _dependency_fix,
    "no-default-deny": _default_deny_fix,
    "legacy-isolation-annotation": _default_deny_fix,
    "namespace-label-missing": _namespace_label_fix,
    "policy-selects-nothing": _selects_nothing_fix,
    "selector-too-broad": _dns_anywhere_fix,
}

#: What the fix of each rule's findings is (docs/rules.md); a rule missing here gets no fix.
FIX_HELP: dict[str, str] = {
    "dns-egress-missing": "Adds `allow-dns` to the namespace: egress to the kube-dns pods in kube-system (selected "
                          "by `kubernetes.io/metadata.name`) on 53/UDP and 53/TCP; one per namespace, selecting every "
                          "pod when all are isolated for egress, else only those that lack DNS.",
    "ipblock-without-dns": "The same `allow-dns` as dns-egress-missing.",
    "dependency-broken": "Adds the least-privilege allow on each side that denies the dependency: egress at the "
                         "client (`allow-<client>-egress`) and/or ingress at the server (`allow-<server>-ingress`), "
                         "naming the other workload by its labels and, across namespaces, its namespace by name, on "
                         "the one port. A workload's allows merge into one policy.",
    "egress-without-ingress": "Adds the ingress allow at the destination for the flows of the rule that a known "
                              "dependency needs; other flows stay closed (a human decides whether they are meant).",
    "ingress-without-egress": "Adds the egress allow at the sources for the flows of the rule that a known "
                              "dependency needs; other flows stay closed (a human decides whether they are meant).",
    "selector-too-broad": "For a DNS rule open to any address: patches the rule to the cluster DNS pods. Otherwise "
                          "none: only a human knows which pods or peers were meant.",
    "namespace-label-missing": "Patches the namespaceSelector to select the namespace that holds the peer's pods by "
                               "`kubernetes.io/metadata.name`, when there is one; otherwise none.",
    "policy-selects-nothing": "Patches the selector to the nearest existing labels when they are a probable typo; "
                              "otherwise none.",
    "no-default-deny": "Adds `default-deny-ingress` and/or `default-deny-egress`, together with everything they "
                       "would cut that is needed: the dependencies' allows, DNS, and outside ingress to exposed "
                       "workloads (LoadBalancer/NodePort Services) from the configured external actors.",
    "legacy-isolation-annotation": "Adds `default-deny-ingress` (shared with no-default-deny) when the namespace has "
                                   "no namespace-wide ingress policy; otherwise remove the annotation by hand.",
}

#: Why a finding of these rules gets no fix: a human has to choose.
NO_FIX_REASONS: dict[str, str] = {
    "egress-without-ingress": "No fix is proposed: no known dependency uses this rule and netreason opens only "
                              "what a dependency needs; if the flow is meant, declare it (deps file) or add the rule.",
    "ingress-without-egress": "No fix is proposed: no known dependency uses this rule and netreason opens only "
                              "what a dependency needs; if the flow is meant, declare it (deps file) or add the rule.",
    "selector-too-broad": "No fix is proposed: only you know which pods this was meant for.",
    "policy-selects-nothing": "No fix is proposed: no similar labels exist, so only you know what was meant.",
    "namespace-label-missing": "No fix is proposed: no namespace in the bundle is evidently the one meant.",
    "legacy-isolation-annotation": "No policy is missing: a namespace-wide ingress policy exists; remove the "
                                   "annotation so nobody relies on it (kubectl annotate namespace NAME "
                                   "net.beta.kubernetes.io/network-policy-).",
}


def propose(view: FixView, findings: Sequence[Finding], c: FixCollector, round_: int) -> list[list[str]]:
    """The ids of the fixes each finding needs (recorded in `c`), in finding order."""
    out = []
    for f in findings:
        gen = GENERATORS.get(f.rule)
        ids = gen(view, f, c, round_) if gen else []  # a new list from each call
        out.append(list(dict.fromkeys(ids)) if len(ids) > 1 else ids)
    return out


# --- applying and converging ------------------------------------------------------------------


def apply_fixes(bundle: Bundle, fixes: Sequence[Fix]) -> Bundle:
    """The bundle with each patch applied to its policy and each new policy added."""
    patched = {f.policy: f for f in fixes if f.action == "patch"}
    policies = [_patched(p, patched[p.id]) if p.id in patched else p for p in bundle.policies] if patched \
        else list(bundle.policies)
    for i, f in enumerate(x for x in fixes if x.action == "add"):
        policies.append(network_policy_from(f.manifest, f.namespace, SourceRef(FIXES_FILE, 0, i)))
    return dataclasses.replace(bundle, policies=tuple(policies))


def _patched(p: NetworkPolicy, fix: Fix) -> NetworkPolicy:
    """`p` as `fix` leaves it. A fix of its podSelector alone (the common patch: a typo in a label) changes
    that field only, so the rules are `p`'s own; anything else is read again from the patched manifest."""
    if fix.patch and all(op["op"] == "replace" and op["path"] == "/spec/podSelector" for op in fix.patch):
        return p.with_pod_selector(selector_from(fix.manifest["spec"]["podSelector"]))
    return network_policy_from(fix.manifest, p.namespace, p.source)


#: Lints a bundle with fixes applied: (the dependencies' results, the findings, the connectivity).
Relint = Callable[[Bundle, Sequence[Dependency]], tuple[Sequence[DependencyResult], Sequence[Finding], Connectivity]]


def converge(bundle: Bundle, deps: Sequence[Dependency], results: Sequence[DependencyResult],
             findings: Sequence[Finding], relint: Relint, *, conn: Connectivity | None = None,
             actors: ExternalActors | None = None, rounds: int = MAX_ROUNDS) -> FixSet:
    """Fixes for `findings` of `bundle`, plus what applying them needs, to a fixed point.

    `relint` evaluates the dependencies on a bundle and lints it (the same rules that made `findings`).
    """
    actors = actors or ExternalActors()
    c = FixCollector(bundle)
    by_finding = propose(FixView(bundle, findings, results, actors, conn), findings, c, 0)
    done, converged = 0, True
    for n in range(1, rounds + 1):
        if not c.adds and not c.patches:
            break
        before = c.version
        fixed = apply_fixes(bundle, c.fixes())
        fixed_results, fixed_findings, fixed_conn = relint(fixed, deps)
        propose(FixView(fixed, fixed_findings, fixed_results, actors, fixed_conn), fixed_findings, c, n)
        done = n
        if c.version == before:
            break
    else:
        converged = False
    fixes = c.fixes()
    return FixSet(tuple(fixes), _attribute(findings, by_finding, fixes), done, converged)


def _attribute(findings: Sequence[Finding], by_finding: list[list[str]],
               fixes: Sequence[Fix]) -> tuple[tuple[str, ...], ...]:
    """Round-0 ids per finding; later rounds follow the isolating fixes (default deny) of their namespace."""
    later: dict[tuple[str, str], list[int]] = defaultdict(list)  # (namespace, direction) -> positions in fixes
    for n, f in enumerate(fixes):
        if f.round > 0:
            for t in f.manifest["spec"]["policyTypes"]:
                later[(f.namespace, t.lower())].append(n)
    isolating = {f.id: f for f in fixes if f.isolates}
    out = []
    for ids in by_finding:
        if not later or not ids:  # nothing to follow (`ids` are distinct already: `propose`)
            out.append(tuple(ids))
            continue
        cuts = {(isolating[i].namespace, d) for i in ids if i in isolating for d in isolating[i].isolates}
        follow = [fixes[n].id for n in sorted({n for cut in cuts for n in later.get(cut, ())})]
        out.append(tuple(dict.fromkeys([*ids, *follow])))
    return tuple(out)


def attach_fixes(findings: Sequence[Finding], fixset: FixSet,
                 sources: Sequence[SourceRef | None] | None = None) -> list[Finding]:
    """Each finding with `fix` = the YAML of its fixes and `details["fixes"]` = their ids.

    A finding without a fix whose rule needs a human choice says so in its message. `sources`, when
    given, are the findings' sources to give them in the same step (lint moves each finding to its
    field's line: one new finding each rather than two).
    """
    out = []
    yaml_for, reasons = fixset.yaml_for, NO_FIX_REASONS
    for f, ids, source in zip(findings, fixset.by_finding, sources if sources is not None else
                              [f.source for f in findings]):
        if ids:
            out.append(f.with_fix(f.message, yaml_for(ids), {**f.details, "fixes": list(ids)}, source))
        else:
            note = reasons.get(f.rule)
            out.append(f.with_fix(f"{f.message.rstrip()} {note}" if note else f.message, None,
                                  {**f.details, "fixes": []}, source))
    return out


__all__ = [
    "FIXES_FILE",
    "Fix",
    "FixCollector",
    "FixSet",
    "FixView",
    "apply_fixes",
    "attach_fixes",
    "converge",
    "dependency_allows",
    "external_allows",
    "group_selector",
    "merge_policies",
]
