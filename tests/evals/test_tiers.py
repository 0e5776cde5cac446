"""Eval tiers: the composed clusters are reproducible, hold every trap, and renaming keeps each trap's verdicts."""

from __future__ import annotations

from collections import Counter
from functools import cache

import pytest

import verifier
from evals.builds import build
from evals.generator import NAME_LABEL
from evals.scenarios import load_scenarios, read_scenario
from evals.tiers import TIER_DIR, TIER_SCALES, TRAPS, Tier, build_trap, compose_tier, trap_count, write_tier_stubs
from service.pipeline import Truth, compute_truth


def truth_of(manifests: list[dict], deps: list[dict], name: str) -> Truth:
    return compute_truth(verifier.load_documents(manifests, name=name), deps=deps, deps_origin=name)


def verdicts(truth: Truth) -> dict[tuple[str, str, int, str], bool]:
    return {(r.dependency.src, r.dependency.target, r.dependency.port, r.dependency.protocol): r.allowed
            for r in truth.dependencies}


@cache
def tier_300() -> tuple[Tier, Truth]:
    tier = compose_tier(3, 300)
    return tier, truth_of(tier.generated.manifests, tier.generated.deps, "tier-300")


def test_composing_a_tier_is_deterministic_and_seeds_differ():
    a, b = compose_tier(1, 300), compose_tier(1, 300)
    assert a.generated.manifests == b.generated.manifests and a.generated.deps == b.generated.deps
    assert a.traps == b.traps
    assert compose_tier(2, 300).generated.manifests != a.generated.manifests
    assert build("tiered", 1, 300).manifests == a.generated.manifests  # what a `tiered` stub expands into


@pytest.mark.parametrize("workloads", [300, 1000, 5000])
def test_every_trap_family_is_present_in_renamed_namespaces_and_larger_tiers_hold_more(workloads):
    tier = compose_tier(1, workloads)
    g = tier.generated
    assert g.workloads == workloads
    assert len(tier.traps) == trap_count(workloads) == max(len(TRAPS), workloads // 25)
    families = Counter(t.family for t in tier.traps)
    assert set(families) == set(TRAPS) and max(families.values()) - min(families.values()) <= 1
    renamed = [new for t in tier.traps for old, new in t.namespaces.items() if old != "kube-system"]
    assert len(renamed) == len(set(renamed))  # no two instances share a namespace
    assert all(new.endswith(f"-t{t.index:03d}") for t in tier.traps for old, new in t.namespaces.items()
               if old != "kube-system")
    names = [d["metadata"]["name"] for d in g.manifests if d["kind"] == "Namespace"]
    assert len(names) == len(set(names)) == len(g.namespaces)
    # cross-namespace callers: one declared dependency per trap from a filler namespace
    cross = [d for d in g.deps if d["from"].startswith("team-") and not d["to"].startswith("team-")]
    assert len(cross) == len(tier.traps)


def test_renaming_reaches_every_reference_to_a_namespace():
    tier, _ = tier_300()
    originals = {old for t in tier.traps for old in t.namespaces if old != "kube-system"}
    for doc in tier.generated.manifests:
        meta = doc["metadata"]
        assert meta.get("namespace", "kube-system") not in originals
        if doc["kind"] == "Namespace":
            assert meta["labels"][NAME_LABEL] == meta["name"] not in originals
    text = repr([d for d in tier.generated.manifests if d["kind"] == "NetworkPolicy"])
    assert all(f"'{NAME_LABEL}': '{old}'" not in text for old in originals)
    assert all(d[k].split("/")[0] not in originals for d in tier.generated.deps for k in ("from", "to"))


def test_each_trap_keeps_its_verdicts_after_renaming_in_the_tier():
    tier, truth = tier_300()
    composed = verdicts(truth)
    assert len(truth.bundle.workloads) == 300
    denied_families = set()
    for trap in tier.traps:
        alone = build_trap(trap.family, trap.seed)
        alone_truth = truth_of(alone.manifests, alone.deps, trap.family)
        expected = verdicts(alone_truth)
        assert len(expected) == len(trap.deps) > 0
        for d_alone, d_tier in zip(alone.deps, trap.deps):
            key_alone = (d_alone["from"], d_alone["to"], d_alone["port"], d_alone["protocol"])
            key_tier = (d_tier["from"], d_tier["to"], d_tier["port"], d_tier["protocol"])
            assert composed[key_tier] == expected[key_alone], (trap.family, trap.index, key_tier)
            if not expected[key_alone]:
                denied_families.add(trap.family)
        if any(w.namespace == "kube-system" for w in alone_truth.bundle.workloads):  # DNS traps: same DNS gaps
            lacking_alone = {trap.namespaces[w.split("/")[0]] + "/" + w.split("/")[1]
                             for w in alone_truth.claims.dns_missing}
            ours = set(trap.namespaces.values()) - {"kube-system"}
            lacking_tier = {w for w in truth.claims.dns_missing if w.split("/")[0] in ours}
            assert lacking_tier == lacking_alone, trap.family
            if lacking_alone:
                denied_families.add(trap.family)
    assert denied_families == set(TRAPS)  # every trap denies something or lacks DNS: none is filler in disguise


def test_match_expressions_trap_admits_only_the_pod_meeting_every_requirement():
    g = build_trap("match-expressions", "x")
    allowed = {src.split("/")[1]: ok for (src, _, _, _), ok in verdicts(truth_of(g.manifests, g.deps, "mx")).items()}
    assert allowed == {"web": True, "batch": False, "nolabel": False, "staging": False}


def test_committed_tier_stubs_are_the_three_tiers_and_match_the_writer(tmp_path):
    committed = load_scenarios(TIER_DIR)
    assert sorted(s.scale for s in committed) == sorted(TIER_SCALES)
    written = write_tier_stubs(tmp_path, [1], list(TIER_SCALES))
    assert sorted(p.read_text() for p in written) == sorted(s.path.read_text() for s in committed)
    assert read_scenario(written[0]).spec.generate is not None
