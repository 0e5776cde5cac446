"""Declared dependencies: the deps.yaml format resolved against a bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

import verifier
from verifier.deps.declared import declared_dependencies, parse_declared
from verifier.model.bundle import Issue
from verifier.model.records import Dependency

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "shop"

#: Two namespaces; `db` is served on a named port that differs per workload behind one Service.
MANIFESTS = """
apiVersion: v1
kind: Namespace
metadata: {name: app}
---
apiVersion: v1
kind: Namespace
metadata: {name: data}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: web, ports: [{name: http, containerPort: 8080}]}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db-primary, namespace: data}
spec:
  serviceName: db
  selector: {matchLabels: {app: db, role: primary}}
  template:
    metadata: {labels: {app: db, role: primary}}
    spec:
      containers: [{name: db, image: db, ports: [{name: sql, containerPort: 5432}]}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db-replica, namespace: data}
spec:
  serviceName: db
  selector: {matchLabels: {app: db, role: replica}}
  template:
    metadata: {labels: {app: db, role: replica}}
    spec:
      containers: [{name: db, image: db, ports: [{name: sql, containerPort: 6432}]}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: data}
spec:
  selector: {app: db}
  ports: [{name: sql, port: 5432, targetPort: sql}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: app}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
"""


@pytest.fixture(scope="module")
def bundle() -> verifier.Bundle:
    return verifier.load_text(MANIFESTS, name="manifests.yaml")


def resolve(bundle: verifier.Bundle, text: str) -> tuple[list[Dependency], list[Issue]]:
    return declared_dependencies(bundle, text, "deps.yaml")


def test_service_resolves_named_target_port_on_each_selected_workload(bundle: verifier.Bundle) -> None:
    deps, issues = resolve(bundle, "- {from: app/web, to: data/db, port: 5432}\n")
    assert issues == []
    assert sorted((d.dst, d.port, d.service, d.service_port) for d in deps) == [
        ("data/db-primary", 5432, "data/db", 5432),
        ("data/db-replica", 6432, "data/db", 5432),
    ]
    assert {d.source for d in deps} == {"declared"}
    assert deps[0].evidence == "declared in deps.yaml [0], line 1"
    assert deps[0].origin is not None and (deps[0].origin.line, deps[0].origin.document) == (1, 0)


def test_namespace_key_applies_to_bare_names_and_extra_keys_are_ignored(bundle: verifier.Bundle) -> None:
    text = "- {from: web, to: db-primary, namespace: data, port: 5432}\n"  # web is not in data
    deps, issues = resolve(bundle, text)
    assert deps == [] and len(issues) == 1
    text = ("- {from: web, to: data/db-primary, namespace: app, port: 5432, protocol: tcp, evidence: x, expected: "
            "allowed}\n")
    deps, issues = resolve(bundle, text)
    assert issues == []
    assert [(d.src, d.dst, d.port, d.protocol, d.service)
            for d in deps] == [("app/web", "data/db-primary", 5432, "TCP", None)]


def test_bare_names_without_namespace_are_found_when_unique(bundle: verifier.Bundle) -> None:
    deps, issues = resolve(bundle, "- {from: web, to: data/db, port: sql}\n")
    assert issues == [] and {d.src for d in deps} == {"app/web"}
    assert {d.service_port for d in deps} == {5432}  # the Service port named sql


def test_unknown_name_is_an_error_naming_the_entry_and_the_closest_names(bundle: verifier.Bundle) -> None:
    text = "# deps\n- {from: app/web, to: data/db, port: 5432}\n- from: app/web\n  to: data/dbb\n  port: 5432\n"
    deps, issues = resolve(bundle, text)
    assert len(deps) == 2  # the good entry still resolves
    assert len(issues) == 1
    issue = issues[0]
    assert issue.severity == "error"
    assert (issue.source.file, issue.source.line) == ("deps.yaml", 3)  # type: ignore[union-attr]
    assert issue.field_path == "[1].to"
    assert "app/web -> data/dbb:5432" in issue.message
    assert "no Service or workload named 'dbb' in namespace data" in issue.message
    assert "closest: db" in issue.message
    assert str(issue).startswith("deps.yaml:3: [1].to: ")


def test_unknown_client_names_the_closest_workloads(bundle: verifier.Bundle) -> None:
    _, issues = resolve(bundle, "- {from: wbe, to: data/db, port: 5432}\n")
    assert [i.field_path for i in issues] == ["[0].from"]
    assert "no workload named 'wbe'" in issues[0].message and "closest: web" in issues[0].message


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        ("- {to: data/db, port: 5432}", "from", "needs `from`"),
        ("- {from: app/web, port: 5432}", "to", "needs `to`"),
        ("- {from: app/web, to: data/db}", "port", "must be a number"),
        ("- {from: app/web, to: data/db, port: 70000}", "port", "must be a number"),
        ("- {from: app/web, to: data/db, port: 5432, protocol: ICMP}", "protocol", "not one of TCP, UDP, SCTP"),
        ("- {from: app/web, to: data/db, port: 5433}", "port",
         "Service data/db has no port 5433/TCP (it exposes 5432->sql/TCP)"),
        ("- {from: app/web, to: 203.0.113.0/24, port: https}", "port", "only a Service's port can be given by name"),
        ("- just a string", "", "expected a mapping"),
    ],
)
def test_malformed_entries_are_errors_not_crashes(bundle: verifier.Bundle, entry: str, field: str, words: str) -> None:
    deps, issues = resolve(bundle, entry + "\n")
    assert deps == []
    assert [i.severity for i in issues] == ["error"]
    assert issues[0].field_path == "[0]" + (f".{field}" if field else "")
    assert words in issues[0].message


def test_container_port_given_for_a_service_is_accepted_with_a_note(bundle: verifier.Bundle) -> None:
    deps, issues = resolve(bundle, "- {from: app/web, to: data/db, port: 6432}\n")
    assert [(d.dst, d.port, d.service_port) for d in deps] == [("data/db-replica", 6432, 5432)]
    assert [i.severity for i in issues] == ["info"] and "container port behind its port 5432" in issues[0].message


def test_name_of_both_a_service_and_a_workload_falls_back_to_the_workload_port(bundle: verifier.Bundle) -> None:
    deps, issues = resolve(bundle, "- {from: data/db-primary, to: app/web, port: 8080}\n")
    assert issues == []
    assert [(d.dst, d.port, d.service) for d in deps] == [("app/web", 8080, None)]


def test_target_port_that_disagrees_with_the_service_is_a_warning(bundle: verifier.Bundle) -> None:
    deps, issues = resolve(bundle, "- {from: data/db-primary, to: app/web, port: 80, target_port: 9090}\n")
    assert [d.port for d in deps] == [8080]
    assert [i.severity for i in issues] == ["warning"] and "target_port 9090 disagrees" in issues[0].message


def test_cidr_and_address_destinations(bundle: verifier.Bundle) -> None:
    text = ("- {from: app/web, to: 203.0.113.7, port: 443}\n- {from: app/web, to: 2001:db8::/32, port: 53, protocol: "
            "UDP}\n")
    deps, issues = resolve(bundle, text)
    assert issues == []
    assert [(d.cidr, d.dst, d.port, d.protocol) for d in deps] == [
        ("203.0.113.7/32", None, 443, "TCP"), ("2001:db8::/32", None, 53, "UDP")]


def test_ambiguous_bare_name_asks_for_a_namespace() -> None:
    text = MANIFESTS.replace("name: web, namespace: app", "name: db-primary, namespace: app").replace(
        "{name: web, namespace: app}", "{name: web2, namespace: app}")
    two = verifier.load_text(text, name="m.yaml")
    _, issues = resolve(two, "- {from: db-primary, to: data/db, port: 5432}\n")
    assert len(issues) == 1 and "several namespaces (app, data)" in issues[0].message


def test_parsed_entries_work_without_line_numbers(bundle: verifier.Bundle) -> None:
    deps, issues = declared_dependencies(bundle, [{"from": "app/web", "to": "data/nope", "port": 5432}], "d.yaml")
    assert deps == [] and str(issues[0]).startswith("d.yaml: [0].to: ")
    assert issues[0].source is not None and issues[0].source.document == 0


@pytest.mark.parametrize(("text", "line", "words"), [
    ("- {from: a\n- b: [", 2, "not valid YAML"),
    ("from: a\nto: b\n", 1, "expected a list"),
])
def test_unreadable_file_is_one_error(text: str, line: int, words: str) -> None:
    entries, issues = parse_declared(text, "deps.yaml")
    assert entries == [] and len(issues) == 1
    assert issues[0].source is not None and issues[0].source.line == line and words in issues[0].message


def test_empty_file_declares_nothing() -> None:
    assert parse_declared("# nothing yet\n", "deps.yaml") == ([], [])


def test_example_shop_declarations_resolve_across_namespaces() -> None:
    bundle = verifier.load_bundle([SHOP])
    deps, issues = declared_dependencies(bundle, (SHOP / "netreason.deps.yaml").read_text(), "netreason.deps.yaml")
    assert issues == []
    assert [(d.src, d.dst, d.port, d.service) for d in deps] == [
        ("shop/web", "shop/api", 8080, "shop/api"),
        ("shop/worker", "shop/api", 8080, "shop/api"),
        ("shop/api", "payments/payments-api", 8443, "payments/payments-api"),
        ("payments/payments-api", "payments/postgres", 5432, "payments/postgres"),
    ]
    assert [d.origin.line for d in deps if d.origin] == [2, 3, 4, 5]
