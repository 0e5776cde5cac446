"""The selection rules (namespace-label-missing, policy-selects-nothing) and the fix of policy-selects-nothing:
one look at each policy serves both rules, a typo hint is made once per pool and selector, and the fixed
selector is the one parsing and matching it would give."""

from __future__ import annotations

import dataclasses
import random

import pytest

import verifier
from verifier.input.objects import selector_from
from verifier.model.bundle import LabelSelector, Requirement, Workload
from verifier.review import fixes as fixes_module
from verifier.review.rules import selection
from verifier.review.rules.context import LintContext
from verifier.sets.selectors import matches, unmet

WORKLOADS = """
apiVersion: v1
kind: Namespace
metadata: {name: app, labels: {tier: front}}
---
apiVersion: v1
kind: Namespace
metadata: {name: db}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  selector: {matchLabels: {app: web}}
  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: web}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: postgres, namespace: db}
spec:
  selector: {matchLabels: {app: postgres}}
  template: {metadata: {labels: {app: postgres}}, spec: {containers: [{name: pg, image: postgres}]}}
"""


def policy(name: str, namespace: str, pods: str, ingress: str = "[]") -> str:
    return f"""---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {name}, namespace: {namespace}}}
spec: {{podSelector: {{matchLabels: {{{pods}}}}}, policyTypes: [Ingress], ingress: {ingress}}}
"""


#: db/mixed: its podSelector is a typo, its first peer selects a namespace label nobody has, its second a typo'd pod.
MIXED = policy("mixed", "db", "app: postgress",
               "[{from: [{namespaceSelector: {matchLabels: {team: app}}}, {podSelector: {matchLabels: {app: wbe}}}]}]")


def test_both_rules_look_at_each_policy_once_and_keep_their_own_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = verifier.load_text(WORKLOADS + MIXED + policy("fine", "app", "app: web"))
    looked: list[str] = []
    real = selection._look_at
    monkeypatch.setattr(selection, "_look_at", lambda ctx, p: looked.append(p.id) or real(ctx, p))
    ctx = LintContext(bundle, None, (), snippets=False)
    labels = selection.namespace_label_findings(ctx)
    nothing = selection.selects_nothing_findings(ctx)
    assert sorted(looked) == ["app/fine", "db/mixed"]  # once each, for both rules
    assert [(f.rule, f.details["field"]) for f in labels] == [
        ("namespace-label-missing", "spec.ingress[0].from[0].namespaceSelector")]
    assert [(f.rule, f.details["field"]) for f in nothing] == [
        ("policy-selects-nothing", "spec.podSelector"), ("policy-selects-nothing", "spec.ingress[0].from[1]")]


def test_a_typo_hint_is_made_once_per_pool_and_selector(monkeypatch: pytest.MonkeyPatch) -> None:
    """Policies repeating a namespace and a stale selector share its hint; another namespace is another pool."""
    text = WORKLOADS + policy("a", "db", "app: postgress") + policy("b", "db", "app: postgress")
    bundle = verifier.load_text(text + policy("c", "app", "app: postgress"))
    made: list[tuple[LabelSelector, int]] = []
    real = selection._typo_hint
    monkeypatch.setattr(selection, "_typo_hint",
                        lambda s, pool, *rest: made.append((s, len(pool))) or real(s, pool, *rest))
    found = selection.selects_nothing_findings(LintContext(bundle, None, (), snippets=False))
    assert [f.object for f in found] == ["db/a", "db/b", "app/c"]
    assert len(made) == 2  # db's and app's
    a, b, c = found
    assert a.message.replace("db/a", "db/b") == b.message and a.details == b.details and a.fix is b.fix is None
    assert "(on db/postgres)" in a.message and "(on db/postgres)" not in c.message


def test_a_context_with_snippets_makes_its_own_hints() -> None:
    """A context without snippets shares its memory with one that has them: each reads the hints made its way."""
    bundle = verifier.load_text(WORKLOADS + policy("a", "db", "app: postgress"))
    without = LintContext(bundle, None, (), snippets=False)
    assert selection.selects_nothing_findings(without)[0].fix is None
    again = dataclasses.replace(bundle, policies=tuple(dataclasses.replace(p) for p in bundle.policies))
    (f,) = selection.selects_nothing_findings(LintContext(again, None, (), shared=without))
    assert f.fix is not None and "app: postgres" in f.fix


PEERS = """---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: both, namespace: db}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{podSelector: {}}]}, {from: [{ipBlock: {cidr: 10.0.0.0/8}}, {podSelector: {}}]}]
  egress: [{to: [{podSelector: {}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ingress-only, namespace: db}
spec: {podSelector: {}, policyTypes: [Ingress], egress: [{to: [{podSelector: {}}]}]}
"""


def test_peers_of_lists_the_peers_of_the_directions_a_policy_affects() -> None:
    bundle = verifier.load_text(WORKLOADS + PEERS)
    ctx = LintContext(bundle, None, ())
    both, ingress_only = bundle.policies
    assert [r.where for r in ctx.peers_of(both)] == [
        "spec.ingress[0].from[0]", "spec.ingress[1].from[0]", "spec.ingress[1].from[1]", "spec.egress[0].to[0]"]
    assert [r.where for r in ctx.peers_of(both, lambda peer: peer.ip_block is None)] == [
        "spec.ingress[0].from[0]", "spec.ingress[1].from[1]", "spec.egress[0].to[0]"]
    assert ingress_only.egress and ctx.peers_of(ingress_only) == []
    assert [r.where for r in ctx.peers()] == [r.where for r in ctx.peers_of(both)]


KEYS = ["app", "tier", "team"]
VALUES = ["web", "wbe", "db", "api"]


def random_selector(rng: random.Random) -> LabelSelector:
    reqs = []
    for _ in range(rng.randint(0, 3)):
        op = rng.choice(["In", "In", "In", "NotIn", "Exists", "DoesNotExist"])
        values = tuple(rng.sample(VALUES, rng.choice([1, 1, 2]))) if op in ("In", "NotIn") else ()
        reqs.append(Requirement(rng.choice(KEYS), op, values))  # type: ignore[arg-type]
    return LabelSelector(tuple(reqs))


@pytest.mark.parametrize("seed", range(20))
def test_the_fixed_selector_is_the_one_parsing_and_matching_it_gives(seed: int) -> None:
    """`_with_suggestion` checks the fixed matchLabels against the workload's labels, not the fixed selector parsed
    back and matched: the same answer, on any selector, labels and suggestion."""
    from verifier.review.policy_manifest import selector_manifest

    def by_parsing(selector: LabelSelector, near: Workload, suggestion: dict[str, str]) -> dict[str, object] | None:
        missing = set(unmet(selector, near.labels))
        out = selector_manifest(LabelSelector(tuple(r for r in selector.requirements if r not in missing)))
        out.setdefault("matchLabels", {}).update(dict(suggestion))
        return out if matches(selector_from(out), near.labels) else None

    rng = random.Random(seed)
    for _ in range(100):
        labels = {k: rng.choice(VALUES) for k in rng.sample(KEYS, rng.randint(0, 3))}
        near = Workload("Deployment", "ns", "w", labels)
        suggestion = {k: rng.choice([labels.get(k, "web"), "api"]) for k in rng.sample(KEYS, rng.randint(1, 2))}
        selector = random_selector(rng)
        want = by_parsing(selector, near, suggestion)
        assert fixes_module._with_suggestion(selector, near, suggestion) == want, (selector, labels, suggestion)

