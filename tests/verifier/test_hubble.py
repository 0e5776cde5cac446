"""Hubble flow exports: parsing, pod-to-workload mapping and aggregation into dependencies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import verifier
from verifier.deps.hubble import FlowEndpoint, WorkloadMatcher, observed_dependencies, parse_flows

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "shop"
EXPORT = Path(__file__).parent / "data" / "deps" / "shop-hubble.jsonl"


@pytest.fixture(scope="module")
def shop() -> verifier.Bundle:
    return verifier.load_bundle([SHOP])


def record(src: dict[str, Any], dst: dict[str, Any], l4: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"flow": {"verdict": "FORWARDED", "source": src, "destination": dst, "l4": l4,
                     "traffic_direction": "EGRESS", "Type": "L3_L4", **extra}}


def pod(ns: str, name: str, *labels: str, workloads: list[dict[str, str]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"namespace": ns, "pod_name": name, "labels": [f"k8s:{x}" for x in labels]}
    if workloads is not None:
        out["workloads"] = workloads
    return out


def test_export_lines_become_flows_with_hubble_field_names() -> None:
    flows, issues = parse_flows(EXPORT.read_text(), "shop-hubble.jsonl")
    assert issues == []
    assert len(flows) == 22  # 23 lines, one of them lost_events
    first = flows[0]
    assert (first.protocol, first.port, first.verdict, first.direction,
            first.is_reply) == ("UDP", 53, "FORWARDED", "EGRESS", False)
    assert first.source.namespace == "shop" and first.source.pod_name == "web-7d9f8b6c5d-x2k9p"
    assert first.source.labels == {"app": "web", "tier": "frontend"}  # io.cilium.* and the namespace label dropped
    assert first.source.workloads == (("Deployment", "web"),)
    assert (first.source.ip, first.destination.ip) == ("10.244.1.12", "10.244.0.3")
    assert first.service == "kube-system/kube-dns"
    assert [f.line for f in flows if f.is_reply] == [2, 5, 15, 18]


def test_shop_export_aggregates_to_workload_pairs(shop: verifier.Bundle) -> None:
    flows, _ = parse_flows(EXPORT.read_text(), "shop-hubble.jsonl")
    deps, issues = observed_dependencies(shop, flows, "shop-hubble.jsonl")
    assert sorted((d.src, d.target, d.protocol, d.port) for d in deps) == [
        ("monitoring/prometheus", "shop/web", "TCP", 8080),
        ("payments/payments-api", "kube-system/coredns", "UDP", 53),
        ("payments/payments-api", "payments/postgres", "TCP", 5432),
        ("shop/api", "203.0.113.10/32", "TCP", 443),
        ("shop/api", "payments/payments-api", "TCP", 8443),
        ("shop/web", "kube-system/coredns", "UDP", 53),
        ("shop/web", "shop/api", "TCP", 8080),
        ("shop/worker", "shop/api", "TCP", 8080),
    ]
    by_key = {(d.src, d.target): d for d in deps}
    dropped = by_key[("shop/api", "payments/payments-api")]
    assert dropped.source == "observed" and dropped.service == "payments/payments-api"
    assert dropped.evidence == "observed in shop-hubble.jsonl: 3 flows (2 dropped, 1 forwarded), first at line 7"
    assert dropped.origin == verifier.SourceRef("shop-hubble.jsonl", 7)
    assert by_key[("shop/api", "203.0.113.10/32")].dst is None
    # the debug pod is in no manifest; traffic from the world has no client workload and is not reported
    assert [(i.severity, i.source.line if i.source else 0) for i in issues] == [("warning", 20)]
    assert "pod shop/debug-shell matches no workload" in issues[0].message


def test_pods_map_by_owner_then_pod_name_then_labels(shop: verifier.Bundle) -> None:
    match = WorkloadMatcher(shop).match
    owner = FlowEndpoint("shop", "anything", workloads=(("CronJob", "worker"),))
    assert match(owner).id == "shop/worker"  # type: ignore[union-attr]
    assert match(FlowEndpoint("payments", "postgres-0")).id == "payments/postgres"  # type: ignore[union-attr]
    assert match(FlowEndpoint("shop", "worker-29012340-h8v2m")).id == "shop/worker"  # type: ignore[union-attr]
    assert match(FlowEndpoint("payments", "payments-api-6b7c9d8f5-lm3np")).id == "payments/payments-api"  # type: ignore[union-attr]
    by_labels = FlowEndpoint("shop", "custom-name", {"app": "web", "tier": "frontend", "pod-template-hash": "x"})
    assert match(by_labels).id == "shop/web"  # type: ignore[union-attr]
    # `api-canary-...` is not a pod of `api` (its suffix is no generated one) and its labels fit nothing
    assert match(FlowEndpoint("shop", "api-canary-7f9c8d6b5-zt4kq", {"app": "api-canary"})) is None
    assert match(FlowEndpoint("elsewhere", "web-7d9f8b6c5d-x2k9p")) is None
    assert match(FlowEndpoint(None, None, reserved=("reserved:world",))) is None


def test_ambiguous_labels_map_to_nothing(shop: verifier.Bundle) -> None:
    both = FlowEndpoint("shop", "x", {"tier": "backend", "app": "api"})
    assert WorkloadMatcher(shop).match(both).id == "shop/api"  # type: ignore[union-attr]
    subset = FlowEndpoint("shop", "x", {"tier": "backend"})  # api's and worker's labels both need app
    assert WorkloadMatcher(shop).match(subset) is None


def test_records_may_be_parsed_responses_or_bare_flows(shop: verifier.Bundle) -> None:
    wrapped = record(pod("shop", "web-1", "app=web"), pod("shop", "api-1", "app=api", "tier=backend"),
                     {"TCP": {"source_port": 40000, "destination_port": 8080, "flags": {"SYN": True}}})
    bare = dict(wrapped["flow"], l4={"UDP": {"source_port": 1, "destination_port": 8080}})
    flows, issues = parse_flows([wrapped, bare, {"lost_events": {"num_events_lost": "1"}}])
    assert issues == [] and [(f.protocol, f.line) for f in flows] == [("TCP", 1), ("UDP", 2)]
    deps, _ = observed_dependencies(shop, flows)
    assert sorted((d.src, d.dst, d.protocol) for d in deps) == [("shop/web", "shop/api", "TCP"),
                                                                ("shop/web", "shop/api", "UDP")]
    assert deps[0].evidence.startswith("observed in hubble export: 1 flow (1 forwarded)")


def test_replies_icmp_and_non_world_outsiders_give_no_dependency(shop: verifier.Bundle) -> None:
    web, api = pod("shop", "web-1", "app=web"), pod("shop", "api-1", "app=api", "tier=backend")
    host = {"identity": 1, "labels": ["reserved:host"]}
    records = [
        record(api, web,
               {"TCP": {"source_port": 8080, "destination_port": 40000, "flags": {"SYN": True, "ACK": True}}}),
        record(web, api, {"TCP": {"source_port": 40000, "destination_port": 8080}}, is_reply=True),
        record(web, api, {"ICMPv4": {"type": 8}}),
        record(web, host, {"TCP": {"source_port": 40000, "destination_port": 10250}}, IP={"destination": "172.18.0.2"}),
    ]
    flows, _ = parse_flows(records)
    assert observed_dependencies(shop, flows) == ([], [])


def test_world_destination_keeps_the_single_address(shop: verifier.Bundle) -> None:
    world = {"identity": 2, "labels": ["reserved:world"]}
    records = [record(pod("shop", "api-1", "app=api", "tier=backend"), world,
                      {"TCP": {"source_port": 1, "destination_port": 443}},
                      IP={"source": "10.0.0.1", "destination": "2001:db8::7"})]
    deps, _ = observed_dependencies(shop, parse_flows(records)[0])
    assert [(d.src, d.cidr, d.port) for d in deps] == [("shop/api", "2001:db8::7/128", 443)]


def test_lines_that_are_not_json_are_errors_with_their_line() -> None:
    good = json.dumps(record(pod("shop", "web-1"), pod("shop", "api-1"), {"TCP": {"destination_port": 1}}))
    flows, issues = parse_flows(f"{good}\n\nFeb 14 12:00:01: shop/web -> shop/api to-endpoint FORWARDED\n", "flows.txt")
    assert len(flows) == 1
    assert [(i.severity, str(i.source)) for i in issues] == [("error", "flows.txt:3")]
    assert "hubble observe -o json" in issues[0].message
