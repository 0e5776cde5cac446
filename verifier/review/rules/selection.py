"""policy-selects-nothing and namespace-label-missing: selectors that match nothing in the bundle.

Both need a bundle that holds workloads: a folder of bare policies says nothing about the
cluster's labels, so these rules stay quiet on it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ...model.bundle import NAMESPACE_NAME_LABEL, LabelSelector, NetworkPolicy, Peer, Workload
from ...model.records import Finding
from ...sets.selectors import matches
from ..policy_manifest import ALWAYS_PRESENT_NAMESPACES
from .context import LintContext, PeerRef, selector_yaml, to_yaml
from .nearest import LabelIndex, Nearest, nearest, values_in_use


def selects_nothing_findings(ctx: LintContext) -> list[Finding]:
    """policy-selects-nothing for policy podSelectors and for selector peers."""
    if not ctx.bundle.workloads:
        return []
    selectors: list[Finding] = []
    peers: list[Finding] = []
    for found in _selection(ctx):
        selectors += found[2]
        peers += found[3]
    return selectors + peers


def namespace_label_findings(ctx: LintContext) -> list[Finding]:
    """namespace-label-missing: a non-empty namespaceSelector that matches no namespace."""
    if not ctx.bundle.workloads:
        return []
    out: list[Finding] = []
    for found in _selection(ctx):
        out += found[1]
    return out


#: What the selection rules found in one policy: (the policy, its namespace-label-missing findings, the
#: policy-selects-nothing findings of its podSelector and of its peers).
_Found = tuple[NetworkPolicy, Sequence[Finding], Sequence[Finding], Sequence[Finding]]


def _selection(ctx: LintContext) -> Iterator[_Found]:
    """What both rules found, policy by policy in bundle order (one look at a policy's selectors serves both).

    Per policy, from its own selectors and the bundle's workloads and namespaces only: the fix rounds
    (the same workloads and namespaces) reuse what was found for every policy no fix changed.
    """
    memo = ctx.memo("selection")
    for p in ctx.bundle.policies:
        known = memo.get(id(p))
        if known is None or known[0] is not p:
            known = memo[id(p)] = _look_at(ctx, p)
        yield known


def _look_at(ctx: LintContext, p: NetworkPolicy) -> _Found:
    own = () if ctx.selects_any(p.namespace, p.pod_selector) else (_policy_selects_nothing(ctx, p),)
    # most policies' peers are all fine: a PeerRef is built only for a peer one of the rules has a finding for
    refs = ctx.peers_of(p, lambda peer: _matches_no_namespace(ctx, peer) or _matches_no_pod(ctx, p, peer))
    if not refs:
        return (p, (), own, ())
    return (p, [_namespace_label_missing(ctx, ref) for ref in refs if _matches_no_namespace(ctx, ref.peer)], own,
            [_peer_selects_nothing(ctx, ref) for ref in refs if _matches_no_pod(ctx, p, ref.peer)])


def _policy_selects_nothing(ctx: LintContext, p: NetworkPolicy) -> Finding:
    selector, hint, fix, near = _hint(ctx, p.pod_selector, [p.namespace])
    return Finding(
        "policy-selects-nothing", "warning", p.id,
        f"policy {p.id} selects no pod: no workload in {p.namespace} has {selector}, so the policy "
        f"has no effect. {hint}",
        p.source, fix,
        {"key": f"podSelector {selector}", "selector": selector, "field": "spec.podSelector", **_near_json(near)},
    )


def _matches_no_pod(ctx: LintContext, p: NetworkPolicy, peer: Peer) -> bool:
    """Whether a selector peer of `p` requires pod labels no workload has in the namespaces it reaches into."""
    pods = peer.pod_selector
    return (peer.ip_block is None and pods is not None and not pods.is_empty
            and not ctx.selects_any(peer.namespace_selector or p.namespace, pods))


def _peer_selects_nothing(ctx: LintContext, ref: PeerRef) -> Finding:
    peer, p = ref.peer, ref.policy
    assert peer.pod_selector is not None
    namespaces = ctx.peer_namespaces(p, peer)
    where = p.namespace if peer.namespace_selector is None else ", ".join(namespaces)
    selector, hint, fix, near = _hint(ctx, peer.pod_selector, namespaces)
    field = ref.where
    return Finding(
        "policy-selects-nothing", "warning", p.id,
        f"{field} of {p.id} admits pods {selector} in {where}, but no workload there has "
        f"those labels, so this peer matches nothing. {hint}",
        p.source, fix,
        {"key": f"{ref.direction} peer {selector}", "selector": selector, "field": field, **_near_json(near)},
    )


def _near_json(near: Nearest | None) -> dict[str, object]:
    if near is None:
        return {}
    return {"nearest": near.name, "suggestion": dict(near.suggestion)}


#: A selector that matches nothing where it looks, as a finding says it: its text, then the typo hint (the
#: sentence, the fixed selector's YAML or None, the nearest labels).
_Hint = tuple[str, str, str | None, Nearest | None]


def _hint(ctx: LintContext, selector: LabelSelector, namespaces: Sequence[str]) -> _Hint:
    """The text of a podSelector and its `_typo_hint` among the workloads of `namespaces`, made once per pair: the
    policies repeating both share them (3,869 findings, 2,034 pairs at benchmark tier M), as do the fix rounds."""
    index = ctx.label_index(namespaces)
    memo = ctx.memo(_HINTS if ctx.snippets else _HINTS_WITHOUT_SNIPPETS)
    known = memo.get(id(index))
    if known is None:  # holding the index itself: its id is not reused while remembered
        known = memo[id(index)] = (index, {})
    hints: dict[LabelSelector, _Hint] = known[1]
    hint = hints.get(selector)
    if hint is None:
        hint = hints[selector] = (str(selector), *_typo_hint(selector, ctx.workloads_in(namespaces), index,
                                                             "podSelector", ctx.snippets))
    return hint


_HINTS, _HINTS_WITHOUT_SNIPPETS = "typo hints", "typo hints without snippets"


def _typo_hint(selector: LabelSelector, pool: list[Workload], index: LabelIndex,
              field: str, snippet: bool = True) -> tuple[str, str | None, Nearest | None]:
    """A sentence naming the nearest labels that exist (`index`: the pool's labels), a fixed selector (its YAML
    unless `snippet` is off: the converged fixes replace it), the match."""
    near = nearest(selector, index)
    if near is not None and near.suggestion:
        labels = ", ".join(f"{k}: {v}" for k, v in near.suggestion.items())
        fix = to_yaml({field: selector_yaml(_replace(selector, near))}, f"{near.name} carries {labels}") if snippet \
            else None
        return f"Nearest existing labels: {labels} (on {near.name}); did you mean that?", fix, near
    keys = sorted({r.key for r in selector.requirements})
    known = "; ".join(f"{k}: {', '.join(vals) or 'no workload has this key'}"
                      for k in keys for vals in [values_in_use(k, [w.labels for w in pool])])
    return f"No similar labels exist; values in use: {known}.", None, None


def _replace(selector: LabelSelector, near: Nearest) -> dict[str, str]:
    kept = {r.key: r.values[0] for r in selector.requirements
            if r not in near.unmet and r.operator == "In" and len(r.values) == 1}
    return {**kept, **near.suggestion}


def _matches_no_namespace(ctx: LintContext, peer: Peer) -> bool:
    """Whether the peer's namespaceSelector is not empty and matches no namespace (nor one every cluster has)."""
    sel = peer.namespace_selector
    return sel is not None and not sel.is_empty and not ctx.namespaces_matching(sel) and not _always_present(sel)


def _always_present(sel: LabelSelector) -> bool:
    """Whether the selector matches a namespace every cluster has, by the name label the API server sets."""
    return any(matches(sel, {NAMESPACE_NAME_LABEL: ns}) for ns in ALWAYS_PRESENT_NAMESPACES)


def _namespace_label_missing(ctx: LintContext, ref: PeerRef) -> Finding:
    p, peer = ref.policy, ref.peer
    sel = peer.namespace_selector
    assert sel is not None  # `_matches_no_namespace`
    target = _intended_namespace(ctx, ref, sel)
    head = f"{ref.where} of {p.id} selects namespaces {sel}, but no namespace in the bundle has that label"
    fix = None
    if target is None:
        msg = f"{head}. Label the namespace it was meant for with {sel}, or select it by {NAMESPACE_NAME_LABEL}."
    else:
        ns = ctx.bundle.namespaces[target]
        have = ", ".join(f"{k}={v}" for k, v in sorted(ns.labels.items())) or "no labels"
        msg = (f"{head}; namespace {target}, {_why_target(ctx, ref, target)}, has {have}. Add label {sel} to "
               f"namespace {target}, or select it by name: {NAMESPACE_NAME_LABEL}={target}.")
        new_peer: dict[str, object] = {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: target}}}
        if peer.pod_selector is not None:
            new_peer["podSelector"] = selector_yaml(peer.pod_selector)
        fix = to_yaml([new_peer], f"either: kubectl label namespace {target} {_label_args(sel)}\n"
                                  f"or select the namespace by the name label every namespace has:")
    return Finding(
        "namespace-label-missing", "warning", p.id, msg, p.source, fix,
        {"key": f"{ref.direction} namespaceSelector {sel}", "selector": str(sel),
         "field": f"{ref.where}.namespaceSelector",
         "namespace": target, "suggested_label": NAMESPACE_NAME_LABEL},
    )


def _intended_namespace(ctx: LintContext, ref: PeerRef, sel: LabelSelector) -> str | None:
    """The namespace the selector was probably meant for: one holding the peer's pods, else a near name."""
    pods = ref.peer.pod_selector
    if pods is not None and not pods.is_empty:
        hosts = ctx.namespaces_hosting(pods)
        others = [n for n in hosts if n != ref.policy.namespace]
        if hosts:
            return (others or hosts)[0]
    values = {v for r in sel.requirements for v in r.values}
    named = sorted(n for n in ctx.bundle.namespaces if n in values)
    return named[0] if named else None


def _why_target(ctx: LintContext, ref: PeerRef, target: str) -> str:
    pods = ref.peer.pod_selector
    if pods is not None and not pods.is_empty:
        return f"where the pods {pods} run"
    return "whose name the selector mentions"


def _label_args(sel: LabelSelector) -> str:
    return " ".join(str(r) for r in sel.requirements if r.operator == "In" and len(r.values) == 1) or str(sel)
