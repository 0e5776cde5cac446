"""Exposure's outside ingress reads only the policies with a rule open to outside addresses: what reading
every policy selecting the workload gives.

`exposure_report._View.external_ingress` takes a workload's isolation from the compiled bundle and walks
only the policies that have an ingress rule with no `from` or with an ipBlock peer
(`_outside_policies`). The rows, their order and their reasons must be those of matching every policy's
podSelector against the workload and reading all its ingress rules, on the finding cases, the corpus
apps, a generated cluster and random bundles.
"""

from __future__ import annotations


import pytest
from hypothesis import HealthCheck, given, settings

import verifier
from tests.generated import generated_bundle
from verifier.engine.explain import Explainer
from verifier.engine.exposure_report import ExternalIngress, _View, controller_workloads, outside_rows
from verifier.model.bundle import Bundle, Workload
from verifier.sets.ports import PortSet

from .strategies import bundles
from .test_explain_selecting import BUNDLES


def _every_policy(explainer: Explainer, w: Workload) -> list[ExternalIngress]:
    """Outside ingress read from every policy selecting `w`, matched by selector (no compiled classes)."""
    policies = explainer.selecting(w, "ingress")
    if not policies:
        why = "hostNetwork (outside policy)" if w.host_network else "not isolated for ingress"
        return [ExternalIngress("anywhere", (), PortSet.all_ports(), why)]
    # every selecting policy's every ingress rule, none skipped: the rows of one rule are `outside_rows`' in both
    return [row for p in policies for i, rule in enumerate(p.ingress) for row in outside_rows(p, i, rule, w)]


def assert_same_outside_ingress(bundle: Bundle) -> int:
    """Compare every workload's rows; the number of rows from policies (not the unisolated ones)."""
    conn = verifier.analyze(bundle)
    view, explainer = _View(bundle, conn, controller_workloads(bundle)), Explainer(bundle)
    from_rules = 0
    for w in bundle.workloads:
        want = _every_policy(explainer, w)
        assert view.external_ingress(w) == want, w.id
        from_rules += sum(row.rule.startswith("ingress rule") for row in want)
    return from_rules


@pytest.mark.parametrize("name", sorted(BUNDLES))
def test_outside_ingress_is_that_of_reading_every_selecting_policy(name: str) -> None:
    assert_same_outside_ingress(verifier.load_bundle([str(p) for p in BUNDLES[name]]))


def test_a_generated_cluster_with_ip_blocks() -> None:
    assert assert_same_outside_ingress(generated_bundle())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bundles())
def test_random_bundle_outside_ingress_is_that_of_reading_every_selecting_policy(bundle: Bundle) -> None:
    assert_same_outside_ingress(bundle)
