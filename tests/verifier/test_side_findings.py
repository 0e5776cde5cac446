"""egress-without-ingress / ingress-without-egress against a plain reading of the rule.

The rule walks the compiled grants policy by policy (`CompiledBundle.spans`) and skips, per source
class, the other side's entries that cannot meet a grant; here every in-cluster rule is looked up
by its `RuleRef` and every entry is tried, and each explanation is the reference evaluator's
`side(...).explain()`. Both must find the same rules, in the same order, with the same example.
"""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.engine.compile import Grant
from verifier.engine.explain import RuleRef
from verifier.model.bundle import Bundle, LabelSelector, NetworkPolicy, Rule
from verifier.review.rules.context import LintContext
from verifier.review.rules.sides import side_findings
from verifier.sets.selectors import iter_bits

from .strategies import NAMESPACES, admin_bundles, bundles, peers, policy_ports, selectors, workloads


#: Rules that admit pods only (the ones the rule looks at): no ipBlock peer, never every peer.
pod_rules = st.builds(
    Rule,
    peers=st.lists(peers().filter(lambda p: p.ip_block is None), min_size=1, max_size=2).map(tuple),
    ports=st.one_of(st.none(), st.lists(policy_ports(), min_size=1, max_size=2).map(tuple)),
)


@st.composite
def pod_policies(draw: st.DrawFn, index: int) -> NetworkPolicy:
    """A policy of pod-only rules, selecting every pod of its namespace half the time."""
    types = draw(st.sampled_from([("Ingress",), ("Egress",), ("Ingress", "Egress")]))
    ingress = tuple(draw(st.lists(pod_rules, max_size=2))) if "Ingress" in types else ()
    egress = tuple(draw(st.lists(pod_rules, max_size=2))) if "Egress" in types else ()
    target = LabelSelector(()) if draw(st.booleans()) else draw(selectors)
    return NetworkPolicy(draw(st.sampled_from(NAMESPACES)), f"q{index}", target, types, ingress, egress)


@st.composite
def crowded_bundles(draw: st.DrawFn) -> Bundle:
    """`strategies.bundles` with more workloads, and more policies, most of pod-only rules: rules whose
    other side is closed are common."""
    base = draw(bundles())
    ws = [*base.workloads, *(draw(workloads(i)) for i in range(len(base.workloads), 6))]
    ps = [*base.policies, *(draw(pod_policies(i)) for i in range(draw(st.integers(3, 9))))]
    return dataclasses.replace(base, workloads=tuple(ws), policies=tuple(ps))


def _expected(ctx: LintContext) -> list[tuple[str, str, dict[str, object], str]]:
    """(rule id, policy, example, the other side's explanation) of each rule no opposite rule lets through."""
    c = ctx.conn.compiled
    grants: dict[RuleRef, list[Grant]] = {}
    for g in c.grants:
        grants.setdefault(g.rule, []).append(g)
    out = []
    for p in ctx.bundle.policies:
        for direction, rules in ctx.rule_sets(p):
            other = ctx.conn.ingress if direction == "egress" else ctx.conn.egress
            for i, rule in enumerate(rules):
                mine = grants.get(RuleRef(p.id, direction, i), [])
                if rule.peers is None or any(peer.ip_block is not None for peer in rule.peers) or not mine:
                    continue
                if any(to & g.dst and on & g.ports for g in mine for s in iter_bits(g.src) for to, on in other[s]):
                    continue
                g = mine[0]
                src = c.bundle.workloads[c.classes[iter_bits(g.src)[0]].members[0]]
                dst = c.bundle.workloads[c.classes[iter_bits(g.dst)[0]].members[0]]
                proto, ranges = c.atoms.to_portset(g.ports).ranges[0]
                side = "ingress" if direction == "egress" else "egress"
                why = ctx.explainer.side(src, dst, ranges[0][0], proto, side).explain()  # type: ignore[arg-type]
                example = {"from": src.id, "to": dst.id, "protocol": proto, "port": ranges[0][0]}
                out.append((f"{direction}-without-{side}", p.id, example, why))
    return out


@settings(max_examples=400, deadline=None)
@given(crowded_bundles())
def test_the_one_sided_rules_find_what_a_plain_reading_finds(bundle: Bundle) -> None:
    ctx = LintContext(bundle)
    assert _found(ctx) == _expected(ctx)


@settings(max_examples=100, deadline=None)
@given(admin_bundles())
def test_with_admin_policies_too(bundle: Bundle) -> None:
    ctx = LintContext(bundle)
    assert _found(ctx) == _expected(ctx)


def _found(ctx: LintContext) -> list[tuple[str, str, dict[str, object], str]]:
    """The same of each finding; its message ends with the other side and its explanation."""
    return [(f.rule, f.object, f.details["example"], f.message.split(": ", 1)[1]) for f in side_findings(ctx)]
