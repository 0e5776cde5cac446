"""Dependency inference from env values: parsing, resolution through Services, and recall on the corpus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import verifier
from tests.shared import corpus_apps, require_shared
from verifier.deps.inference import Address, expand_env, infer_dependencies, parse_addresses, service_ref
from verifier.model.bundle import EnvVar
from verifier.model.records import Dependency

SERVICES = """
apiVersion: v1
kind: Namespace
metadata: {name: payments}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: redis, namespace: default}
spec:
  selector: {matchLabels: {app: redis}}
  template:
    metadata: {labels: {app: redis}}
    spec:
      containers:
      - {name: redis, image: redis, ports: [{name: redis, containerPort: 6379}]}
---
apiVersion: v1
kind: Service
metadata: {name: redis, namespace: default}
spec:
  selector: {app: redis}
  ports: [{port: 6379, targetPort: redis}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: web, ports: [{name: http, containerPort: 8080}, {name: admin, containerPort: 9000}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: admin, port: 9090, targetPort: admin}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: postgres, namespace: payments}
spec:
  serviceName: postgres
  selector: {matchLabels: {app: postgres}}
  template:
    metadata: {labels: {app: postgres}}
    spec:
      containers:
      - {name: pg, image: postgres, ports: [{name: pg, containerPort: 5433}]}
---
apiVersion: v1
kind: Service
metadata: {name: postgres, namespace: payments}
spec:
  selector: {app: postgres}
  ports: [{port: 5432, targetPort: pg}]
"""


def client(env: dict[str, str]) -> str:
    items = "".join(f"\n        - {{name: {k}, value: {v!r}}}" for k, v in env.items())
    return f"""
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: client, namespace: default}}
spec:
  selector: {{matchLabels: {{app: client}}}}
  template:
    metadata: {{labels: {{app: client}}}}
    spec:
      containers:
      - name: main
        image: client
        env:{items}
"""


def infer(env: dict[str, str]) -> tuple[list[Dependency], list[verifier.Issue]]:
    bundle = verifier.load_text(SERVICES + client(env), name="app.yaml")
    return infer_dependencies(bundle)


def flows(deps: list[Dependency]) -> set[tuple[str, str, int, str | None, int | None]]:
    return {(d.src, d.target, d.port, d.service, d.service_port) for d in deps}


# --- parsing env values -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PRODUCT_CATALOG_SERVICE_ADDR", "productcatalogservice:3550", [Address("productcatalogservice", 3550)]),
        ("DATABASE_URL", "postgres://u:s3cret@postgres.payments:5432/db",
         [Address("postgres.payments", 5432, "postgres")]),
        ("API", "http://api.shop.svc.cluster.local/v1", [Address("api.shop.svc.cluster.local", None, "http")]),
        ("REDIS_HOST", "redis", [Address("redis")]),
        ("MONGO", "mongodb://a:27017,b:27018/db", [Address("a", 27017, "mongodb"), Address("b", 27018, "mongodb")]),
        ("BROKERS", "kafka-0.kafka:9092,kafka-1.kafka:9092",
         [Address("kafka-0.kafka", 9092), Address("kafka-1.kafka", 9092)]),
        ("UPSTREAM", "[2001:db8::1]:8443", [Address("2001:db8::1", 8443)]),
        ("ZIPKIN", "zipkin.jaeger.svc.cluster.local", [Address("zipkin.jaeger.svc.cluster.local")]),
    ],
)
def test_env_value_that_names_a_host_is_parsed(name: str, value: str, expected: list[Address]) -> None:
    assert parse_addresses(name, value) == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SESSION_REDIS", "true"),  # a flag, not a host
        ("WORDPRESS_USERNAME", "user"),  # a bare word in a variable that holds no host
        ("LOG_DIR", "/tmp/logs"),
        ("PORT", "8080"),
        ("JAVA_OPTS", "-Xms64m -Djava.security.egd=file:/dev/urandom"),
        ("DB_HOST", "localhost"),
        ("CACHE_ADDR", "localhost:6379"),
        ("SCHEDULE", "10:30"),  # a time, not host:port
        ("HOSTS", "api:80,not a host"),
    ],
)
def test_env_value_that_names_no_host_is_ignored(name: str, value: str) -> None:
    assert parse_addresses(name, value) == []


def test_variable_references_expand_from_earlier_variables_of_the_same_container() -> None:
    env = (
        EnvVar("main", "DB_HOST", "postgres.payments"),
        EnvVar("main", "DB_URL", "postgres://$(DB_HOST):5432/x?a=$$(LITERAL)"),
        EnvVar("side", "OTHER", "$(DB_HOST)"),
        EnvVar("main", "SECRET", None),
    )
    values = {var.name: value for var, value in expand_env(env)}
    assert values == {"DB_HOST": "postgres.payments", "DB_URL": "postgres://postgres.payments:5432/x?a=$(LITERAL)",
                      "OTHER": "$(DB_HOST)"}


def test_cluster_dns_names_resolve_to_namespace_and_service() -> None:
    bundle = verifier.load_text(SERVICES, name="app.yaml")
    assert service_ref(bundle, "redis", "default") == ("default", "redis")
    assert service_ref(bundle, "postgres.payments", "default") == ("payments", "postgres")
    assert service_ref(bundle, "postgres.payments.svc", "default") == ("payments", "postgres")
    assert service_ref(bundle, "postgres.payments.svc.cluster.local", "default") == ("payments", "postgres")
    assert service_ref(bundle, "postgres-0.postgres.payments.svc.cluster.local", "default") == ("payments", "postgres")
    assert service_ref(bundle, "api.example.com", "default") is None
    assert service_ref(bundle, "example.com", "default") is None  # `com` is no namespace of the bundle


# --- resolution through Services -------------------------------------------------------


def test_host_and_port_resolve_to_the_target_container_port() -> None:
    deps, issues = infer({"DATABASE_URL": "postgres://app:hunter2@postgres.payments:5432/app"})
    assert flows(deps) == {("default/client", "payments/postgres", 5433, "payments/postgres", 5432)}
    assert deps[0].source == "inferred"
    assert deps[0].evidence == "inferred from env DATABASE_URL in deployment/client"
    assert issues == []


def test_evidence_and_issues_never_carry_the_env_value() -> None:
    deps, issues = infer({"DATABASE_URL": "postgres://app:hunter2@postgres.payments:5432/app",
                          "BROKEN_URL": "postgres://app:hunter2@nowhere:5432/app"})
    text = " ".join([d.evidence for d in deps] + [str(i) for i in issues])
    assert "nowhere" in text  # the unresolved host is named ...
    assert "hunter2" not in text and "app:" not in text  # ... but never the credentials


def test_bare_host_takes_its_port_from_the_companion_port_variable() -> None:
    deps, _ = infer({"REDIS_HOST": "redis", "REDIS_PORT": "6379", "WEB_HOST": "web", "WEB_PORT_NUMBER": "9090"})
    assert flows(deps) == {
        ("default/client", "default/redis", 6379, "default/redis", 6379),
        ("default/client", "default/web", 9000, "default/web", 9090),
    }
    assert {d.evidence for d in deps} == {
        "inferred from env REDIS_HOST in deployment/client (port from REDIS_PORT)",
        "inferred from env WEB_HOST in deployment/client (port from WEB_PORT_NUMBER)",
    }


def test_bare_host_of_a_single_port_service_takes_that_port() -> None:
    deps, issues = infer({"REDIS_HOST": "redis"})
    assert flows(deps) == {("default/client", "default/redis", 6379, "default/redis", 6379)}
    assert issues == []


def test_bare_host_of_a_multi_port_service_is_ambiguous() -> None:
    deps, issues = infer({"WEB_HOST": "web"})
    assert deps == []
    assert len(issues) == 1 and "without a port" in issues[0].message and "80->http/TCP" in issues[0].message


def test_http_url_without_port_dials_the_port_named_http() -> None:
    deps, _ = infer({"WEB_URL": "http://web/healthz"})
    assert flows(deps) == {("default/client", "default/web", 8080, "default/web", 80)}


def test_port_the_service_does_not_expose_is_reported() -> None:
    deps, issues = infer({"CACHE_ADDR": "redis:6380"})
    assert deps == []
    assert [i.severity for i in issues] == ["warning"]
    assert "dials port 6380, but Service default/redis exposes 6379->redis/TCP" in issues[0].message


def test_unknown_service_is_a_warning_with_the_closest_names() -> None:
    deps, issues = infer({"CACHE_ADDR": "rediss:6379"})
    assert deps == []
    assert len(issues) == 1
    issue = issues[0]
    assert issue.severity == "warning" and issue.object == "Deployment default/client"
    assert "no Service default/rediss" in issue.message and "closest: redis" in issue.message
    assert issue.source is not None and issue.source.file == "app.yaml" and issue.source.line > 0


def test_names_outside_the_cluster_infer_nothing_and_warn_nothing() -> None:
    assert infer({"STRIPE_URL": "https://api.stripe.com/v1", "SMTP_HOST": "smtp.example.com"}) == ([], [])


def test_public_address_becomes_a_cidr_dependency_and_private_one_an_info() -> None:
    deps, issues = infer({"FRAUD_ADDR": "203.0.113.7:443", "LEGACY_ADDR": "10.1.2.3:1521"})
    assert [(d.target, d.port) for d in deps] == [("203.0.113.7/32", 443)]
    assert [i.severity for i in issues] == ["info"]


def test_named_target_port_missing_on_a_selected_workload_is_reported() -> None:
    text = SERVICES + client({"REDIS_ADDR": "redis:6379"}) + """
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: redis-exporter, namespace: default}
spec:
  selector: {matchLabels: {app: redis}}
  template:
    metadata: {labels: {app: redis, role: exporter}}
    spec:
      containers:
      - {name: exporter, image: exporter, ports: [{name: metrics, containerPort: 9121}]}
"""
    deps, issues = infer_dependencies(verifier.load_text(text, name="app.yaml"))
    assert [d.dst for d in deps] == ["default/redis"]
    assert len(issues) == 1 and "default/redis-exporter does not serve" in issues[0].message


# --- the corpus: recall and precision against each app's deps.yaml ----------------------

#: Per app: (documented entries, found; inferable entries, of them found; inferred units, false ones).
#: "Inferable": the entry's evidence cites an env var whose value names the destination Service.
#: Sock Shop's and Bookinfo's dependencies are hard-coded in the services' source (their READMEs say so);
#: Sock Shop's front-end -> session-db cites SESSION_REDIS=true, which names no host.
EXPECTED = {
    "online-boutique": (16, 16, 16, 16, 16, 0),
    "sock-shop": (15, 1, 1, 1, 1, 0),
    "bookinfo": (4, 0, 0, 0, 0, 0),
    "bitnami-wordpress-default": (1, 1, 1, 1, 1, 0),
    "bitnami-wordpress-hardened": (1, 1, 1, 1, 1, 0),
    "bitnami-wordpress-hardened-client-label": (1, 1, 1, 1, 1, 0),
}
_ENV_EVIDENCE = re.compile(r"^env (\w+)=(\S+)")


def _inferable(entry: dict) -> bool:
    m = _ENV_EVIDENCE.match(str(entry.get("evidence", "")))
    return bool(m) and entry["to"] in m.group(2)


def _score(app: dict) -> tuple[int, int, int, int, int, int]:
    """A deps.yaml entry is found when an inferred dependency has the same client, dials the
    same Service on the same port, and every one of them lands on the entry's target port."""
    bundle = verifier.load_bundle(app["manifest_paths"], default_namespace=app["default_namespace"])
    deps, _ = infer_dependencies(bundle)
    entries = yaml.safe_load(Path(app["deps_path"]).read_text())
    units: dict[tuple[str, str | None, int | None], set[int]] = {}
    for d in deps:
        units.setdefault((d.src, d.service or d.target, d.service_port), set()).add(d.port)
    def key(e: dict) -> tuple[str, str, int]:
        return f"{e['namespace']}/{e['from']}", f"{e['namespace']}/{e['to']}", e["port"]
    found = [e for e in entries if units.get(key(e)) == {e["target_port"]}]
    inferable = [e for e in entries if _inferable(e)]
    false = [u for u in units if u not in {key(e) for e in entries}]
    return (len(entries), len(found), len(inferable), sum(_inferable(e) for e in found), len(units), len(false))


@pytest.mark.parametrize("app", corpus_apps(), ids=lambda a: a["name"])
def test_inference_recall_and_precision_on_the_corpus(app: dict) -> None:
    require_shared()
    total, found, inferable, found_inferable, inferred, false = _score(app)
    print(f"\n{app['name']}: recall {found}/{total} over all entries, {found_inferable}/{inferable} over "
          f"inferable ones; precision {inferred - false}/{inferred}")
    assert (total, found, inferable, found_inferable, inferred, false) == EXPECTED[app["name"]]


def test_every_corpus_app_is_scored() -> None:
    require_shared()
    assert sorted(a["name"] for a in corpus_apps()) == sorted(EXPECTED)


def test_unresolvable_corpus_names_are_reported_not_invented() -> None:
    require_shared()
    apps = {a["name"]: a for a in corpus_apps()}
    reports = {}
    for name in ("online-boutique", "sock-shop"):
        app = apps[name]
        bundle = verifier.load_bundle(app["manifest_paths"], default_namespace=app["default_namespace"])
        reports[name] = [i.message for i in infer_dependencies(bundle)[1]]
    assert len(reports["online-boutique"]) == 1
    assert "SHOPPING_ASSISTANT_SERVICE_ADDR" in reports["online-boutique"][0]
    assert "no Service default/shoppingassistantservice" in reports["online-boutique"][0]
    assert len(reports["sock-shop"]) == 1
    assert "ZIPKIN" in reports["sock-shop"][0]
    assert "namespace jaeger, which is not in the bundle" in reports["sock-shop"][0]
