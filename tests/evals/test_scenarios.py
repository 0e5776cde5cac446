"""The scenario corpus: size, coverage, determinism, and hand-checked answers that guard the verifier."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evals.builds import build
from evals.generator import TEMPLATES, stub
from evals.scenarios import SCENARIO_DIR, ScenarioError, load_scenarios, read_scenario
from service.pipeline import compute_truth
from tests.shared import require_shared

ISSUE_FAMILIES = {
    "and-vs-or", "empty-vs-missing", "policytypes-defaults", "named-ports", "endport-ranges", "both-ends",
    "cross-namespace-label", "dns-egress", "ipblock-except", "policy-union", "default-deny-rollout", "realistic",
}


def test_corpus_has_sixty_scenarios_covering_every_family_and_scale():
    scenarios = load_scenarios()
    assert len(list(SCENARIO_DIR.rglob("*.yaml"))) >= 60
    assert {s.family for s in scenarios} == ISSUE_FAMILIES
    assert {5, 20, 80, 300} <= {s.scale for s in scenarios}


def test_generated_scenarios_have_the_workload_count_of_their_scale():
    for scale in (5, 20, 80):
        g = build("and-vs-or", 2, scale)
        assert g.workloads == max(scale, 4)


def test_generator_is_deterministic_and_seeds_differ():
    assert build("empty-vs-missing", 4, 20).manifests == build("empty-vs-missing", 4, 20).manifests
    assert build("dns-egress", 1, 20).manifests != build("dns-egress", 2, 20).manifests


def test_every_small_scenario_loads_without_errors():
    require_shared()
    for scenario in load_scenarios():
        if scenario.scale > 20:
            continue
        data = scenario.load()
        errors = [i for i in data.bundle.issues if i.severity == "error"]
        assert not errors, f"{scenario.id}: {errors}"
        assert data.deps, f"{scenario.id} declares no dependencies to ask about"


def test_every_template_denies_at_least_one_dependency():
    for template in TEMPLATES:
        g = build(template, 1, 5)
        scenario_truth = compute_truth(__import__("verifier").load_documents(g.manifests, name=template), deps=g.deps)
        denied = [r for r in scenario_truth.dependencies if not r.allowed]
        dns = [f for f in scenario_truth.findings if f.rule == "dns-egress-missing"]
        assert denied or dns, f"{template}: no trap"


def _hand_checked():
    return [s for s in load_scenarios() if s.spec.expected is not None]


@pytest.mark.parametrize("scenario", _hand_checked(), ids=lambda s: s.id)
def test_verifier_agrees_with_hand_checked_expectations(scenario):
    data = scenario.load()
    truth = compute_truth(data.bundle, deps=data.deps)
    expected = scenario.spec.expected
    for flow in expected.flows:
        assert truth.conn.is_allowed(flow.from_, flow.to, flow.port, flow.protocol) == flow.allowed, flow
    broken = {(r.dependency.src, r.dependency.target, r.dependency.port) for r in truth.dependencies if not r.allowed}
    assert broken == {(d.from_, d.to, d.port) for d in expected.broken}
    dns = sorted(f.object for f in truth.findings if f.rule == "dns-egress-missing")
    assert dns == sorted(expected.dns_missing)


def test_a_scenario_with_two_manifest_sources_is_rejected(tmp_path: Path):
    data = {**stub("and-vs-or", 1, 5), "manifests": []}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError, match="exactly one of manifests, manifests_ref, generate"):
        read_scenario(path)


def test_duplicate_ids_are_rejected(tmp_path: Path):
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(yaml.safe_dump(stub("policy-union", 1, 5)))
    with pytest.raises(ScenarioError, match="also used by"):
        load_scenarios(tmp_path)


def test_glob_selects_by_id_or_family():
    ids = {s.id for s in load_scenarios(pattern="hand/*")}
    assert ids and all(i.startswith("hand/") for i in ids)
    assert {s.family for s in load_scenarios(pattern="named-ports")} == {"named-ports"}
