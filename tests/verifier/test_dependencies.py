"""Gathering dependencies from every source, merging by trust, and evaluating them."""

from __future__ import annotations

from pathlib import Path

import pytest

import verifier
from verifier.deps.dependencies import (
    DependencyResult,
    block_covers,
    evaluate_dependencies,
    gather_dependencies,
    merge_dependencies,
)
from verifier.model.bundle import IPBlock
from verifier.model.records import Dependency

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "shop"
EXPORT = Path(__file__).parent / "data" / "deps" / "shop-hubble.jsonl"


@pytest.fixture(scope="module")
def shop() -> verifier.Bundle:
    return verifier.load_bundle([SHOP])


def shop_sources() -> dict[str, str]:
    return {"declared": (SHOP / "netreason.deps.yaml").read_text(), "observed": EXPORT.read_text()}


# --- merging ---------------------------------------------------------------------------


def test_merge_keeps_the_most_trusted_source_and_notes_the_others() -> None:
    inferred = Dependency("a/x", 80, dst="a/y", source="inferred", evidence="inferred from env Y in deployment/x",
                          service="a/y-svc", service_port=8000)
    observed = Dependency("a/x", 80, dst="a/y", source="observed", evidence="observed in f: 2 flows (2 forwarded)")
    declared = Dependency("a/x", 80, dst="a/y", source="declared", evidence="declared in d [0]")
    other_port = Dependency("a/x", 81, dst="a/y", source="inferred", evidence="inferred from env Z in deployment/x")
    merged = merge_dependencies([inferred, other_port, observed, declared, inferred])
    assert [(d.port, d.source) for d in merged] == [(80, "declared"), (81, "inferred")]
    best = merged[0]
    assert best.evidence == ("declared in d [0]; also observed in f: 2 flows (2 forwarded); "
                             "also inferred from env Y in deployment/x")
    assert (best.service, best.service_port) == ("a/y-svc", 8000)  # what was dialled, from the inference


def test_protocol_and_destination_keep_dependencies_apart() -> None:
    deps = [Dependency("a/x", 53, "UDP", dst="a/y"), Dependency("a/x", 53, "TCP", dst="a/y"),
            Dependency("a/x", 53, "UDP", cidr="1.1.1.1/32")]
    assert len(merge_dependencies(deps)) == 3


# --- gathering -------------------------------------------------------------------------


def test_shop_dependencies_from_all_three_sources(shop: verifier.Bundle) -> None:
    src = shop_sources()
    deps, issues = gather_dependencies(shop, src["declared"], "netreason.deps.yaml", src["observed"],
                                       observed_origin="shop-hubble.jsonl")
    assert [(d.src, d.target, d.port, d.source) for d in deps] == [
        ("shop/web", "shop/api", 8080, "declared"),
        ("shop/worker", "shop/api", 8080, "declared"),
        ("shop/api", "payments/payments-api", 8443, "declared"),
        ("payments/payments-api", "payments/postgres", 5432, "declared"),
        ("shop/web", "kube-system/coredns", 53, "observed"),
        ("shop/api", "203.0.113.10/32", 443, "observed"),
        ("payments/payments-api", "kube-system/coredns", 53, "observed"),
        ("monitoring/prometheus", "shop/web", 8080, "observed"),
    ]
    assert deps[3].evidence == (
        "declared in netreason.deps.yaml [3], line 5; also observed in shop-hubble.jsonl: 2 flows (2 forwarded), "
        "first at line 12; also inferred from env DATABASE_URL in deployment/payments-api")
    assert "hunter2" not in " ".join(d.evidence for d in deps)
    assert [i.severity for i in issues] == ["warning"]  # the debug pod of the export


def test_declared_list_and_no_inference(shop: verifier.Bundle) -> None:
    declared = [{"from": "web", "to": "api", "namespace": "shop", "port": 8080}, {"from": "web", "to": "ap", "port": 1}]
    deps, issues = gather_dependencies(shop, declared, None, None, infer=False)
    assert [(d.src, d.dst, d.source) for d in deps] == [("shop/web", "shop/api", "declared")]
    assert [(i.severity, str(i.source)) for i in issues] == [("error", "netreason.deps.yaml")]
    assert "closest: api" in issues[0].message


def test_inference_alone_finds_the_shop_graph(shop: verifier.Bundle) -> None:
    deps, issues = gather_dependencies(shop, None, None, None)
    assert issues == []
    assert sorted((d.src, d.dst, d.port) for d in deps) == [
        ("payments/payments-api", "payments/postgres", 5432),
        ("shop/api", "payments/payments-api", 8443),
        ("shop/web", "shop/api", 8080),
        ("shop/worker", "shop/api", 8080),
    ]


# --- evaluation ------------------------------------------------------------------------


def results_by_pair(results: list[DependencyResult]) -> dict[tuple[str, str], DependencyResult]:
    return {(r.dependency.src, r.dependency.target): r for r in results}


def test_shop_evaluation_explains_the_broken_dependencies(shop: verifier.Bundle) -> None:
    src = shop_sources()
    deps, _ = gather_dependencies(shop, src["declared"], "netreason.deps.yaml", src["observed"])
    results = results_by_pair(evaluate_dependencies(shop, deps))
    assert {k for k, r in results.items() if not r.allowed} == {
        ("shop/api", "payments/payments-api"),  # the shop namespace lacks team=shop
        ("shop/api", "203.0.113.10/32"),
        ("payments/payments-api", "kube-system/coredns"),  # payments has no DNS rule
    }
    broken = results[("shop/api", "payments/payments-api")]
    assert broken.verdict is not None and not broken.verdict.ingress.allowed and broken.verdict.egress.allowed
    assert broken.explanation.splitlines() == [
        "DENIED: shop/api -> payments/payments-api TCP/8443 (dials Service payments/payments-api port 8443)",
        "  egress at shop/api: allowed by egress rule 0 of shop/api-to-payments",
        "  ingress at payments/payments-api: denied: selected by payments/default-deny, payments/payments-api-ingress;"
        " no rule matches:",
        "    - rule 0 of payments-api-ingress needs namespace team=shop; namespace shop has no team label",
        "  dependency declared in netreason.deps.yaml [2], line 4; also observed in hubble export: 3 flows "
        "(2 dropped, 1 forwarded), first at line 7; also inferred from env PAYMENTS_URL in deployment/api",
    ]


def test_observed_verdicts_agree_with_the_evaluator(shop: verifier.Bundle) -> None:
    """The example export was written to match the example's policies: drops are denials."""
    deps, _ = gather_dependencies(shop, None, None, EXPORT.read_text(), infer=False)
    for r in evaluate_dependencies(shop, deps):
        dropped = "dropped" in r.dependency.evidence
        assert r.allowed is not dropped, r.explanation


CIDR_BUNDLE = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: client, namespace: ns}
spec:
  selector: {matchLabels: {app: client}}
  template:
    metadata: {labels: {app: client}}
    spec: {containers: [{name: c, image: c}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: open, namespace: ns}
spec:
  selector: {matchLabels: {app: open}}
  template:
    metadata: {labels: {app: open}}
    spec: {containers: [{name: c, image: c}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: https-out, namespace: ns}
spec:
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]
    ports: [{port: 443}]
"""


@pytest.mark.parametrize(
    ("src", "cidr", "port", "allowed", "words"),
    [
        ("ns/client", "203.0.113.7/32", 443, True, "allowed by egress rule 0 of ns/https-out"),
        ("ns/client", "203.0.113.7/32", 80, False,
         "- egress rule 0 of ns/https-out allows 0.0.0.0/0 except 10.0.0.0/8 on TCP/443"),
        ("ns/client", "10.1.2.3/32", 443, False, "no egress rule admits 10.1.2.3/32 on TCP/443"),
        ("ns/client", "0.0.0.0/0", 443, False, "selected by ns/https-out"),  # the except is inside
        ("ns/client", "2001:db8::1/128", 443, False, "no egress rule admits"),  # the block is IPv4 only
        ("ns/open", "10.1.2.3/32", 22, True, "egress not restricted"),
    ],
)
def test_cidr_dependencies_check_only_the_source_egress(src: str, cidr: str, port: int, allowed: bool,
                                                        words: str) -> None:
    bundle = verifier.load_text(CIDR_BUNDLE, name="cidr.yaml")
    [result] = evaluate_dependencies(bundle, [Dependency(src, port, cidr=cidr, evidence="declared in d [0]")])
    assert result.allowed is allowed and result.verdict is None
    assert words in result.explanation
    assert "only the source's egress applies" in result.explanation.splitlines()[0]


def test_evaluation_of_an_unknown_workload_raises(shop: verifier.Bundle) -> None:
    with pytest.raises(verifier.UnknownWorkload, match="shop/nope"):
        evaluate_dependencies(shop, [Dependency("shop/web", 80, dst="shop/nope")])


def test_a_given_explainer_and_connectivity_are_used(shop: verifier.Bundle) -> None:
    deps = [Dependency("shop/web", 8080, dst="shop/api"), Dependency("shop/web", 443, cidr="203.0.113.1/32")]
    conn, explainer = verifier.analyze(shop), verifier.Explainer(shop)
    results = evaluate_dependencies(shop, deps, conn=conn, explainer=explainer)
    assert [r.allowed for r in results] == [True, False]
    assert [conn.is_allowed("shop/web", "shop/api", 8080)] == [results[0].allowed]


def test_block_cover_needs_the_whole_cidr_outside_every_except() -> None:
    block = IPBlock("10.0.0.0/8", ("10.1.0.0/16",))
    assert block_covers(block, "10.2.0.0/16")
    assert not block_covers(block, "10.1.2.3/32")
    assert not block_covers(block, "10.0.0.0/8")
    assert not block_covers(block, "11.0.0.1/32")
    assert not block_covers(block, "::1/128")
