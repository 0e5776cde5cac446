"""The benchmark cluster generator: documented shape at a tiny size, determinism, and the
independent shape statistics it reports. No timing assertions here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_report import evaluate  # noqa: E402
from benchmarks.compare_nca import disagreements, parse_nca_conn  # noqa: E402
from benchmarks.gen_cluster import generate, write_cluster  # noqa: E402
from benchmarks.shape_stats import shape_stats  # noqa: E402
from benchmarks.tiers import TIERS, TierSpec  # noqa: E402

TINY = TierSpec("tiny", pods=60, namespaces=8, policies=40, workloads=12)


def _yaml_docs(directory: Path) -> list[dict]:
    docs = []
    for path in sorted(directory.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _replicas(doc: dict) -> int:
    return 1 if doc["kind"] == "Pod" else doc["spec"]["replicas"]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny")
    write_cluster(generate(TINY, seed=7), out)
    return out


def test_written_files_hold_exactly_the_requested_counts(tiny_dir: Path) -> None:
    docs = _yaml_docs(tiny_dir / "yaml")
    kinds = [d["kind"] for d in docs]
    workloads = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "Pod")]
    assert kinds.count("Namespace") == 8
    assert kinds.count("NetworkPolicy") == 40
    assert len(workloads) == 12
    assert sum(_replicas(w) for w in workloads) == 60
    assert len(list((tiny_dir / "yaml").glob("*.yaml"))) == 8  # one file per namespace


def test_stats_file_agrees_with_the_manifests(tiny_dir: Path) -> None:
    meta = json.loads((tiny_dir / "stats.json").read_text())
    assert meta["tier"]["name"] == "tiny" and meta["seed"] == 7
    assert meta["shape"] == shape_stats(_yaml_docs(tiny_dir / "yaml"))
    assert meta["shape"]["policies_selecting_nothing"] == round(0.26 * 40)


def test_json_lists_carry_the_same_documents_as_yaml(tiny_dir: Path) -> None:
    from_json = []
    for path in sorted((tiny_dir / "json").glob("*.json")):
        listing = json.loads(path.read_text())
        assert listing["kind"] == "List"
        from_json += listing["items"]
    assert from_json == _yaml_docs(tiny_dir / "yaml")


def test_every_namespace_repeats_default_deny_and_dns_egress(tiny_dir: Path) -> None:
    docs = _yaml_docs(tiny_dir / "yaml")
    namespaces = {d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"}
    policies = {(d["metadata"]["namespace"], d["metadata"]["name"]): d["spec"]
                for d in docs if d["kind"] == "NetworkPolicy"}
    for ns in namespaces:
        deny, dns = policies[(ns, "default-deny-all")], policies[(ns, "allow-dns-egress")]
        assert deny == {"podSelector": {}, "ingress": [], "egress": [], "policyTypes": ["Ingress", "Egress"]}
        assert dns["egress"] == [{
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]


def test_kube_dns_runs_two_replicas_serving_53_udp_and_tcp(tiny_dir: Path) -> None:
    dns = [d for d in _yaml_docs(tiny_dir / "yaml") if d["metadata"]["name"] == "coredns" and d["kind"] == "Deployment"]
    assert len(dns) == 1 and dns[0]["metadata"]["namespace"] == "kube-system"
    template = dns[0]["spec"]["template"]
    assert template["metadata"]["labels"]["k8s-app"] == "kube-dns" and dns[0]["spec"]["replicas"] == 2
    ports = {(p["containerPort"], p["protocol"]) for p in template["spec"]["containers"][0]["ports"]}
    assert {(53, "UDP"), (53, "TCP")} <= ports


def test_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        write_cluster(generate(TINY, seed=seed), tmp_path / name)
    files = lambda d: {p.relative_to(d): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}  # noqa: E731
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert files(tmp_path / "a") != files(tmp_path / "c")


def _ns(name: str, **labels: str) -> dict:
    return {"kind": "Namespace", "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name, **labels}}}


def _deploy(ns: str, name: str, replicas: int, **labels: str) -> dict:
    return {"kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "template": {"metadata": {"labels": {"app": name, **labels}}}}}


def _netpol(ns: str, selector: dict, ingress: list) -> dict:
    return {"kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": ns},
            "spec": {"podSelector": selector, "ingress": ingress}}


def test_shape_stats_scope_pod_only_peers_to_the_policy_namespace() -> None:
    docs = [_ns("a", team="x"), _ns("b", team="x"), _deploy("a", "web", 3), _deploy("b", "web", 5),
            _deploy("b", "db", 2, tier="data"),
            _netpol("a", {"matchLabels": {"app": "web"}}, [
                {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]},  # a/web only: 3
                {"from": [{"namespaceSelector": {"matchLabels": {"team": "x"}},
                           "podSelector": {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}}],
                 "ports": [{"port": 5432}]},  # b/db: 2
                {"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]),
            _netpol("b", {"matchLabels": {"app": "gone"}}, [{"from": [{"namespaceSelector": {}}]}])]  # 10
    stats = shape_stats(docs)
    assert stats["pods"] == 10 and stats["policies_selecting_nothing"] == 1
    assert stats["median_pods_selected_per_policy"] == 1.5  # [3, 0]
    assert stats["median_pods_selected_per_peer"] == 3.0  # [3, 2, 10]
    assert stats["fraction_pod_selector_peers_without_ports"] == 0.5
    assert stats["peers_by_kind"] == {"ipBlock": 1, "namespaceSelector": 1, "namespaceSelector+podSelector": 1,
                                      "podSelector": 1}


def test_nca_connection_strings_parse_to_port_ranges() -> None:
    assert parse_nca_conn("{protocols:TCP, UDP,dst_ports:53}") == {"TCP": ((53, 53),), "UDP": ((53, 53),)}
    assert parse_nca_conn("{protocols:TCP,dst_ports:8000-8999,80}") == {"TCP": ((80, 80), (8000, 8999))}
    assert parse_nca_conn("All connections")["SCTP"] == ((1, 65535),)


def test_disagreements_name_the_pair_and_both_sides() -> None:
    dns = {"UDP": ((53, 53),), "TCP": ((53, 53),)}
    nca = {("a/x", "kube-system/coredns"): dns, ("a/x", "a/y"): {"TCP": ((8080, 8080),)}}
    ours = {("a/x", "kube-system/coredns"): dns, ("a/y", "a/x"): {"TCP": ((1, 65535),)}}
    assert disagreements(nca, ours) == [
        {"src": "a/x", "dst": "a/y", "nca": "TCP 8080", "netreason": "none"},
        {"src": "a/y", "dst": "a/x", "nca": "none", "netreason": "TCP 1-65535"},
    ]


def test_goals_are_judged_against_the_tier_limits() -> None:
    run = {"process": {"wall_seconds": 3.0, "maxrss_mb": 900.0}, "summary": {"workloads": 100, "classes": 10},
           "phases": [{"phase": "parse", "seconds": 2.0}, {"phase": "compute", "seconds": 1.5}]}
    goals = evaluate("M", {"netreason_yaml": run})["goals"]
    assert goals == {"compute_s < 1": False, "end_to_end_yaml_s < 10": True}


@pytest.mark.slow
def test_tier_m_reaches_the_published_shape() -> None:
    stats = generate(TIERS["M"]).stats
    assert (stats["pods"], stats["namespaces"], stats["policies"]) == (5413, 604, 13678)
    assert stats["fraction_policies_selecting_nothing"] == pytest.approx(0.26, abs=0.002)
    assert stats["median_pods_selected_per_policy"] == 6
    assert stats["median_pods_selected_per_peer"] == 2
    assert stats["fraction_pod_selector_peers_without_ports"] == pytest.approx(0.69, abs=0.02)
