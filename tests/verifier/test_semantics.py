"""One test per semantic rule the shared scenarios do not pin down, through the public API."""

from __future__ import annotations

import verifier
from verifier.model.bundle import (
    Bundle,
    ContainerPort,
    IPBlock,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Requirement,
    Rule,
    Workload,
)


def sel(**labels: str) -> LabelSelector:
    return LabelSelector(tuple(Requirement(k, "In", (v,)) for k, v in labels.items()))


def ns(name: str, **labels: str) -> Namespace:
    return Namespace(name, {**labels, "kubernetes.io/metadata.name": name})


def pod(namespace: str, name: str, ports=(), ips=(), host=False, **labels: str) -> Workload:
    return Workload("Pod", namespace, name, labels, tuple(ports), tuple(ips), host)


def bundle(workloads, policies, namespaces=("x", "y")) -> Bundle:
    return Bundle({n: ns(n) for n in namespaces}, tuple(workloads), (), tuple(policies))


DENY_ALL = NetworkPolicy("x", "deny-all", LabelSelector(), ("Ingress", "Egress"))


def test_workload_paired_with_itself_is_replica_to_replica_and_obeys_policy():
    api = pod("x", "api", app="api")
    b = bundle([api], [DENY_ALL])
    assert not verifier.analyze(b).is_allowed("x/api", "x/api", 80)
    allow_self = NetworkPolicy("x", "self", sel(app="api"), ("Ingress", "Egress"),
                               (Rule((Peer(pod_selector=sel(app="api")),)),),
                               (Rule((Peer(pod_selector=sel(app="api")),)),))
    b2 = bundle([api], [DENY_ALL, allow_self])
    assert verifier.analyze(b2).is_allowed("x/api", "x/api", 80)
    assert verifier.check(b2, "x/api", "x/api", 80).allowed


def test_host_network_pod_is_never_isolated_and_never_matched_by_selectors():
    node_agent = pod("x", "agent", host=True, ips=("192.168.1.10",), app="agent")
    web = pod("x", "web", app="web")
    from_agent = NetworkPolicy("x", "from-agent", sel(app="web"), ("Ingress",),
                               (Rule((Peer(pod_selector=sel(app="agent")),)),))
    deny_ingress = NetworkPolicy("x", "deny-ingress", LabelSelector(), ("Ingress",))
    b = bundle([node_agent, web], [deny_ingress, from_agent])
    conn = verifier.analyze(b)
    # deny-ingress selects every pod of x, but hostNetwork pods are outside policy:
    assert conn.is_allowed("x/web", "x/agent", 9100)
    # a podSelector peer does not match node traffic
    assert not conn.is_allowed("x/agent", "x/web", 80)
    verdict = verifier.check(b, "x/agent", "x/web", 80)
    assert any("hostNetwork" in n for n in verdict.notes)


def test_host_network_source_matches_ip_block_of_its_node_address():
    node_agent = pod("x", "agent", host=True, ips=("192.168.1.10",))
    web = pod("x", "web", app="web")
    from_nodes = NetworkPolicy("x", "from-nodes", sel(app="web"), ("Ingress",),
                               (Rule((Peer(ip_block=IPBlock("192.168.1.0/24")),)),))
    conn = verifier.analyze(bundle([node_agent, web], [from_nodes]))
    assert conn.is_allowed("x/agent", "x/web", 80)


def test_ip_block_never_matches_a_pod_without_a_known_ip():
    a, b_ = pod("x", "a", app="a"), pod("x", "b", app="b")
    everywhere = NetworkPolicy("x", "from-all-ips", sel(app="b"), ("Ingress",),
                               (Rule((Peer(ip_block=IPBlock("0.0.0.0/0")),)),))
    b = bundle([a, b_], [everywhere])
    assert not verifier.analyze(b).is_allowed("x/a", "x/b", 80)
    assert "no known pod IP" in verifier.check(b, "x/a", "x/b", 80).explain()


def test_sctp_is_its_own_protocol():
    a, b_ = pod("x", "a"), pod("x", "b", app="b")
    sctp = NetworkPolicy("x", "sctp", sel(app="b"), ("Ingress",), (Rule(None, (PolicyPort("SCTP", 9000),)),))
    conn = verifier.analyze(bundle([a, b_], [sctp]))
    assert conn.is_allowed("x/a", "x/b", 9000, "SCTP")
    assert not conn.is_allowed("x/a", "x/b", 9000, "TCP")
    assert str(conn.allowed_ports("x/a", "x/b")) == "SCTP/9000"


def test_allowed_ports_are_an_interval_set_not_the_declared_ports():
    a, b_ = pod("x", "a"), pod("x", "b", ports=[ContainerPort(8080, "TCP", "http")], app="b")
    ranges = NetworkPolicy("x", "r", sel(app="b"), ("Ingress",),
                           (Rule(None,
                                 (PolicyPort("TCP", 8000, 8100), PolicyPort("TCP", 8101, 8200),
                                  PolicyPort("UDP", None))),))
    ports = verifier.analyze(bundle([a, b_], [ranges])).allowed_ports("x/a", "x/b")
    assert ports.for_protocol("TCP") == ((8000, 8200),)
    assert ports.for_protocol("UDP") == ((1, 65535),)


def test_external_egress_lists_blocks_and_ports_per_rule():
    a = pod("x", "a", app="a")
    egress = NetworkPolicy("x", "out", sel(app="a"), ("Egress",), (), (
        Rule((Peer(ip_block=IPBlock("10.0.0.0/8", ("10.1.0.0/16",))),), (PolicyPort("TCP", 443),)),))
    conn = verifier.analyze(bundle([a], [egress]))
    [ext] = conn.external_egress("x/a")
    assert ext.blocks == (IPBlock("10.0.0.0/8", ("10.1.0.0/16",)),)
    assert str(ext.ports) == "TCP/443"
    assert ext.rule == "egress rule 0 of x/out"


def test_unrestricted_egress_reaches_everywhere_outside():
    conn = verifier.analyze(bundle([pod("x", "a")], []))
    [ext] = conn.external_egress("x/a")
    assert {b.cidr for b in ext.blocks} == {"0.0.0.0/0", "::/0"}


def test_denial_names_the_closest_miss_with_what_the_source_has():
    api = pod("x", "api", app="api-v2")
    db = pod("x", "db", app="db")
    to_db = NetworkPolicy("x", "api-to-db", sel(app="db"), ("Ingress",), (
        Rule((Peer(pod_selector=sel(app="api")),), (PolicyPort("TCP", 5432),)),))
    verdict = verifier.check(bundle([api, db], [to_db]), "x/api", "x/db", 5432)
    assert not verdict.allowed
    assert "rule 0 of api-to-db needs app=api; source has app=api-v2" in verdict.explain()


def test_denial_by_missing_namespace_label_names_the_label():
    api = pod("y", "api", app="api")
    db = pod("x", "db", app="db")
    to_db = NetworkPolicy("x", "from-team", sel(app="db"), ("Ingress",), (
        Rule((Peer(pod_selector=sel(app="api"), namespace_selector=sel(team="y")),)),))
    text = verifier.check(bundle([api, db], [to_db]), "y/api", "x/db", 80).explain()
    assert "needs namespace team=y; namespace y has no team label" in text


def test_allowed_verdict_names_policy_and_rule_in_each_direction():
    a, b_ = pod("x", "a", app="a"), pod("x", "b", app="b")
    out = NetworkPolicy("x", "a-out", sel(app="a"), ("Egress",), (), (Rule((Peer(pod_selector=sel(app="b")),)),))
    into = NetworkPolicy("x", "b-in", sel(app="b"), ("Ingress",), (Rule(), Rule((Peer(pod_selector=sel(app="a")),))))
    v = verifier.check(bundle([a, b_], [out, into]), "x/a", "x/b", 80)
    assert v.allowed
    assert [str(r) for r in v.egress.allowed_by] == ["egress rule 0 of x/a-out"]
    assert [str(r) for r in v.ingress.allowed_by] == ["ingress rule 0 of x/b-in", "ingress rule 1 of x/b-in"]


def test_summary_counts_weight_classes_by_their_workloads():
    ws = [pod("x", f"w{i}", app="same") for i in range(3)] + [pod("x", "other", app="other")]
    only_same = NetworkPolicy("x", "same-only", sel(app="same"), ("Ingress",),
                              (Rule((Peer(pod_selector=sel(app="same")),)),))
    s = verifier.analyze(bundle(ws, [only_same])).summary()
    # 3x3 among "same", plus "other" to itself; other -> same denied; same -> other open.
    assert s["allowed_pairs"] == 9 + 1 + 3
    assert s["classes"] == 2 and s["workloads"] == 4
