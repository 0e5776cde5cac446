"""Building model records with the API server's defaults."""

from __future__ import annotations

from textwrap import dedent

import pytest

from verifier.input.load import load_documents, load_text
from verifier.model.bundle import (
    NAMESPACE_NAME_LABEL,
    ContainerPort,
    EnvVar,
    IPBlock,
    LabelSelector,
    Peer,
    PolicyPort,
    Requirement,
    Rule,
    ServicePort,
)


def one_policy(spec: dict) -> object:
    doc = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
           "metadata": {"name": "p", "namespace": "x"}, "spec": spec}
    bundle = load_documents([doc])
    assert bundle.issues == ()
    (policy,) = bundle.policies
    return policy


@pytest.mark.parametrize(("spec", "types"), [
    ({"podSelector": {}}, ("Ingress",)),
    ({"podSelector": {}, "policyTypes": []}, ("Ingress",)),
    ({"podSelector": {}, "egress": [{"to": [{"podSelector": {}}]}]}, ("Ingress", "Egress")),
    ({"podSelector": {}, "egress": [{}]}, ("Ingress", "Egress")),
    ({"podSelector": {}, "egress": []}, ("Ingress",)),
    ({"podSelector": {}, "ingress": [{}], "egress": [{}], "policyTypes": ["Egress"]}, ("Egress",)),
    ({"podSelector": {}, "policyTypes": ["Egress", "Ingress"]}, ("Ingress", "Egress")),
])
def test_policy_types_default_like_set_defaults_network_policy(spec: dict, types: tuple) -> None:
    assert one_policy(spec).policy_types == types


def test_ingress_rules_are_kept_even_when_policy_types_exclude_ingress() -> None:
    policy = one_policy({"podSelector": {}, "policyTypes": ["Egress"], "ingress": [{"from": [{"podSelector": {}}]}]})
    assert not policy.affects_ingress and len(policy.ingress) == 1


@pytest.mark.parametrize("rule", [{}, {"from": []}, {"from": None, "ports": []}, {"ports": None}])
def test_empty_or_missing_from_and_ports_mean_everything(rule: dict) -> None:
    assert one_policy({"podSelector": {}, "ingress": [rule]}).ingress == (Rule(peers=None, ports=None),)


def test_null_rule_decodes_to_the_zero_rule() -> None:
    assert one_policy({"podSelector": {}, "ingress": [None]}).ingress == (Rule(),)


@pytest.mark.parametrize("selector", [None, {}, {"matchLabels": None}, {"matchLabels": {}, "matchExpressions": []}])
def test_null_and_empty_selectors_select_everything(selector: dict | None) -> None:
    assert one_policy({"podSelector": selector}).pod_selector == LabelSelector()


def test_selector_requirements_keep_order_match_labels_first() -> None:
    selector = {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev", "qa"]},
                                     {"key": "canary", "operator": "DoesNotExist"}],
                "matchLabels": {"app": "web", "tier": "fe"}}
    assert one_policy({"podSelector": selector}).pod_selector.requirements == (
        Requirement("app", "In", ("web",)), Requirement("tier", "In", ("fe",)),
        Requirement("env", "NotIn", ("dev", "qa")), Requirement("canary", "DoesNotExist", ()),
    )


def test_peers_and_ports_are_built_with_tcp_default_and_empty_selector_distinct_from_absent() -> None:
    rule = {"from": [{"namespaceSelector": {}},
                     {"podSelector": {"matchLabels": {"a": "b"}}, "namespaceSelector": {"matchLabels": {"ns": "y"}}},
                     {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
            "ports": [{"port": 80}, {"protocol": "UDP", "port": "dns"}, {"port": 8000, "endPort": 8100},
                      {"protocol": "SCTP"}]}
    (built,) = one_policy({"podSelector": {}, "ingress": [rule]}).ingress
    assert built.peers == (
        Peer(namespace_selector=LabelSelector()),
        Peer(LabelSelector((Requirement("a", "In", ("b",)),)), LabelSelector((Requirement("ns", "In", ("y",)),))),
        Peer(ip_block=IPBlock("10.0.0.0/8", ("10.1.0.0/16",))),
    )
    assert built.ports == (PolicyPort("TCP", 80), PolicyPort("UDP", "dns"), PolicyPort("TCP", 8000, 8100),
                           PolicyPort("SCTP", None))


def test_null_port_item_means_every_tcp_port() -> None:
    (built,) = one_policy({"podSelector": {}, "egress": [{"ports": [None]}]}).egress
    assert built.ports == (PolicyPort("TCP", None),)


WORKLOADS = dedent("""\
    apiVersion: batch/v1
    kind: CronJob
    metadata: {name: nightly, namespace: jobs}
    spec:
      schedule: "0 1 * * *"
      jobTemplate:
        spec:
          parallelism: 3
          template:
            metadata:
              labels: {app: nightly}
              annotations: {a: b}
            spec:
              hostNetwork: true
              containers:
              - name: main
                ports: [{containerPort: 9000, name: metrics}]
                env:
                - {name: DB, value: "db:5432"}
                - {name: TOKEN, valueFrom: {secretKeyRef: {name: s, key: k}}}
                - {name: EMPTY}
              initContainers:
              - name: proxy
                restartPolicy: Always
                ports: [{containerPort: 15001, protocol: UDP}]
              - name: migrate
                ports: [{containerPort: 1234}]
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 0
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers: [{name: c, image: nginx}]
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: p, namespace: jobs, labels: {app: p}}
    spec:
      containers: [{name: c}]
    status:
      podIP: 10.0.0.5
      podIPs: [{ip: 10.0.0.5}, {ip: "fd00::5"}]
    """)


def test_workloads_take_labels_ports_env_and_replicas_from_their_pod_template() -> None:
    bundle = load_text(WORKLOADS, name="w.yaml", default_namespace="apps")
    assert bundle.issues == ()
    cron, web, pod = bundle.workloads
    assert (cron.kind, cron.id, cron.labels, cron.replicas, cron.host_network) == (
        "CronJob", "jobs/nightly", {"app": "nightly"}, 3, True)
    assert cron.ports == (ContainerPort(9000, "TCP", "metrics"), ContainerPort(15001, "UDP", None))
    assert cron.env == (EnvVar("main", "DB", "db:5432"), EnvVar("main", "TOKEN", None), EnvVar("main", "EMPTY", ""))
    assert cron.annotations == {"a": "b"}
    assert cron.source is not None and (cron.source.file, cron.source.line, cron.source.document) == ("w.yaml", 1, 0)
    assert (web.id, web.replicas, web.ports, web.pod_ips) == ("apps/web", 0, (), ())
    assert web.source is not None and web.source.line == 29
    assert pod.pod_ips == ("10.0.0.5", "fd00::5") and pod.labels == {"app": "p"}


def test_services_default_target_port_protocol_and_type() -> None:
    text = dedent("""\
        apiVersion: v1
        kind: Service
        metadata: {name: db}
        spec:
          selector: {app: db}
          ports:
          - {port: 5432}
          - {port: 80, targetPort: http, protocol: TCP, name: web}
          - {port: 53, targetPort: 5353, protocol: UDP, nodePort: null}
          - {port: 81, targetPort: 0}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: external}
        spec: {type: ExternalName, externalName: example.com, selector: {}}
        """)
    bundle = load_text(text)
    assert bundle.issues == ()
    db, external = bundle.services
    assert db.selector == {"app": "db"} and db.type == "ClusterIP"
    assert db.ports == (ServicePort(5432, 5432), ServicePort(80, "http", "TCP", "web"),
                        ServicePort(53, 5353, "UDP"), ServicePort(81, 81))
    assert external.selector is None and external.type == "ExternalName"


def test_every_namespace_carries_its_name_label_and_used_ones_exist_implicitly() -> None:
    docs = [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": "a", "labels": {"team": "x", NAMESPACE_NAME_LABEL: "wrong"}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "b"}, "spec": {}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "p"}, "spec": {}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "unused"}},
    ]
    bundle = load_documents(docs, default_namespace="home")
    assert list(bundle.namespaces) == ["a", "b", "home"]
    assert bundle.namespaces["a"].labels == {"team": "x", NAMESPACE_NAME_LABEL: "a"}
    assert not bundle.namespaces["a"].implicit
    assert bundle.namespaces["b"].implicit and bundle.namespaces["b"].labels == {NAMESPACE_NAME_LABEL: "b"}
    assert bundle.policies[0].namespace == "home"


def test_later_namespace_definition_wins_with_an_info_issue() -> None:
    docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "labels": {"v": "1"}}},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "labels": {"v": "2"}}}]
    bundle = load_documents(docs, name="ns.yaml")
    assert bundle.namespaces["a"].labels["v"] == "2"
    (issue,) = bundle.issues
    assert issue.severity == "info" and "defined again" in issue.message and issue.source is not None
    assert issue.source.document == 1


def test_duplicate_workload_keeps_the_first_with_a_warning_but_services_may_share_its_name() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": {"containers": [{"name": "c"}]}}
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
              "spec": {"template": {"spec": {"containers": [{"name": "c"}]}}}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {}}
    bundle = load_documents([pod, deploy, service])
    assert [w.kind for w in bundle.workloads] == ["Pod"] and len(bundle.services) == 1
    (issue,) = bundle.issues
    assert issue.severity == "warning" and issue.object == "Deployment default/web"


def test_other_kinds_are_counted_and_kept_by_name_only() -> None:
    docs = [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"password": "aHVudGVyMg=="}},
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t", "namespace": "n"},
             "stringData": {"k": "v"}},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}},
            {"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
             "metadata": {"name": "c", "namespace": "n"}}]
    bundle = load_documents(docs)
    assert bundle.skipped_kinds == {"ClusterRole": 1, "NetworkPolicy (projectcalico.org/v3)": 1, "Secret": 2}
    assert [(o.kind, o.namespace, o.name) for o in bundle.other_objects] == [
        ("Secret", "default", "s"), ("Secret", "n", "t"), ("ClusterRole", None, "r"),
        ("NetworkPolicy (projectcalico.org/v3)", "n", "c")]
    assert "aHVudGVyMg" not in repr(bundle) and "stringData" not in repr(bundle)
    assert [i.severity for i in bundle.issues] == ["warning"]  # the Calico policy is not evaluated
