"""`compile_bundle(bundle, base=...)`: the fix rounds' compile that copies what no fix changed.

It must equal compiling the bundle from scratch, field by field, whether the fixes keep the classes and
atoms (grants copied), change the port cuts (classes kept, every policy compiled) or mention new label
keys (compiled from scratch): on the bundles lint's own fixes give (finding cases, corpus apps, a
generated cluster) and on hand-made changes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import verifier
from tests.generated import generated_bundle
from verifier.engine.compile import CompiledBundle, _Changes, _Compiler, compile_bundle
from verifier.input.objects import network_policy_from, selector_from
from verifier.model.bundle import Bundle, SourceRef
from verifier.review.findings import lint_report
from verifier.review.fixes import apply_fixes

from .strategies import bundles, policies
from .test_explain_selecting import BUNDLES

FIELDS = ["classes", "class_of", "all_classes", "ingress_isolated", "egress_isolated", "grants", "ingress_grants",
          "egress_grants", "external", "external_ingress", "policy_targets", "workload_index", "features", "spans"]


def _assert_equal(got: CompiledBundle, want: CompiledBundle) -> None:
    assert got.bundle is want.bundle
    assert got.atoms.atoms == want.atoms.atoms
    for name in FIELDS:
        assert getattr(got, name) == getattr(want, name), name
    assert list(got.policy_targets) == list(want.policy_targets)  # the same order too


def _copied(got: CompiledBundle, base: CompiledBundle) -> int:
    """How many of `got`'s grants are `base`'s own objects (copied, not compiled again)."""
    mine = {id(g) for g in base.grants}
    return sum(id(g) in mine for g in got.grants)


def _fixed(bundle: Bundle) -> Bundle:
    return apply_fixes(bundle, lint_report(bundle).fixes)


@pytest.mark.parametrize("name", sorted(BUNDLES))
def test_the_fixed_bundle_compiles_from_the_original_as_from_scratch(name: str) -> None:
    bundle = verifier.load_bundle([str(p) for p in BUNDLES[name]])
    base = compile_bundle(bundle)
    fixed = _fixed(bundle)
    _assert_equal(compile_bundle(fixed, base=base), compile_bundle(fixed))
    _assert_equal(compile_bundle(bundle, base=base), base)  # nothing changed


def test_a_generated_cluster_copies_the_grants_of_the_policies_no_fix_changed() -> None:
    bundle = generated_bundle()
    base = compile_bundle(bundle)
    fixed = _fixed(bundle)
    assert any(a is not b for a, b in zip(fixed.policies, bundle.policies))  # the fixes patch policies
    got = compile_bundle(fixed, base=base)
    _assert_equal(got, compile_bundle(fixed))
    assert _copied(got, base) > len(base.grants) // 2  # the copy path ran


def _policy(text: str, namespace: str, n: int):  # type: ignore[no-untyped-def]
    return network_policy_from(yaml.safe_load(text), namespace, SourceRef("test", 0, n))


def _rare_policy(bundle: Bundle, ingress_rule: str):  # type: ignore[no-untyped-def]
    """A policy `rare` in the first policy's namespace, selecting by a label key no other policy mentions."""
    namespace = bundle.policies[0].namespace
    return _policy(f"""
kind: NetworkPolicy
metadata: {{name: rare, namespace: {namespace}}}
spec:
  podSelector: {{matchLabels: {{rare-key: x}}}}
  ingress: [{ingress_rule}]
""", namespace, 9)


def test_changed_added_removed_and_new_features() -> None:
    bundle = generated_bundle()
    base = compile_bundle(bundle)
    p0, p1 = bundle.policies[0], bundle.policies[1]
    same_keys = _policy(f"""
kind: NetworkPolicy
metadata: {{name: {p1.name}, namespace: {p1.namespace}}}
spec:
  podSelector: {{}}
  policyTypes: [Ingress, Egress]
  ingress: [{{from: [{{podSelector: {{}}}}]}}]
""", p1.namespace, 1)
    new_port = _policy(f"""
kind: NetworkPolicy
metadata: {{name: extra-port, namespace: {p0.namespace}}}
spec:
  podSelector: {{}}
  egress: [{{ports: [{{port: 4321}}, {{port: 7000, endPort: 7010, protocol: UDP}}]}}]
""", p0.namespace, 2)
    new_key = _policy(f"""
kind: NetworkPolicy
metadata: {{name: extra-key, namespace: {p0.namespace}}}
spec:
  podSelector: {{matchLabels: {{never-seen-key: x}}}}
  ingress: [{{from: [{{ipBlock: {{cidr: 10.0.0.0/8}}}}]}}]
""", p0.namespace, 3)
    policies = list(bundle.policies)
    variants = {
        "a policy replaced": (policies[0], same_keys, *policies[2:]),
        "a policy added": (*policies, same_keys),
        "the last removed": tuple(policies[:-1]),
        "new port cuts": (*policies, new_port),
        "a new label key and an ipBlock": (*policies, new_key),
        "an equal copy of each policy": tuple(dataclasses.replace(p) for p in policies),
    }
    for what, changed in variants.items():
        fixed = dataclasses.replace(bundle, policies=changed)
        got, want = compile_bundle(fixed, base=base), compile_bundle(fixed)
        _assert_equal(got, want)
        copied = _copied(got, base)
        if what in ("a policy replaced", "a policy added", "the last removed"):
            assert copied, what
        else:
            assert not copied, what  # atoms or classes differ, or no policy is the same object


def test_a_base_of_other_workloads_is_not_used() -> None:
    shop = verifier.load_bundle([str(Path(__file__).resolve().parents[2] / "examples" / "shop")])
    other = generated_bundle()
    _assert_equal(compile_bundle(shop, base=compile_bundle(other)), compile_bundle(shop))


@st.composite
def _changed(draw: st.DrawFn) -> tuple[Bundle, Bundle]:
    """A bundle and the same workloads and namespaces with some policies kept (the same objects), some
    replaced or removed, some added: what a fix round compiles from the bundle as given."""
    bundle = draw(bundles())
    kept = [p if draw(st.booleans()) else draw(st.one_of(st.none(), policies(100 + i)))
            for i, p in enumerate(bundle.policies)]
    added = [draw(policies(200 + i)) for i in range(draw(st.integers(0, 2)))]
    return bundle, dataclasses.replace(bundle, policies=tuple(p for p in [*kept, *added] if p is not None))


@settings(max_examples=300, deadline=None)
@given(_changed())
def test_any_change_of_policies_compiles_from_the_base_as_from_scratch(pair: tuple[Bundle, Bundle]) -> None:
    """The label keys, named ports, ipBlock use and port cuts of the changed policies alone decide whether the
    base's classes and atoms are kept (`_Changes`): a key or port only a removed policy had must not be."""
    bundle, changed = pair
    _assert_equal(compile_bundle(changed, base=compile_bundle(bundle)), compile_bundle(changed))


def test_a_key_only_the_removed_policy_had_is_gone_and_one_another_policy_has_is_kept() -> None:
    bundle = generated_bundle()
    base = compile_bundle(bundle)
    rare = _rare_policy(bundle, "{ports: [{port: 61000}]}")
    twice = dataclasses.replace(bundle, policies=(*bundle.policies, rare, dataclasses.replace(rare, name="rare-2")))
    with_twice = compile_bundle(twice)
    for kept in ((*bundle.policies, rare), bundle.policies):  # one of the two removed; both removed
        changed = dataclasses.replace(bundle, policies=kept)
        got = compile_bundle(changed, base=with_twice)
        _assert_equal(got, compile_bundle(changed))
        assert ("rare-key" in got.features[0]) == (rare in kept)  # type: ignore[index]
    assert "rare-key" not in base.features[0]  # type: ignore[index]


def test_which_features_a_removal_keeps_is_told_from_the_changed_policies_and_a_look_for_what_only_they_had() -> None:
    """`_Changes.keep`: a label key only removed policies mention is looked for in the bundle's policies."""
    bundle = generated_bundle()
    rare = _rare_policy(bundle, "{from: [{ipBlock: {cidr: 10.0.0.0/8}}]}")
    twice = (*bundle.policies, rare, dataclasses.replace(rare, name="rare-2"))
    features = compile_bundle(dataclasses.replace(bundle, policies=twice)).features
    assert features is not None
    one_left = (*bundle.policies, rare)
    assert _Changes.between(twice, one_left).keep(features, one_left)
    assert not _Changes.between(twice, bundle.policies).keep(features, bundle.policies)


def test_a_fix_of_a_pod_selector_that_selected_nothing_takes_the_base_isolation_whole(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """What the replaced policy isolated (nothing) is isolated by its fix too: the copied policies' isolation is
    the base's, not read one by one (`_Compiler._isolation_beside`)."""
    bundle = generated_bundle()
    base = compile_bundle(bundle)
    i, p = next((i, p) for i, p in enumerate(bundle.policies)
                if p.ingress and p.pod_selector.requirements and base.policy_targets[p.id])
    key = p.pod_selector.requirements[0].key  # a key policies mention: the same classes
    nothing = dataclasses.replace(p, pod_selector=selector_from({"matchLabels": {key: "no-such-value"}}))
    before = dataclasses.replace(bundle, policies=(*bundle.policies[:i], nothing, *bundle.policies[i + 1:]))
    fixed = dataclasses.replace(before, policies=(*before.policies[:i], p, *before.policies[i + 1:]))
    base = compile_bundle(before)

    def unused(*args: object) -> None:
        raise AssertionError("the copied policies were read one by one")

    monkeypatch.setattr(_Compiler, "_copied_isolation", unused)
    got = compile_bundle(fixed, base=base)
    _assert_equal(got, compile_bundle(fixed))
    assert _copied(got, base) and got.classes is not base.classes and got.classes == base.classes


def test_class_of_workload_reads_the_workload_index() -> None:
    compiled = compile_bundle(generated_bundle())
    assert [compiled.class_of_workload(w.id) for w in compiled.bundle.workloads] == compiled.class_of
    with pytest.raises(KeyError):
        compiled.class_of_workload("nowhere/nothing")
