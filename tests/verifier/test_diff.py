"""`diff_bundles`: flows, dependencies and findings a change opens or closes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import verifier
from verifier.deps.dependencies import evaluate_dependencies, gather_dependencies
from verifier.engine.compile import compile_bundle
from verifier.engine.connectivity import compute_connectivity
from verifier.review.diff import ExternalChange, FlowChange, diff_bundles, diff_json, external_cover
from verifier.model.bundle import Bundle

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
    assert {f.rule for f in d.findings_introduced} == {"dependency-broken", "egress-without-ingress",
                                                       "namespace-label-missing"}


def test_diff_json_document(shop_pair) -> None:  # type: ignore[no-untyped-def]
    (good, deps_good), (bad, deps_bad) = shop_pair[1], shop_pair[0]
    doc = diff_json(diff_bundles(good, bad, deps_good, deps_bad), "main", "pr")
    assert (doc["schema"], doc["old"], doc["new"]) == ("netreason.diff/v1", "main", "pr")
    assert doc["flows_removed"] == [{
        "from": "shop/api", "to": "payments/payments-api", "protocol": "TCP", "ports": [[8443, 8443]],
        "breaks": [{"from": "shop/api", "to": "payments/payments-api", "port": 8443, "protocol": "TCP",
                    "source": "declared"}],
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


# --- external egress ---------------------------------------------------------------------

POD_A = """
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {app: a}}
spec: {containers: [{name: a, image: a}]}
"""


def egress_bundle(*rules: str) -> Bundle:
    """Pod x/a, isolated for egress, with these egress rules (YAML flow mappings) in one policy."""
    return verifier.load_text(POD_A + f"""
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: a-out, namespace: x}}
spec:
  podSelector: {{matchLabels: {{app: a}}}}
  policyTypes: [Egress]
  egress: [{", ".join(rules)}]
""")


def to_block(cidr: str, *excepts: str, ports: str = "{port: 443}") -> str:
    block = f"{{cidr: {cidr}, except: [{', '.join(excepts)}]}}" if excepts else f"{{cidr: {cidr}}}"
    return f"{{to: [{{ipBlock: {block}}}], ports: [{ports}]}}"


def changes(items: tuple[ExternalChange, ...]) -> list[tuple[str, str, str, tuple[tuple[int, int], ...]]]:
    return [(c.workload, c.cidr, c.protocol, c.ranges) for c in items]


def test_opening_the_internet_on_443_is_an_external_egress_addition() -> None:
    d = diff_bundles(egress_bundle(), egress_bundle(to_block("0.0.0.0/0")))
    assert changes(d.external_added) == [("x/a", "0.0.0.0/0", "TCP", ((443, 443),))]
    assert d.external_removed == () and d.flows_added == d.flows_removed == ()


def test_narrowing_an_except_adds_exactly_the_addresses_it_no_longer_excludes() -> None:
    wide = egress_bundle(to_block("0.0.0.0/0", "10.0.0.0/8"))
    narrow = egress_bundle(to_block("0.0.0.0/0", "10.0.0.0/16"))
    opened = [f"10.{n}.0.0/{16 - i}" for i, n in enumerate((1, 2, 4, 8, 16, 32, 64, 128))]
    d = diff_bundles(wide, narrow)
    assert changes(d.external_added) == [("x/a", cidr, "TCP", ((443, 443),)) for cidr in opened]
    assert d.external_removed == ()
    back = diff_bundles(narrow, wide)
    assert changes(back.external_removed) == changes(d.external_added) and back.external_added == ()


def test_moving_an_except_removes_one_range_and_adds_the_other() -> None:
    before = egress_bundle(to_block("0.0.0.0/0", "10.0.0.0/8"))
    after = egress_bundle(to_block("0.0.0.0/0", "172.16.0.0/12"))
    d = diff_bundles(before, after)
    assert changes(d.external_added) == [("x/a", "10.0.0.0/8", "TCP", ((443, 443),))]
    assert changes(d.external_removed) == [("x/a", "172.16.0.0/12", "TCP", ((443, 443),))]


def test_reordered_and_rewritten_rules_with_the_same_reach_show_no_external_change() -> None:
    dns = to_block("10.0.0.10/32", ports="{port: 53, protocol: UDP}")
    web = to_block("0.0.0.0/0", "10.0.0.0/8")
    halves = ("{to: [{ipBlock: {cidr: 128.0.0.0/1}}, {ipBlock: {cidr: 0.0.0.0/1, except: [10.0.0.0/8]}}], "
              "ports: [{port: 443}]}")
    d = diff_bundles(egress_bundle(web, dns), egress_bundle(dns, halves))
    assert d.external_added == d.external_removed == ()


def test_a_port_change_on_one_block_reports_only_the_ports_that_changed() -> None:
    before = egress_bundle(to_block("203.0.113.0/24", ports="{port: 80}, {port: 443}"))
    after = egress_bundle(to_block("203.0.113.0/24", ports="{port: 443}, {port: 8000, endPort: 8010}"))
    d = diff_bundles(before, after)
    assert changes(d.external_added) == [("x/a", "203.0.113.0/24", "TCP", ((8000, 8010),))]
    assert changes(d.external_removed) == [("x/a", "203.0.113.0/24", "TCP", ((80, 80),))]


def test_isolating_a_workload_for_egress_removes_every_outside_address_it_keeps_no_rule_for() -> None:
    open_pod = verifier.load_text(POD_A)
    d = diff_bundles(open_pod, egress_bundle(to_block("0.0.0.0/0")))
    every = ((1, 65535),)
    assert changes(d.external_removed) == [
        ("x/a", "0.0.0.0/0", "TCP", ((1, 442), (444, 65535))), ("x/a", "::/0", "TCP", every),
        ("x/a", "0.0.0.0/0", "UDP", every), ("x/a", "::/0", "UDP", every),
        ("x/a", "0.0.0.0/0", "SCTP", every), ("x/a", "::/0", "SCTP", every),
    ]
    assert d.external_added == ()


def test_external_cover_is_the_same_for_equivalent_blocks() -> None:
    one = egress_bundle(to_block("0.0.0.0/0", "10.0.0.0/8"))
    split = egress_bundle(to_block("0.0.0.0/1", "10.0.0.0/8"), to_block("128.0.0.0/1"))
    conn = [compute_connectivity(compile_bundle(b)) for b in (one, split)]
    assert external_cover(conn[0], "x/a") == external_cover(conn[1], "x/a") != ()


def test_diff_json_lists_external_changes_and_counts_them() -> None:
    doc = diff_json(diff_bundles(egress_bundle(to_block("0.0.0.0/0", "10.0.0.0/8")),
                                 egress_bundle(to_block("0.0.0.0/0", "172.16.0.0/12"))))
    assert doc["external_added"] == [{"workload": "x/a", "cidr": "10.0.0.0/8", "protocol": "TCP",
                                      "ports": [[443, 443]]}]
    assert doc["external_removed"] == [{"workload": "x/a", "cidr": "172.16.0.0/12", "protocol": "TCP",
                                        "ports": [[443, 443]]}]
    assert doc["summary"]["external_added"] == doc["summary"]["external_removed"] == 1
