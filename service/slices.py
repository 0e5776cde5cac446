"""Cutting a cluster into slices a model can read: by namespace (the rollout unit), then by workload.

A slice asks about its *focus* workloads (and their dependencies: each dependency is asked once, in its client's
slice). Its brief holds exactly what those questions need: the focus workloads, the workloads their
dependencies reach, the cluster DNS pods, the namespaces of all of them (namespaceSelectors match their
labels), the Services in question, and every policy that selects one of those workloads (plus every policy of
a focus namespace, for findings). Policies in a namespace select only pods of that namespace, so nothing that
decides a connection between two included workloads is left out.

Planning is pure: `plan_slices` measures each namespace's brief, packs namespaces into slices under the
budget, splits a namespace that alone is too big by workload, and renders each slice's prompt to count it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from verifier.model.bundle import Bundle, NetworkPolicy, Workload
from verifier.model.records import Dependency
from verifier.sets.selectors import iter_bits

from .brief import BriefLines, render_brief
from .budgets import ANSWER_OVERHEAD_TOKENS, TOKENS_PER_CLAIM, Budget, estimate_tokens
from .scope import Scope
from .truth import Truth

if TYPE_CHECKING:  # the prompt library imports LangChain: only planning a model's slices needs it
    from .prompting import PreparedPrompt

DNS_NAMESPACE = "kube-system"
DNS_LABEL = ("k8s-app", "kube-dns")


@dataclass(frozen=True)
class Slice:
    """One call's worth of the cluster: what it asks about, what its brief shows, and its size."""

    index: int
    namespaces: tuple[str, ...]
    focus: tuple[str, ...]
    bundle: Bundle
    dependencies: tuple[Dependency, ...]
    split: str  # "whole", "namespace" or "workload"
    prompt_tokens: int = 0
    output_tokens: int = 0
    prepared: PreparedPrompt | None = field(default=None, repr=False, compare=False)

    def over(self, budget: Budget) -> bool:
        return self.prompt_tokens > budget.input_tokens or self.output_tokens > budget.output_tokens

    def to_json(self, budget: Budget) -> dict[str, Any]:
        shown = list(self.namespaces[:20])
        return {"index": self.index, "split": self.split, "namespaces": shown,
                "namespaces_total": len(self.namespaces), "workloads": len(self.focus),
                "dependencies": len(self.dependencies), "prompt_tokens": self.prompt_tokens,
                "estimated_output_tokens": self.output_tokens, "over_budget": self.over(budget)}


class SliceContext:
    """Indexes over one truth, built once: who selects whom, dependencies by client, workloads by namespace."""

    def __init__(self, truth: Truth) -> None:
        self.truth = truth
        bundle = truth.bundle
        self.bundle = bundle
        self.by_ns: dict[str, list[Workload]] = defaultdict(list)
        for w in bundle.workloads:
            self.by_ns[w.namespace].append(w)
        self.ids = {w.id: w for w in bundle.workloads}
        self.deps_by_src: dict[str, list[Dependency]] = defaultdict(list)
        self.deps_by_dst: dict[str, list[Dependency]] = defaultdict(list)
        for r in truth.dependencies:
            self.deps_by_src[r.dependency.src].append(r.dependency)
            if r.dependency.dst:
                self.deps_by_dst[r.dependency.dst].append(r.dependency)
        self.policies_of, self.policies_in = _policy_index(truth)
        self.services_in: dict[str, list[Any]] = defaultdict(list)
        for s in bundle.services:
            self.services_in[s.namespace].append(s)
        self.services = {s.id: s for s in bundle.services}
        self.dns = [w.id for w in self.by_ns.get(DNS_NAMESPACE, []) if w.labels.get(DNS_LABEL[0]) == DNS_LABEL[1]]

    def sub_bundle(self, focus: Iterable[str], namespaces: Iterable[str],
                   incoming: bool = False) -> tuple[Bundle, tuple[Dependency, ...]]:
        """The bundle a slice's brief shows, and the dependencies it asks about (see the module docstring).

        `incoming` adds the dependencies that reach the focus workloads, and their clients (a `--focus` scope).
        """
        focus, namespaces = list(focus), set(namespaces)
        deps = tuple(d for w in focus for d in self.deps_by_src.get(w, ()))
        if incoming:
            deps += tuple(d for w in focus for d in self.deps_by_dst.get(w, ()) if d.src not in focus)
        shown = set(focus) | {d.dst for d in deps if d.dst} | {d.src for d in deps} | set(self.dns)
        policies: dict[str, NetworkPolicy] = {}
        for ns in namespaces:
            policies.update((p.id, p) for p in self.policies_in.get(ns, ()))
        for w in shown:
            policies.update((p.id, p) for p in self.policies_of.get(w, ()))
        ns_names = namespaces | {self.ids[w].namespace for w in shown}
        services = {s.id: s for ns in namespaces for s in self.services_in.get(ns, ())}
        services.update((d.service, self.services[d.service]) for d in deps if d.service in self.services)
        b = self.bundle
        sub = Bundle(
            namespaces={n: b.namespaces[n] for n in sorted(ns_names) if n in b.namespaces},
            workloads=tuple(w for w in b.workloads if w.id in shown),
            services=tuple(sorted(services.values(), key=lambda s: s.id)),
            policies=tuple(sorted(policies.values(), key=lambda p: p.id)),
        )
        return sub, deps


def _policy_index(truth: Truth) -> tuple[dict[str, list[NetworkPolicy]], dict[str, list[NetworkPolicy]]]:
    """workload id -> policies selecting it; namespace -> its policies (from the compiled class masks)."""
    compiled = truth.conn.compiled
    of: dict[str, list[NetworkPolicy]] = defaultdict(list)
    in_ns: dict[str, list[NetworkPolicy]] = defaultdict(list)
    members: dict[int, list[str]] = {}
    for p in truth.bundle.policies:
        in_ns[p.namespace].append(p)
        for cls in iter_bits(compiled.policy_targets.get(p.id, 0)):
            if cls not in members:
                members[cls] = [compiled.bundle.workloads[m].id for m in compiled.classes[cls].members]
            for wid in members[cls]:
                of[wid].append(p)
    return of, in_ns


def expected_claims(prompt_ref: str, focus: Sequence[str], deps: Sequence[Dependency]) -> int:
    """How many claims a complete answer about this slice holds (an upper bound, for the output budget)."""
    name = prompt_ref.split("@", 1)[0]
    if name == "flows":
        return sum(1 for d in deps if d.dst) or 0
    if name == "breakage":
        return len(deps)
    if name == "dns":
        return len(focus)
    if name == "review":
        return len(deps) + 2 * len(focus)
    return 20


def output_tokens(claims: int) -> int:
    return ANSWER_OVERHEAD_TOKENS + claims * TOKENS_PER_CLAIM


@dataclass
class _Unit:
    namespaces: tuple[str, ...]
    focus: tuple[str, ...]
    split: str
    tokens: int
    claims: int


def plan_slices(ctx: SliceContext, prompt_ref: str, budget: Budget, *, scope: Scope = Scope(),
                anonymize: bool = False, variables: Mapping[str, Any] | None = None) -> list[Slice]:
    """The slices to ask, each under `budget` where a single workload allows it (never refuses).

    The whole cluster (or scope) is one slice when it fits; else whole namespaces are packed into slices, and
    a namespace too big on its own is split by workload.
    """
    variables = dict(variables or {})
    lines = BriefLines()  # each object's brief line is written once, then reused by every brief it is in
    base = _render(ctx, prompt_ref, Bundle({}, (), (), ()), (), anonymize, variables)
    base_tokens = _tokens(base)
    units = _units(ctx, prompt_ref, budget, scope, base_tokens, lines)
    total_claims = sum(u.claims for u in units)
    if scope.whole and base_tokens + sum(u.tokens for u in units) <= budget.input_tokens \
            and output_tokens(total_claims) <= budget.output_tokens:
        deps = tuple(r.dependency for r in ctx.truth.dependencies)
        prepared = _render(ctx, prompt_ref, ctx.bundle, deps, anonymize, variables, lines)
        focus = tuple(w.id for w in ctx.bundle.workloads)
        return [Slice(1, tuple(sorted(ctx.bundle.namespaces)), focus, ctx.bundle, deps, "whole",
                      _tokens(prepared), output_tokens(total_claims), prepared)]
    slices: list[Slice] = []
    for group in _pack(units, budget, base_tokens):
        namespaces = tuple(dict.fromkeys(n for u in group for n in u.namespaces))
        focus = tuple(w for u in group for w in u.focus)
        split = "workload" if any(u.split == "workload" for u in group) else "namespace"
        sub, deps = ctx.sub_bundle(focus, namespaces if split == "namespace" else (), incoming=scope.focus is not None)
        prepared = _render(ctx, prompt_ref, sub, deps, anonymize, variables, lines)
        claims = sum(u.claims for u in group)
        slices.append(Slice(len(slices) + 1, namespaces, focus, sub, deps, split, _tokens(prepared),
                            output_tokens(claims), prepared))
    return slices


def _units(ctx: SliceContext, prompt_ref: str, budget: Budget, scope: Scope, base_tokens: int,
           lines: BriefLines) -> list[_Unit]:
    """One unit per namespace in scope; a namespace over budget alone becomes one unit per workload."""
    if scope.focus is not None:
        _sub, deps = ctx.sub_bundle((scope.focus,), (), incoming=True)
        return [_Unit((ctx.ids[scope.focus].namespace,), (scope.focus,), "workload", 0,
                      expected_claims(prompt_ref, (scope.focus,), deps))]
    if scope.workloads:
        by_ns: dict[str, list[str]] = defaultdict(list)
        for wid in scope.workloads:
            if wid in ctx.ids:
                by_ns[ctx.ids[wid].namespace].append(wid)
        return [_unit(ctx, prompt_ref, (ns,), tuple(ws), "workload", lines) for ns, ws in sorted(by_ns.items())]
    names = scope.namespaces or tuple(sorted(ctx.bundle.namespaces))
    units = []
    for ns in names:
        focus = tuple(w.id for w in ctx.by_ns.get(ns, ()))
        unit = _unit(ctx, prompt_ref, (ns,), focus, "namespace", lines)
        if len(focus) > 1 and (base_tokens + unit.tokens > budget.input_tokens
                               or output_tokens(unit.claims) > budget.output_tokens):
            units += [_unit(ctx, prompt_ref, (ns,), (w,), "workload", lines) for w in focus]
        else:
            units.append(unit)
    return units


def _unit(ctx: SliceContext, prompt_ref: str, namespaces: tuple[str, ...], focus: tuple[str, ...], split: str,
          lines: BriefLines) -> _Unit:
    sub, deps = ctx.sub_bundle(focus, namespaces if split == "namespace" else ())
    tokens = estimate_tokens(len(render_brief(sub, deps, lines=lines)))
    return _Unit(namespaces, focus, split, tokens, expected_claims(prompt_ref, focus, deps))


def _pack(units: list[_Unit], budget: Budget, base_tokens: int) -> list[list[_Unit]]:
    """Greedy, in order: a slice takes units while its (over-)estimated prompt and answer fit."""
    groups: list[list[_Unit]] = []
    tokens = claims = 0
    for unit in units:
        fits = base_tokens + tokens + unit.tokens <= budget.input_tokens \
            and output_tokens(claims + unit.claims) <= budget.output_tokens
        if not groups or not fits:
            groups.append([])
            tokens = claims = 0
        groups[-1].append(unit)
        tokens += unit.tokens
        claims += unit.claims
    return groups


def _render(ctx: SliceContext, prompt_ref: str, bundle: Bundle, deps: Sequence[Dependency], anonymize: bool,
            variables: Mapping[str, Any], lines: BriefLines | None = None) -> PreparedPrompt:
    from .prompting import prepare_prompt_with

    return prepare_prompt_with(prompt_ref, bundle, list(deps), variables, anonymize=anonymize, brief_lines=lines)


def _tokens(prepared: PreparedPrompt) -> int:
    r = prepared.rendered
    return estimate_tokens(len(r.system) + sum(len(m["content"]) for m in r.messages))
