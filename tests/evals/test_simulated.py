"""Simulated models move the scores the way their error profiles predict.

One small run (every hand-checked scenario, one scale-5 scenario per family, two corpus apps)
with the four simulated models, scored offline; assertions per (model, family).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest

from evals.grading import score_run
from evals.runner import RunConfig, run_eval
from evals.scenarios import load_scenarios
from evals.scoring import ResponseScore, TypeCounts, hallucination_rate, precision, recall, sum_counts
from service.providers.simulated import SimulatedProvider, and_as_or, identify_prompt, ignores_policytypes
from service.pipeline import build_request
from service.prompting import prepare_prompt
from service.providers.errors import ProviderConfigError
from service.store import Store
from tests.prompts.example_bundles import bundle, ns, sel
from verifier.model.bundle import LabelSelector, NetworkPolicy, Peer, Rule

MODELS = ("simulated:oracle", "simulated:and-as-or", "simulated:ignores-policytypes", "simulated:hallucinates")


def _subset():
    def keep(s):
        return s.id.startswith("hand/") or s.id.endswith("/w5-s1") or s.id in ("corpus/bookinfo", "corpus/sock-shop")

    return [s for s in load_scenarios() if keep(s)]


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('sim') / 'evals.db'}")
    config = RunConfig(MODELS, ("flows@1", "flows@2", "breakage@1", "dns@1"), concurrency=8)
    summary = asyncio.run(run_eval(store, _subset(), config))
    result = score_run(store, summary.run_id)
    store.close()
    groups: dict[tuple[str, str], list[ResponseScore]] = defaultdict(list)
    for row in result["responses"]:
        assert row["simulated"] and row["error"] is None and not row["schema_failure"], row
        score = ResponseScore({t: TypeCounts(**c) for t, c in row["by_type"].items()})
        groups[(row["model"], row["family"])].append(score)
        groups[(row["model"], "*")].append(score)
    return {key: sum_counts(value) for key, value in groups.items()}


def _families(scores, model):
    return {family for m, family in scores if m == model and family != "*"}


def test_oracle_is_exactly_right_everywhere(scores):
    for family in _families(scores, "simulated:oracle"):
        counts = scores[("simulated:oracle", family)]
        assert precision(counts) == 1.0 and recall(counts) == 1.0, family
        assert hallucination_rate(counts) == 0.0


def test_and_as_or_loses_on_the_and_vs_or_family_only(scores):
    model = "simulated:and-as-or"
    assert recall(scores[(model, "and-vs-or")]) < 0.8
    assert precision(scores[(model, "and-vs-or")]) < 1.0
    for family in _families(scores, model) - {"and-vs-or"}:
        assert recall(scores[(model, family)]) == 1.0, family


def test_ignores_policytypes_loses_on_the_policytypes_family(scores):
    model = "simulated:ignores-policytypes"
    assert recall(scores[(model, "policytypes-defaults")]) < 0.8
    assert recall(scores[(model, "default-deny-rollout")]) < 1.0
    for family in ("and-vs-or", "named-ports", "endport-ranges", "ipblock-except", "cross-namespace-label"):
        assert recall(scores[(model, family)]) == 1.0, family


def test_hallucinating_model_invents_workloads_and_the_oracle_does_not(scores):
    assert hallucination_rate(scores[("simulated:hallucinates", "*")]) > 0.1
    assert hallucination_rate(scores[("simulated:oracle", "*")]) == 0.0
    assert recall(scores[("simulated:hallucinates", "*")]) == 1.0  # it adds claims; it does not drop any


def test_and_as_or_splits_only_peers_with_both_selectors():
    both = Peer(pod_selector=sel(role="m"), namespace_selector=sel(team="ops"))
    single = Peer(pod_selector=sel(app="x"))
    policy = NetworkPolicy("a", "p", LabelSelector(), ("Ingress",), ingress=(Rule((both, single)),))
    rule = and_as_or(bundle([ns("a")], [], [], [policy])).policies[0].ingress[0]
    assert rule.peers == (Peer(namespace_selector=sel(team="ops")), Peer(pod_selector=sel(role="m")), single)


def test_ignores_policytypes_keeps_only_directions_with_rules():
    deny = NetworkPolicy("a", "deny", LabelSelector(), ("Ingress", "Egress"))
    egress_only = NetworkPolicy("a", "e", sel(app="api"), ("Ingress", "Egress"), egress=(Rule(),))
    out = ignores_policytypes(bundle([ns("a")], [], [], [deny, egress_only])).policies
    assert [p.policy_types for p in out] == [(), ("Egress",)]


def test_the_task_is_recognised_from_the_rendered_system_text():
    b = bundle([ns("a")], [], [], [])
    for ref in ("flows@1", "flows@2", "breakage@1", "dns@1"):
        request = build_request(prepare_prompt(ref, b, []), 10)
        assert identify_prompt(request) == ref


def test_simulated_replies_are_labelled_and_unknown_modes_are_refused():
    request = build_request(prepare_prompt("dns@1", bundle([ns("a")], [], [], []), []), 10)
    reply = asyncio.run(SimulatedProvider("oracle").complete(request))
    assert reply.simulated and reply.model == "simulated:oracle" and reply.data["claims"] == []
    with pytest.raises(ProviderConfigError, match="simulated:oracle"):
        SimulatedProvider("psychic")
