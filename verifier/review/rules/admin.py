"""anp-denies-networkpolicy-allow and anp-same-priority-overlap: AdminNetworkPolicy against the rest.

* AdminNetworkPolicy rules are checked before NetworkPolicy ("Deny: denies the selected traffic
  before being checked against NetworkPolicy"), so a NetworkPolicy rule whose every connection an
  ANP denies has no effect: the namespace owner believes in an allow that never happens.
* "The behavior is undefined if two ANP objects have same priority": when two such ANPs have rules
  with different actions that match the same traffic, the verdict depends on the implementation.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from ...engine.compile import Grant
from ...model.admin import AdminPolicy, AdminRule, AdminRuleRef
from ...model.records import Finding
from ...sets.selectors import iter_bits
from .context import Direction, LintContext

if TYPE_CHECKING:  # a bundle without admin policies (most) never compiles them: lint does not import the compiler
    from ...engine.admin_compile import AdminGrant

#: Pairs checked per NetworkPolicy rule before the check gives up (keeps lint linear-ish).
MAX_PAIRS_PER_RULE = 20_000


def admin_findings(ctx: LintContext) -> list[Finding]:
    """Both admin rules' findings; none without admin policies."""
    tiers = ctx.conn.compiled.admin
    if tiers is None:
        return []
    return [*_dead_allows(ctx), *_same_priority(ctx)]


def admin_default_deny(ctx: LintContext, namespace: str, direction: Direction) -> list[str]:
    """Admin policies with a rule denying everyone in `direction` (see `_denies_everyone`) whose
    subject takes in every pod of `namespace`: a default deny the namespace need not add itself."""
    tiers = ctx.conn.compiled.admin
    members = [w for w in ctx.by_namespace.get(namespace, ()) if not w.host_network]
    if tiers is None or not members:
        return []
    classes = 0
    for w in members:
        classes |= 1 << ctx.workload_class(w)
    found = []
    for p in ctx.bundle.admin_policies:
        covers = tiers.subjects.get(p.id, 0) & classes == classes
        if covers and any(_denies_everyone(r) for r in p.rules(direction)):
            found.append(p.id)
    return found


def _denies_everyone(rule: AdminRule) -> bool:
    """A port-less Deny of every pod (`namespaces: {}`) or of every address (0.0.0.0/0)."""
    if rule.action != "Deny" or rule.ports is not None:
        return False
    return any((peer.namespaces is not None and peer.namespaces.is_empty and (peer.pods is None or peer.pods.is_empty))
               or "0.0.0.0/0" in peer.networks for peer in rule.peers)


# --- anp-denies-networkpolicy-allow ---------------------------------------------------------------


def _dead_allows(ctx: LintContext) -> list[Finding]:
    c = ctx.conn.compiled
    assert c.admin is not None
    out = []
    by_rule: dict[tuple[str, str, int], list[Grant]] = defaultdict(list)
    for g in c.grants:
        by_rule[(g.rule.policy, g.rule.direction, g.rule.index)].append(g)
    for (policy_id, direction, index), grants in by_rule.items():
        tier = c.admin.ingress if direction == "ingress" else c.admin.egress
        deniers = _denied_everywhere(grants, tier)
        if deniers:
            out.append(_dead_finding(ctx, policy_id, direction, index, deniers))
    return out


def _denied_everywhere(grants: list[Grant], tier: list[AdminGrant]) -> list[AdminRuleRef]:
    """The ANP Deny rules that together deny every (source, destination, port) the grants admit; [] if any survives."""
    from ...engine.admin_compile import first_matches

    deniers: dict[str, AdminRuleRef] = {}
    pairs = 0
    for g in grants:
        for s in iter_bits(g.src):
            applicable = [a for a in tier if a.src >> s & 1]
            if not applicable:
                return []
            for d in iter_bits(g.dst):
                pairs += 1
                if pairs > MAX_PAIRS_PER_RULE:
                    return []
                hits = [(m, a.ref) for m, a in first_matches(applicable, s, d) if a.ref.action == "Deny"]
                denied = 0
                for m, _ in hits:
                    denied |= m
                if g.ports & ~denied:
                    return []
                deniers.update((str(r), r) for _, r in hits)
    return list(deniers.values())


def _dead_finding(ctx: LintContext, policy_id: str, direction: str, index: int,
                  deniers: list[AdminRuleRef]) -> Finding:
    policy = next(p for p in ctx.bundle.policies if p.id == policy_id)
    by = "; ".join(str(r) for r in deniers)
    msg = (f"{direction} rule {index} of {policy_id} allows traffic that an AdminNetworkPolicy denies first "
           f"({by}): the rule has no effect. Ask the cluster admins for an exception (a Pass or Allow rule at a "
           f"lower priority value) or remove the rule.")
    return Finding("anp-denies-networkpolicy-allow", "warning", policy_id, msg, policy.source, None,
                   {"key": f"{direction}[{index}]", "field": f"spec.{direction}[{index}]",
                    "admin_rules": [r.policy + f"/{r.direction}[{r.index}]" for r in deniers]})


# --- anp-same-priority-overlap ------------------------------------------------------------------


def _same_priority(ctx: LintContext) -> list[Finding]:
    c = ctx.conn.compiled
    assert c.admin is not None
    by_policy: dict[str, list[AdminGrant]] = defaultdict(list)
    for a in (*c.admin.ingress, *c.admin.egress):
        by_policy[a.ref.policy].append(a)
    ordered = sorted((p for p in ctx.bundle.admin_policies if not p.is_baseline),
                     key=lambda p: (p.priority or 0, p.name))
    out = []
    for i, first in enumerate(ordered):
        for second in ordered[i + 1:]:
            if second.priority != first.priority:
                break
            clash = _conflict(by_policy[first.id], by_policy[second.id])
            if clash is not None:
                out.append(_overlap_finding(first, second, *clash))
    return out


def _conflict(mine: list[AdminGrant], theirs: list[AdminGrant]) -> tuple[AdminRuleRef, AdminRuleRef] | None:
    for a in mine:
        for b in theirs:
            if a.ref.direction == b.ref.direction and a.ref.action != b.ref.action and _overlap(a, b):
                return a.ref, b.ref
    return None


def _overlap(a: AdminGrant, b: AdminGrant) -> bool:
    if not a.src & b.src:
        return False
    return any(da & db and pa & pb for da, pa in a.pieces for db, pb in b.pieces)


def _overlap_finding(first: AdminPolicy, second: AdminPolicy, a: AdminRuleRef, b: AdminRuleRef) -> Finding:
    msg = (f"AdminNetworkPolicies {first.name} and {second.name} share priority {first.priority} and have rules "
           f"that match the same traffic with different actions ({a}; {b}): the API leaves the result undefined, "
           f"so it depends on the network plugin (netreason checks {first.name} first, by name). Give one of them "
           f"a different priority.")
    return Finding("anp-same-priority-overlap", "warning", first.name, msg, first.source, None,
                   {"key": second.name, "field": "spec.priority", "priority": first.priority})
