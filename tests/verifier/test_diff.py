"""`diff_bundles`: flows, dependencies and findings a change opens or closes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import verifier
from verifier.dependencies import evaluate_dependencies, gather_dependencies
from verifier.diff import FlowChange, diff_bundles, diff_json
from verifier.model import Bundle

EXAMPLE = Path(__file__).parents[2] / "examples" / "shop"
BROKEN_PEER = "matchLabels: {team: shop}"
FIXED_PEER = "matchLabels: {kubernetes.io/metadata.name: shop}"


def load(folder: Path) -> tuple[Bundle, list]:  # type: ignore[type-arg]
    bundle = verifier.load_bundle([str(p) for p in sorted(folder.glob("**/*.yaml")) if p.name != "netreason.deps.yaml"])
    deps_file = EXAMPLE / "netreason.deps.yaml"
    deps, _ = gather_dependencies(bundle, deps_file.read_text(), str(deps_file), None)
    return bundle, evaluate_dependencies(bundle, deps)


@pytest.fixture
def shop_pair(tmp_path: Path) -> tuple[tuple[Bundle, list], tuple[Bundle, list]]:  # type: ignore[type-arg]
    fixed = tmp_path / "shop"
    shutil.copytree(EXAMPLE, fixed)
    policy = fixed / "policies" / "payments.yaml"
    text = policy.read_text()
    assert BROKEN_PEER in text
    policy.write_text(text.replace(BROKEN_PEER, FIXED_PEER))
    return load(EXAMPLE), load(fixed)


def test_identical_bundles_have_an_empty_diff() -> None:
    bundle, deps = load(EXAMPLE)
    d = diff_bundles(bundle, bundle, deps, deps)
    assert d.flows_added == d.flows_removed == d.findings_introduced == d.findings_resolved == ()
    assert d.dependencies_broken == d.dependencies_fixed == ()


def test_fixing_the_namespace_label_adds_the_flow_and_resolves_its_findings(shop_pair) -> None:  # type: ignore[no-untyped-def]
    (old, deps_old), (new, deps_new) = shop_pair
    d = diff_bundles(old, new, deps_old, deps_new)
    assert d.flows_added == (FlowChange("shop/api", "payments/payments-api", "TCP", ((8443, 8443),)),)
    assert d.flows_removed == ()
    assert [r.dependency.key() for r in d.dependencies_fixed] == [("shop/api", "payments/payments-api", 8443, "TCP")]
    assert d.dependencies_broken == ()
    resolved = {(f.rule, f.object) for f in d.findings_resolved}
    assert resolved == {("dependency-broken", "shop/api"), ("egress-without-ingress", "shop/api-to-payments"),
                        ("namespace-label-missing", "payments/payments-api-ingress")}
    assert d.findings_introduced == ()


def test_breaking_change_lists_the_removed_flow_with_the_dependency_it_breaks(shop_pair) -> None:  # type: ignore[no-untyped-def]
    (good, deps_good), (bad, deps_bad) = shop_pair[1], shop_pair[0]
    d = diff_bundles(good, bad, deps_good, deps_bad)
    (removed,) = d.flows_removed
    assert (removed.src, removed.dst, removed.ranges) == ("shop/api", "payments/payments-api", ((8443, 8443),))
    assert [b.key() for b in removed.breaks] == [("shop/api", "payments/payments-api", 8443, "TCP")]
    assert [r.dependency.key() for r in d.dependencies_broken] == [("shop/api", "payments/payments-api", 8443, "TCP")]
    assert {f.rule for f in d.findings_introduced} == {"dependency-broken", "egress-without-ingress", "namespace-label-missing"}


def test_diff_json_document(shop_pair) -> None:  # type: ignore[no-untyped-def]
    (good, deps_good), (bad, deps_bad) = shop_pair[1], shop_pair[0]
    doc = diff_json(diff_bundles(good, bad, deps_good, deps_bad), "main", "pr")
    assert (doc["schema"], doc["old"], doc["new"]) == ("netreason.diff/v1", "main", "pr")
    assert doc["flows_removed"] == [{
        "from": "shop/api", "to": "payments/payments-api", "protocol": "TCP", "ports": [[8443, 8443]],
        "breaks": [{"from": "shop/api", "to": "payments/payments-api", "port": 8443, "protocol": "TCP", "source": "declared"}],
    }]
    assert doc["summary"]["findings_introduced"] == 3 and doc["summary"]["flows_added"] == 0


def test_partial_port_change_reports_only_the_ports_that_changed() -> None:
    def bundle(ports: str) -> Bundle:
        return verifier.load_text(f"""
apiVersion: v1
kind: Pod
metadata: {{name: a, namespace: x, labels: {{app: a}}}}
spec: {{containers: [{{name: a, image: a}}]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: b, namespace: x, labels: {{app: b}}}}
spec: {{containers: [{{name: b, image: b}}]}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: b-in, namespace: x}}
spec:
  podSelector: {{matchLabels: {{app: b}}}}
  ingress: [{{from: [{{podSelector: {{matchLabels: {{app: a}}}}}}], ports: [{ports}]}}]
""")
    d = diff_bundles(bundle("{port: 80}, {port: 443}"), bundle("{port: 443}, {port: 8000, endPort: 8010}"))
    assert d.flows_removed == (FlowChange("x/a", "x/b", "TCP", ((80, 80),)),)
    assert d.flows_added == (FlowChange("x/a", "x/b", "TCP", ((8000, 8010),)),)
