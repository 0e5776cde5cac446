"""The fix rounds' shortcuts give the fixes of the long way round.

A fix round lints the bundle with the fixes so far applied, to propose what they need. It lints the
policies no fix changed only with the rules that read more than one policy (`findings._per_policy_scope`):
a per-policy rule's finding on such a policy is the one of round 0, whose fix is recorded already. The
converged fixes must be exactly those of linting every policy in every round (`every_policy=True`), on the
finding cases, the corpus apps with their dependencies, a generated cluster and random bundles.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import verifier
from tests.generated import generated_bundle
from tests.shared import corpus_apps, require_shared
from verifier.deps.dependencies import DependencyResult, evaluate_dependencies, gather_dependencies
from verifier.model.bundle import Bundle, NetworkPolicy
from verifier.model.records import Dependency, Finding
from verifier.input.objects import network_policy_from
from verifier.review import findings as findings_module
from verifier.review import fixes as fixes_module
from verifier.review.fixes import FixSet
from verifier.review.rules.context import LintContext

from .strategies import PORTS, bundles
from .test_findings import CASES, case_files


def _fixes(bundle: Bundle, results: Sequence[DependencyResult], *, every_policy: bool) -> FixSet:
    ctx = LintContext(bundle, None, results, snippets=False)  # as `lint_report` makes it
    found, _ = findings_module._findings(ctx)
    return findings_module._with_fixes(ctx, found, every_policy=every_policy)


def assert_same_fixes(bundle: Bundle, results: Sequence[DependencyResult] = ()) -> FixSet:
    quick = _fixes(bundle, results, every_policy=False)
    full = _fixes(bundle, results, every_policy=True)
    assert quick.fixes == full.fixes  # every field: manifests, patches, rounds, what each isolates
    assert quick.by_finding == full.by_finding
    assert (quick.rounds, quick.converged) == (full.rounds, full.converged)
    return quick


@pytest.mark.parametrize("name", sorted(CASES))
def test_finding_case_fixes_are_those_of_linting_every_policy(name: str) -> None:
    assert_same_fixes(verifier.load_bundle([str(f) for f in case_files(name)]))


@pytest.mark.parametrize("app", corpus_apps(), ids=lambda a: a["name"])
def test_corpus_app_fixes_are_those_of_linting_every_policy(app: dict) -> None:
    require_shared()
    bundle = verifier.load_bundle(app["manifest_paths"], default_namespace=app["default_namespace"])
    deps, issues = gather_dependencies(bundle, Path(app["deps_path"]).read_text(), app["deps_path"], None)
    assert not [i for i in issues if i.severity == "error"], issues
    assert_same_fixes(bundle, evaluate_dependencies(bundle, deps))


def test_generated_cluster_fixes_are_those_of_linting_every_policy_and_rounds_lint_only_changed_policies(
        monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = generated_bundle()
    seen: list[Sequence[NetworkPolicy] | None] = []
    targets: list[dict[str, int]] = []
    findings = findings_module._findings

    def spy(ctx: LintContext, *args: object, fresh: Sequence[NetworkPolicy] | None = None,
            denies_kept: bool = False) -> tuple[list[Finding], list[object]]:
        seen.append(fresh)
        targets.append(ctx.conn.compiled.policy_targets)
        return findings(ctx, fresh=fresh, denies_kept=denies_kept)  # type: ignore[return-value]

    monkeypatch.setattr(findings_module, "_findings", spy)
    fixset = assert_same_fixes(bundle)
    assert any(f.action == "patch" for f in fixset.fixes) and fixset.rounds >= 1
    # each run: the bundle as given (every policy), then its fix rounds; the quick run's rounds name the
    # policies the fixes patched or added, and only those, but a fix of a podSelector alone (not to `{}`)
    # whose policy selects pods in that round (`findings._fresh_policies`)
    quick = seen[1:1 + fixset.rounds]
    assert quick and all(fresh is not None for fresh in quick)
    for fresh, selected in zip(quick, targets[1:1 + fixset.rounds]):
        assert fresh is not None
        wanted = {f.policy for f in fixset.fixes
                  if not (f.action == "patch" and all(op["path"] == "/spec/podSelector" for op in f.patch)
                          and f.manifest["spec"]["podSelector"] and selected.get(f.policy))}
        assert {p.id for p in fresh} == wanted
        assert len(wanted) < len({f.policy for f in fixset.fixes})  # some podSelector fixes are not read again
    assert all(fresh is None for fresh in seen[1 + fixset.rounds:])  # the long way round lints all


@st.composite
def _with_dependencies(draw: st.DrawFn) -> tuple[Bundle, list[Dependency]]:
    bundle = draw(bundles())
    ids = sorted({w.id for w in bundle.workloads})
    deps = [Dependency(src, draw(st.sampled_from(PORTS)), draw(st.sampled_from(["TCP", "UDP"])), dst)
            for src, dst in draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=4))]
    return bundle, deps


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_with_dependencies())
def test_random_bundle_fixes_are_those_of_linting_every_policy(case: tuple[Bundle, list[Dependency]]) -> None:
    bundle, deps = case
    assert_same_fixes(bundle, evaluate_dependencies(bundle, deps))


CHAINED = """
apiVersion: v1
kind: Namespace
metadata: {name: payments}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: payments}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: api, ports: [{containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-to-api, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {team: payments}}, podSelector: {matchLabels: {app: apii}}}]
    ports: [{port: 8080}]
"""


def test_a_fix_round_finds_what_a_patch_of_the_same_policy_uncovers() -> None:
    """The peer's namespaceSelector matches no namespace, so its pods are not looked for (round 0 patches
    the namespace); once patched, its podSelector's typo shows (round 1 patches that too): a fix round must
    lint the policies the fixes changed."""
    bundle = verifier.load_bundle(["-"], stdin=io.StringIO(CHAINED))
    fixset = assert_same_fixes(bundle)
    (fix,) = [f for f in fixset.fixes if f.policy == "shop/web-to-api"]
    assert [op["path"] for op in fix.patch] == ["/spec/egress/0/to/0/namespaceSelector",
                                                "/spec/egress/0/to/0/podSelector"]
    assert fix.manifest["spec"]["egress"][0]["to"][0]["podSelector"] == {"matchLabels": {"app": "api"}}
    assert fixset.rounds == 2  # the second operation came from round 1; round 2 found nothing new


def test_a_patched_policy_is_what_its_patched_manifest_reads() -> None:
    # apply_fixes takes a podSelector-only patch as a change of that field (the rules stay the policy's own
    # objects); it must be the policy read again from the patched manifest, as every other patch is
    bundles = [generated_bundle(),
               *(verifier.load_bundle([str(f) for f in case_files(name)]) for name in sorted(CASES))]
    shortcut = general = 0
    for bundle in bundles:
        policies = {p.id: p for p in bundle.policies}
        for fix in _fixes(bundle, (), every_policy=False).fixes:
            if fix.action != "patch":
                continue
            p = policies[fix.policy]
            read = network_policy_from(fix.manifest, p.namespace, p.source)
            assert fixes_module._patched(p, fix) == read
            assert fixes_module.apply_fixes(bundle, [fix]).policies[bundle.policies.index(p)] == read
            if all(op["path"] == "/spec/podSelector" for op in fix.patch):
                shortcut += 1
            else:
                general += 1
    assert shortcut and general  # both ways were compared


def test_a_fix_round_skips_the_default_deny_rules_only_while_every_namespace_wide_policy_stays() -> None:
    """`findings._keeps_default_denies`: a fix that empties nothing keeps them; a namespace-wide policy
    that loses its empty podSelector, a policy type or its place does not."""
    import dataclasses

    from verifier.input.objects import selector_from

    bundle = generated_bundle()
    policies = bundle.policies
    i = next(i for i, p in enumerate(policies) if p.pod_selector.is_empty and p.policy_types)
    j = next(j for j, p in enumerate(policies) if not p.pod_selector.is_empty)
    wide, narrow = policies[i], policies[j]
    narrowed = dataclasses.replace(wide, pod_selector=selector_from({"matchLabels": {"app": "x"}}))
    fewer_types = dataclasses.replace(wide, policy_types=wide.policy_types[:-1] if len(wide.policy_types) > 1
                                      else ("Egress" if wide.policy_types == ("Ingress",) else "Ingress",))
    repointed = dataclasses.replace(narrow, pod_selector=selector_from({"matchLabels": {"app": "x"}}))

    def keeps(changed: tuple[NetworkPolicy, ...]) -> bool:
        return findings_module._keeps_default_denies(bundle, dataclasses.replace(bundle, policies=changed))

    def at(k: int, p: NetworkPolicy) -> tuple[NetworkPolicy, ...]:
        return (*policies[:k], p, *policies[k + 1:])

    assert keeps(policies) and keeps((*policies, narrowed)) and keeps(at(j, repointed))
    assert keeps(at(i, dataclasses.replace(wide)))  # an equal copy
    assert not keeps(at(i, narrowed)) and not keeps(at(i, fewer_types)) and not keeps(policies[:-1])


@pytest.mark.parametrize("name", ["no-default-deny", "legacy-isolation-annotation", "policy-selects-nothing"])
def test_fix_rounds_run_no_default_deny_rule_when_no_default_deny_went(name: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The default-deny rules run once per lint of the bundle as given, never in its quick fix rounds, and the
    fixes are still those of linting everything."""
    bundle = verifier.load_bundle([str(f) for f in case_files(name)])
    calls: list[bool] = []
    rule = findings_module.default_deny_findings

    def spy(ctx: LintContext, rows: list[object]) -> list[Finding]:
        calls.append(ctx.explanations)
        return rule(ctx, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(findings_module, "default_deny_findings", spy)
    quick = _fixes(bundle, (), every_policy=False)
    assert quick.rounds >= 1 and calls == [True]  # round 0 only
    calls.clear()
    assert_same_fixes(bundle)
