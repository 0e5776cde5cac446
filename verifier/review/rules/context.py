"""What every rule reads: the bundle, its connectivity, an explainer, and small shared helpers."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import yaml

from ...deps.dependencies import DependencyResult
from ...engine.compile import compile_bundle
from ...engine.connectivity import Connectivity, compute_connectivity
from ...engine.explain import Explainer
from ...model.bundle import Bundle, LabelSelector, NetworkPolicy, Peer, Rule, SourceRef, Workload
from ...sets.selectors import matches
from . import yamltext
from .nearest import LabelIndex

Direction = Literal["ingress", "egress"]


#: What `evaluate_dependencies` returns, one per dependency.
DependencyResultLike = DependencyResult


@dataclass(frozen=True, slots=True)
class PeerRef:
    """Peer `peer` of rule `index` of one direction of `policy`."""

    policy: NetworkPolicy
    direction: Direction
    index: int
    position: int
    rule: Rule
    peer: Peer

    @property
    def where(self) -> str:
        field = "from" if self.direction == "ingress" else "to"
        return f"spec.{self.direction}[{self.index}].{field}[{self.position}]"


class LintContext:
    """Read-only view of a bundle for the rules; computed pieces are cached."""

    def __init__(
        self, bundle: Bundle, conn: Connectivity | None = None,
        deps: Sequence[DependencyResultLike] = (), texts: Mapping[str, str] | None = None,
        *, snippets: bool = True, explanations: bool = True, shared: LintContext | None = None,
    ) -> None:
        # `snippets=False`: a rule may leave out its finding's fix YAML (the converged fixes replace it);
        # `explanations=False`: also the long why of its message (findings only read to propose fixes).
        self.snippets = snippets and explanations
        self.explanations = explanations
        self.bundle = bundle
        self.conn = conn if conn is not None else compute_connectivity(compile_bundle(bundle))
        self.deps = tuple(deps)
        self.texts = dict(texts or {})
        self._namespaces_matching: dict[LabelSelector, tuple[str, ...]] = {}
        self._hosting: dict[LabelSelector, tuple[str, ...]] = {}
        self._peer_selects: dict[tuple[str | LabelSelector, LabelSelector], bool] = {}
        self._lines: dict[str, list[str]] = {}
        self._starts: dict[str, list[int]] = {}
        self._memos: dict[str, dict[int, Any]] = {}
        if shared is not None:
            self._share_labels(shared)

    def _share_labels(self, other: LintContext) -> None:
        """Reuse `other`'s lookups over workloads and namespaces when this bundle has the very same ones.

        The fix rounds lint the bundle with the fixes applied: new policies, the same workloads and
        namespaces, so the label indexes (and the typo hints they remember) carry over.
        """
        if other.bundle.workloads is not self.bundle.workloads or other.bundle.namespaces is not self.bundle.namespaces:
            return
        self._namespaces_matching = other._namespaces_matching
        self._memos = other._memos
        self._hosting = other._hosting
        self._peer_selects = other._peer_selects
        self.__dict__["by_namespace"] = other.by_namespace
        self.__dict__["_label_indexes"] = other._label_indexes

    @cached_property
    def explainer(self) -> Explainer:
        return Explainer(self.bundle, self.conn.compiled)

    @cached_property
    def by_namespace(self) -> dict[str, list[Workload]]:
        out: dict[str, list[Workload]] = defaultdict(list)
        for w in self.bundle.workloads:
            out[w.namespace].append(w)
        return dict(out)

    @cached_property
    def policies_by_namespace(self) -> dict[str, list[NetworkPolicy]]:
        out: dict[str, list[NetworkPolicy]] = defaultdict(list)
        for p in self.bundle.policies:
            out[p.namespace].append(p)
        return dict(out)

    def text_lines(self, file: str) -> list[str]:
        """The lines of a source text, split once while a rule reads the objects of that file.

        Only the last file's lines are kept: a bundle's objects come file by file, and every file's
        lines at once would weigh three times the texts (76 MB on a 100,000-pod cluster).
        """
        lines = self._lines.get(file)
        if lines is None:
            self._lines.clear()
            lines = self._lines[file] = self.texts.get(file, "").splitlines()
        return lines

    def next_object_line(self, file: str, line: int) -> int | None:
        """The first line of the next object in `file` after the one starting at `line`, if any."""
        starts = self._starts.get(file)
        if starts is None:
            starts = self._object_starts().get(file, [])
        i = bisect.bisect_right(starts, line)
        return starts[i] if i < len(starts) else None

    def _object_starts(self) -> dict[str, list[int]]:
        if not self._starts:
            found: dict[str, set[int]] = defaultdict(set)
            b = self.bundle
            sources = [o.source
                       for group in (b.workloads, b.services, b.policies, b.namespaces.values(), b.other_objects)
                       for o in group]
            for src in sources:
                if src is not None:
                    found[src.file].add(src.line)
            self._starts.update({f: sorted(lines) for f, lines in found.items()})
            self._starts.setdefault("", [])  # computed, even for a bundle with no sources
        return self._starts

    def namespaces_matching(self, selector: LabelSelector) -> list[str]:
        """Namespaces whose labels `selector` matches, sorted (memoized: policies repeat their selectors)."""
        found = self._namespaces_matching.get(selector)
        if found is None:
            candidates = self._namespace_candidates(selector)
            found = tuple(sorted(n for n in candidates if matches(selector, self.bundle.namespaces[n].labels)))
            self._namespaces_matching[selector] = found
        return list(found)

    def _namespace_candidates(self, selector: LabelSelector) -> Iterable[str]:
        """Namespaces that may match: those carrying a value an `In` requirement names, else all of them."""
        index = self._namespace_label_index
        for r in selector.requirements:
            if r.operator == "In":
                return {n for v in r.values for n in index.get((r.key, v), ())}
        return self.bundle.namespaces.keys()

    @cached_property
    def _namespace_label_index(self) -> dict[tuple[str, str], list[str]]:
        index: dict[tuple[str, str], list[str]] = defaultdict(list)
        for name, ns in self.bundle.namespaces.items():
            for item in ns.labels.items():
                index[item].append(name)
        return dict(index)

    def namespaces_hosting(self, selector: LabelSelector) -> list[str]:
        """Namespaces with a workload whose labels `selector` matches, sorted (memoized)."""
        found = self._hosting.get(selector)
        if found is None:
            found = tuple(sorted({w.namespace for w in self.bundle.workloads if matches(selector, w.labels)}))
            self._hosting[selector] = found
        return list(found)

    def peer_namespaces(self, policy: NetworkPolicy, peer: Peer) -> list[str]:
        """Namespaces a selector peer reaches into (the policy's own without namespaceSelector)."""
        if peer.namespace_selector is None:
            return [policy.namespace]
        return self.namespaces_matching(peer.namespace_selector)

    def selects_any(self, where: str | LabelSelector, pods: LabelSelector) -> bool:
        """Whether `pods` matches some workload in namespace `where` (a name) or in the namespaces `where` (a
        namespaceSelector) selects, or there is no workload there (memoized by both: policies repeat them)."""
        key = (where, pods)
        found = self._peer_selects.get(key)
        if found is None:
            index = self.label_index([where] if isinstance(where, str) else self.namespaces_matching(where))
            found = self._peer_selects[key] = not index.candidates or index.matches_any(pods)
        return found

    def workloads_in(self, namespaces: Sequence[str]) -> list[Workload]:
        return [w for n in namespaces for w in self.by_namespace.get(n, ())]

    def label_index(self, namespaces: Sequence[str]) -> LabelIndex:
        """The labels of the workloads in `namespaces`, indexed for typo hints (built once per namespace set)."""
        key = tuple(namespaces)
        if key not in self._label_indexes:
            self._label_indexes[key] = LabelIndex([(w.id, w.labels) for w in self.workloads_in(key)])
        return self._label_indexes[key]

    @cached_property
    def _label_indexes(self) -> dict[tuple[str, ...], LabelIndex]:
        return {}

    def memo(self, rule: str) -> dict[int, Any]:
        """A rule's memory of what it found per object, kept as long as the workloads and namespaces are
        the same (shared with the fix rounds' contexts): keyed by `id(obj)`, each value holding `obj`
        itself, so an id is never reused while it is remembered."""
        return self._memos.setdefault(rule, {})

    def peers(self) -> Iterator[PeerRef]:
        """Every peer of every rule in the directions each policy affects, in bundle order."""
        for p in self.bundle.policies:
            yield from self.peers_of(p)

    def peers_of(self, p: NetworkPolicy, keep: Callable[[Peer], bool] | None = None) -> list[PeerRef]:
        """The peers of one policy's rules, in the directions it affects (those `keep` accepts, if given: a rule
        that looks at few peers skips building a reference to each of the others)."""
        # A list filled direction by direction: the selection rules ask for every policy, most of which give
        # none, and a generator over `rule_sets` cost 5 ms more at benchmark tier M (13,678 policies).
        out: list[PeerRef] = []
        if p.affects_ingress:
            _add_peers(out, p, "ingress", p.ingress, keep)
        if p.affects_egress:
            _add_peers(out, p, "egress", p.egress, keep)
        return out

    @staticmethod
    def rule_sets(p: NetworkPolicy) -> list[tuple[Direction, tuple[Rule, ...]]]:
        out: list[tuple[Direction, tuple[Rule, ...]]] = []
        if p.affects_ingress:
            out.append(("ingress", p.ingress))
        if p.affects_egress:
            out.append(("egress", p.egress))
        return out

    def workload_class(self, w: Workload) -> int:
        return self.conn.compiled.class_of_workload(w.id)

    def isolated(self, w: Workload, direction: Direction) -> bool:
        return self.conn.compiled.isolated(self.workload_class(w), direction)

    def first_source(self, namespace: str) -> SourceRef | None:
        ns = self.bundle.namespaces.get(namespace)
        if ns is not None and ns.source is not None:
            return ns.source
        return next((w.source for w in self.by_namespace.get(namespace, ()) if w.source), None)


def _add_peers(out: list[PeerRef], p: NetworkPolicy, direction: Direction, rules: Sequence[Rule],
               keep: Callable[[Peer], bool] | None) -> None:
    for i, rule in enumerate(rules):
        for j, peer in enumerate(rule.peers or ()):
            if keep is None or keep(peer):
                out.append(PeerRef(p, direction, i, j, rule, peer))


# --- rendering helpers shared by rules -----------------------------------------------------


def to_yaml(data: Any, comment: str = "") -> str:
    """A deterministic YAML snippet, optionally headed by `# comment` lines."""
    # Written as text (PyYAML's Python representer cost ~8 ms per fix, the largest share of lint on big
    # bundles); the rare shapes the writer does not handle go through PyYAML itself, as before.
    body = yamltext.dump(data)
    if body is None:
        body = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100)
    head = "".join(f"# {line}\n" for line in comment.splitlines())
    return head + body


def selector_yaml(selector: LabelSelector | Mapping[str, str]) -> dict[str, Any]:
    """A LabelSelector (or plain labels) as the API writes it."""
    if not isinstance(selector, LabelSelector):  # plain labels (a concrete class is quicker to test than Mapping)
        return {"matchLabels": dict(sorted(selector.items()))} if selector else {}
    simple = {r.key: r.values[0] for r in selector.requirements if r.operator == "In" and len(r.values) == 1}
    if len(simple) == len(selector.requirements):  # the common selector, matchLabels alone: no second pass
        return {"matchLabels": simple} if simple else {}
    exprs = [
        {"key": r.key, "operator": r.operator, **({"values": list(r.values)} if r.values else {})}
        for r in selector.requirements if not (r.operator == "In" and len(r.values) == 1)
    ]
    out: dict[str, Any] = {}
    if simple:
        out["matchLabels"] = simple
    if exprs:
        out["matchExpressions"] = exprs
    return out


def describe_peer(policy: NetworkPolicy, peer: Peer) -> str:
    """A short phrase for a peer: `pods name=cortex in sock-shop`, `ipBlock 10.0.0.0/8`."""
    if peer.ip_block is not None:
        return f"ipBlock {peer.ip_block}"
    selects_some = peer.pod_selector is not None and not peer.pod_selector.is_empty
    pods = f"pods {peer.pod_selector}" if selects_some else "all pods"
    if peer.namespace_selector is None:
        return f"{pods} in {policy.namespace}"
    if peer.namespace_selector.is_empty:
        return f"{pods} in every namespace"
    return f"{pods} in namespaces {peer.namespace_selector}"


def workload_peer_labels(w: Workload) -> dict[str, str]:
    """The labels to name a workload by in a suggested peer: `app`-style keys when present."""
    for key in ("app.kubernetes.io/name", "app", "k8s-app", "name"):
        if key in w.labels:
            return {key: w.labels[key]}
    return dict(sorted(w.labels.items()))
