"""The HTTP API over real HTTP: uvicorn on 127.0.0.1, the fake model server for the model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

import verifier
from service.cli import cli
from service.minimize import minimized_text
from service.settings import Settings
from service.store import Store
from service.storage.migrations import MIGRATIONS
from tests.fakes.api_server import ApiServer, running_api, sqlite_url
from tests.fakes.provider_server import FakeProviderServer, answer, slow
from tests.service.prom import sample
from tests.service.pg_server import postgres_admin_url, postgres_url  # noqa: F401
from tests.net import free_port

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "shop"
MODEL = "openai:gpt-4.1-mini"

#: One right and one wrong flow claim, and a right dependency_broken claim, about examples/shop.
SHOP_ANSWER = {
    "summary": "web reaches api; api cannot reach payments-api because shop lacks the team label.",
    "claims": [
        {"type": "flow", "from": "shop/web", "to": "shop/api", "port": 8080, "protocol": "TCP", "allowed": True,
         "reason": "shop/web-to-api admits app=web"},
        {"type": "flow", "from": "shop/api", "to": "payments/payments-api", "port": 8443, "protocol": "TCP",
         "allowed": True, "reason": "wrong on purpose"},
        {"type": "dependency_broken", "from": "shop/api", "to": "payments/payments-api", "port": 8443,
         "protocol": "TCP", "reason": "namespace shop has no team=shop label"},
    ],
}


def shop_files(prefix: str = "examples/shop") -> list[dict[str, str]]:
    """The shop manifests as request `files`, in the order `load_bundle` reads a directory."""
    paths = sorted(p for p in SHOP.rglob("*.yaml") if p.name != "netreason.deps.yaml")
    return [{"path": f"{prefix}/{p.relative_to(SHOP).as_posix()}", "content": p.read_text()} for p in paths]


def shop_text() -> str:
    return "\n---\n".join(f["content"] for f in shop_files())


def shop_workload_count() -> int:
    """How many workloads the shop manifests hold, by the loader itself (the example may grow)."""
    return len(verifier.load_text(shop_text()).workloads)


def shop_deps() -> str:
    return (SHOP / "netreason.deps.yaml").read_text()


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    """No auth, no default model; requests may name MODEL (the allow-list is what lets them)."""
    return Settings(database_url=sqlite_url(tmp_path), api_tokens=(), model=None, allowed_models=(MODEL,))


@pytest.fixture
def client(api_server: ApiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server.base_url, timeout=30) as c:
        yield c


def _without_timings(doc: dict) -> dict:
    doc = json.loads(json.dumps(doc))
    doc["ground_truth"].pop("seconds", None)
    if doc.get("model"):
        doc["model"]["usage"].pop("latency_ms", None)
        for sl in doc["model"].get("slices") or ():
            sl.pop("latency_ms", None)
    return doc


# --- operations ------------------------------------------------------------------------------------------


def test_health_ready_and_openapi_are_served(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "sqlite"
    spec = client.get("/openapi.json").json()
    assert {"/v1/analyze", "/v1/review", "/v1/clusters/{name}", "/v1/analyses/{analysis_id}"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 200


def test_schema_is_created_on_first_start(api_server: ApiServer) -> None:
    store = Store.open(api_server.settings.database_url)
    try:
        assert store.applied_migrations() == [name for name, _step in MIGRATIONS]
        assert store.applied_migrations()[0] == "m001_initial"
        assert store.migrate() == []
    finally:
        store.close()


def test_readyz_is_503_when_the_database_goes_away(api_server: ApiServer, client: httpx.Client) -> None:
    api_server.app.state.service.store.engine.dispose()
    db_file = Path(api_server.settings.database_url.removeprefix("sqlite:///"))
    shutil.rmtree(db_file.parent)  # the directory is gone: SQLite cannot open the file again
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "urn:netreason:problem:not-ready"


# --- analyze --------------------------------------------------------------------------------------------


def test_analyze_without_a_model_returns_the_ground_truth(client: httpx.Client) -> None:
    response = client.post("/v1/analyze", json={"manifests": shop_text(), "deps": shop_deps()})
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["schema"] == "netreason.analysis/v1" and doc["model"] is None
    broken = {(d["from"], d["to"], d["port"]) for d in doc["ground_truth"]["dependencies_broken"]}
    assert ("shop/api", "payments/payments-api", 8443) in broken
    assert {"payments/payments-api", "payments/postgres"} <= set(doc["ground_truth"]["dns_egress_missing"])
    # Deps given as text: their problems and evidence carry line numbers of that text.
    evidence = {d["from"]: d["evidence"] for d in doc["ground_truth"]["dependencies"] if d["source"] == "declared"}
    assert "line 2" in evidence["shop/web"]


def test_analyze_answers_with_the_same_json_as_the_cli(
        fake_provider_env: FakeProviderServer, client: httpx.Client, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    fake_provider_env.enqueue(answer(SHOP_ANSWER), answer(SHOP_ANSWER))
    files = shop_files(prefix="cluster")
    for f in files:
        (tmp_path / f["path"]).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f["path"]).write_text(f["content"])
    monkeypatch.chdir(tmp_path)
    cli_run = CliRunner().invoke(cli, ["analyze", "cluster", "--model", MODEL, "--format", "json"])
    assert cli_run.exit_code == 0, cli_run.output
    api = client.post("/v1/analyze", json={"files": files, "model": MODEL})
    assert api.status_code == 200, api.text
    assert _without_timings(api.json()) == _without_timings(json.loads(cli_run.stdout))


def test_analyze_checks_each_model_claim(fake_provider_env: FakeProviderServer, client: httpx.Client) -> None:
    fake_provider_env.enqueue(answer(SHOP_ANSWER, input_tokens=1000, output_tokens=200))
    doc = client.post("/v1/analyze", json={"manifests": shop_text(), "deps": shop_deps(), "model": MODEL,
                                           "prompt": "breakage"}).json()
    verdicts = [(c["claim"]["type"], c["claim"]["from"], c["verdict"]) for c in doc["model"]["claims"]]
    assert verdicts == [("flow", "shop/web", "confirmed"), ("flow", "shop/api", "contradicted"),
                        ("dependency_broken", "shop/api", "confirmed")]
    assert doc["prompt"] == "breakage@1" and doc["model"]["name"] == MODEL
    sent = fake_provider_env.requests[0]
    assert sent.model == "gpt-4.1-mini" and "payments-api" in json.dumps(sent.body["messages"])
    metrics = client.get("/metrics").text
    assert sample(metrics, "netreason_model_calls_total", model=MODEL, outcome="ok") == 1
    assert sample(metrics, "netreason_model_tokens_total", direction="input", model=MODEL) == 1000
    assert sample(metrics, "netreason_claim_verdicts_total", verdict="confirmed") == 2
    assert sample(metrics, "netreason_claim_verdicts_total", verdict="contradicted") == 1


def test_a_slow_model_times_out_and_the_ground_truth_still_comes_back(
        fake_provider_env: FakeProviderServer, client: httpx.Client) -> None:
    fake_provider_env.enqueue(slow(10, SHOP_ANSWER))
    start = time.monotonic()
    response = client.post("/v1/analyze", json={"manifests": shop_text(), "model": MODEL, "timeout_s": 0.5})
    elapsed = time.monotonic() - start
    assert response.status_code == 200
    doc = response.json()
    assert doc["model"]["error_kind"] == "ProviderTimeout" and doc["model"]["claims"] == []
    assert doc["ground_truth"]["summary"]["workloads"] == shop_workload_count() > 0
    assert elapsed < 5, f"the request took {elapsed:.1f}s despite timeout_s=0.5"


@pytest.mark.parametrize(("fmt", "media_type", "needle"), [
    ("markdown", "text/markdown", "## netreason analysis"),
    ("html", "text/html", "<h2>The verifier&#x27;s answer</h2>"),
    ("sarif", "application/sarif+json", '"version": "2.1.0"'),
])
def test_analyze_renders_the_format_asked_for(client: httpx.Client, fmt: str, media_type: str, needle: str) -> None:
    response = client.post("/v1/analyze", json={"files": shop_files(), "deps": shop_deps(), "format": fmt})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    body = response.text if fmt != "sarif" else json.dumps(response.json())
    assert needle in body


def test_sarif_results_point_at_the_request_files(client: httpx.Client) -> None:
    log = client.post("/v1/analyze", json={"files": shop_files(), "deps": shop_deps(), "format": "sarif"}).json()
    results = log["runs"][0]["results"]
    assert results, "examples/shop has findings (payments lacks DNS egress)"
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for r in results for loc in r.get("locations", [])}
    # Findings about objects point at their files; those about declared deps at the `deps` field.
    assert "examples/shop/payments.yaml" in uris
    assert uris <= {f["path"] for f in shop_files()} | {"deps"}, uris
    assert "originalUriBaseIds" not in log["runs"][0]


def test_a_stored_analysis_is_served_by_its_link(client: httpx.Client) -> None:
    posted = client.post("/v1/analyze", json={"manifests": shop_text(), "deps": shop_deps()})
    link = posted.headers["location"]
    assert link == f"/v1/analyses/{posted.headers['x-netreason-analysis-id']}?format=json"
    assert _without_timings(client.get(link).json()) == _without_timings(posted.json())
    html = client.get(link.replace("format=json", "format=html"))
    assert html.headers["content-type"].startswith("text/html") and "payments/payments-api" in html.text
    missing = client.get("/v1/analyses/0123456789abcdef")
    assert missing.status_code == 404 and missing.json()["type"] == "urn:netreason:problem:not-found"


def test_analyze_accepts_a_json_list_of_documents(client: httpx.Client) -> None:
    docs = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "labels": {"app": "a"}},
             "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
            {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": "deny"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}]
    doc = client.post("/v1/analyze", json={"manifests": docs}).json()
    assert doc["ground_truth"]["summary"]["workloads"] == 1
    assert doc["ground_truth"]["summary"]["ingress_isolated_workloads"] == 1


# --- errors -----------------------------------------------------------------------------------------------

BAD_POLICY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: bad
spec:
  podSelector: {}
  ingress:
  - ports:
    - port: 70000
"""


def test_strict_validation_errors_are_422_problems_with_file_line_and_field(client: httpx.Client) -> None:
    files = [{"path": "k8s/ok.yaml", "content": "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n"},
             {"path": "k8s/bad.yaml", "content": BAD_POLICY}]
    response = client.post("/v1/analyze", json={"files": files, "strict": True})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "urn:netreason:problem:validation-failed" and problem["status"] == 422
    [error] = problem["errors"]
    assert error["file"] == "k8s/bad.yaml" and error["line"] == 9
    assert error["field"] == "spec.ingress[0].ports[0].port"


def test_without_strict_bad_objects_are_reported_in_the_result(client: httpx.Client) -> None:
    response = client.post("/v1/analyze", json={"manifests": BAD_POLICY})
    assert response.status_code == 200
    [issue] = response.json()["ground_truth"]["issues"]
    assert issue["file"] == "manifests" and issue["line"] == 9 and issue["severity"] == "error"


def test_yaml_syntax_errors_name_the_line(client: httpx.Client) -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n"
    problem = client.post("/v1/analyze", json={"manifests": text, "strict": True}).json()
    assert problem["type"] == "urn:netreason:problem:manifest-syntax"
    assert problem["errors"][0]["file"] == "manifests" and problem["errors"][0]["line"] >= 4


def test_a_request_body_off_the_schema_is_a_422_problem(client: httpx.Client) -> None:
    response = client.post("/v1/analyze", json={"manifests": "x: 1", "cluster": "prod"})
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:netreason:problem:invalid-request"
    assert "exactly one of manifests, files or cluster" in problem["detail"]


def test_an_unknown_prompt_is_a_422_problem(client: httpx.Client) -> None:
    problem = client.post("/v1/analyze", json={"manifests": "x: 1", "prompt": "poetry"}).json()
    assert problem["status"] == 422 and problem["type"] == "urn:netreason:problem:bad-prompt"


def test_a_model_missing_from_the_allow_list_is_refused(tmp_path: Path) -> None:
    settings = Settings(database_url=sqlite_url(tmp_path), allowed_models=(MODEL,))
    with running_api(settings) as server:
        response = httpx.post(f"{server.base_url}/v1/analyze",
                              json={"manifests": "x: 1", "model": "openai-compatible:http://10.0.0.1/v1#m"})
    assert response.status_code == 403
    assert response.json()["type"] == "urn:netreason:problem:model-not-allowed"


def test_an_unusable_model_is_reported_beside_the_ground_truth(client: httpx.Client,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    doc = client.post("/v1/analyze", json={"manifests": shop_text(), "model": MODEL}).json()
    assert doc["model"]["error_kind"] and "OPENAI_API_KEY" in doc["model"]["error"]
    assert doc["ground_truth"]["summary"]["workloads"] == shop_workload_count() > 0


# --- limits -----------------------------------------------------------------------------------------------


def test_bodies_over_the_limit_are_refused_with_413(tmp_path: Path) -> None:
    settings = Settings(database_url=sqlite_url(tmp_path), max_body_bytes=2048)
    big = json.dumps({"manifests": "# padding\n" * 500})
    with running_api(settings) as server, httpx.Client(base_url=server.base_url) as c:
        declared = c.post("/v1/analyze", content=big, headers={"content-type": "application/json"})
        chunked = c.post("/v1/analyze", content=iter([big[:1500].encode(), big[1500:].encode()]),
                         headers={"content-type": "application/json"})
        small = c.post("/v1/analyze", json={"manifests": "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"})
        metrics = c.get("/metrics").text
    assert declared.status_code == 413 and declared.json()["type"] == "urn:netreason:problem:body-too-large"
    assert chunked.status_code == 413
    assert small.status_code == 200
    assert sample(metrics, "netreason_http_requests_total", method="POST", route="other", status="413") == 2


# --- auth -------------------------------------------------------------------------------------------------


def test_configured_tokens_guard_every_v1_route_but_not_health(tmp_path: Path) -> None:
    settings = Settings(database_url=sqlite_url(tmp_path), api_tokens="alpha-token,beta-token")
    body = {"manifests": "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"}
    with running_api(settings) as server, httpx.Client(base_url=server.base_url) as c:
        missing = c.post("/v1/analyze", json=body)
        wrong = c.post("/v1/analyze", json=body, headers={"Authorization": "Bearer alpha"})
        right = c.post("/v1/analyze", json=body, headers={"Authorization": "Bearer beta-token"})
        clusters = c.get("/v1/clusters")
        health = c.get("/healthz")
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert missing.json()["type"] == "urn:netreason:problem:unauthorized"
    assert wrong.status_code == 401 and "alpha" not in wrong.text
    assert right.status_code == 200
    assert clusters.status_code == 401
    assert health.status_code == 200


def test_a_token_stored_hashed_in_the_database_turns_auth_on(tmp_path: Path) -> None:
    settings = Settings(database_url=sqlite_url(tmp_path))
    with running_api(settings) as server, httpx.Client(base_url=server.base_url) as c:
        assert c.get("/v1/clusters").status_code == 200
        token = server.app.state.service.store.create_token("ci")
        assert c.get("/v1/clusters").status_code == 401
        assert c.get("/v1/clusters", headers={"Authorization": f"Bearer {token}"}).status_code == 200


# --- clusters ---------------------------------------------------------------------------------------------


def test_each_cluster_upload_is_a_new_revision(client: httpx.Client) -> None:
    first = client.post("/v1/clusters/prod", json={"manifests": shop_text(), "deps": shop_deps()})
    second = client.post("/v1/clusters/prod", json={"manifests": BAD_POLICY})
    assert first.status_code == 201 and first.json()["revision"] == 1
    bundle = verifier.load_text(shop_text(), default_namespace="default")
    assert first.json()["summary"] == {"namespaces": len(bundle.namespaces), "workloads": len(bundle.workloads),
                                       "services": len(bundle.services), "policies": len(bundle.policies)}
    assert second.json()["revision"] == 2 and second.json()["issues"][0]["line"] == 9
    assert second.headers["location"] == "/v1/clusters/prod?revision=2"
    assert client.get("/v1/clusters/prod").json()["manifests"] == BAD_POLICY
    old = client.get("/v1/clusters/prod", params={"revision": 1}).json()
    # Stored as uploaded, less what no analysis reads (Secret and ConfigMap data, env values): lines kept.
    services = frozenset(s.name for s in bundle.services)
    assert old["manifests"] == minimized_text(shop_text(), services) and old["deps"] == shop_deps()
    assert old["manifests"].count("\n") == shop_text().count("\n") and "hunter2" not in old["manifests"]
    assert [r["revision"] for r in client.get("/v1/clusters/prod/revisions").json()] == [1, 2]
    assert client.get("/v1/clusters").json() == [{"name": "prod", "latest_revision": 2}]


def test_unknown_clusters_and_revisions_are_404(client: httpx.Client) -> None:
    client.post("/v1/clusters/prod", json={"manifests": BAD_POLICY})
    assert client.get("/v1/clusters/nope").status_code == 404
    problem = client.get("/v1/clusters/prod", params={"revision": 7}).json()
    assert problem["status"] == 404 and "revision 7" in problem["detail"]
    assert client.post("/v1/analyze", json={"cluster": "nope"}).status_code == 404


def test_a_strict_upload_with_errors_is_refused_and_not_stored(client: httpx.Client) -> None:
    response = client.post("/v1/clusters/prod", json={"manifests": BAD_POLICY, "strict": True})
    assert response.status_code == 422
    assert client.get("/v1/clusters/prod").status_code == 404


def test_an_analysis_can_name_a_stored_snapshot(client: httpx.Client) -> None:
    client.post("/v1/clusters/shop", json={"manifests": shop_text(), "deps": shop_deps()})
    client.post("/v1/clusters/shop", json={"manifests": BAD_POLICY})
    inline = client.post("/v1/analyze", json={"manifests": shop_text(), "deps": shop_deps()}).json()
    stored = client.post("/v1/analyze", json={"cluster": "shop", "revision": 1}).json()
    assert stored["ground_truth"]["dependencies_broken"] == [
        {**d, "evidence": d["evidence"].replace("deps [", "clusters/shop@1/deps ["),
         "explanation": d["explanation"].replace("deps [", "clusters/shop@1/deps ["),
         "file": "clusters/shop@1/deps" if d["file"] == "deps" else d["file"]}
        for d in inline["ground_truth"]["dependencies_broken"]]
    assert stored["ground_truth"]["summary"] == inline["ground_truth"]["summary"]


# --- metrics ----------------------------------------------------------------------------------------------


def test_metrics_count_requests_by_route_template(client: httpx.Client) -> None:
    client.get("/v1/clusters/a")
    client.get("/v1/clusters/b")
    text = client.get("/metrics").text
    assert sample(text, "netreason_http_requests_total", method="GET", route="/v1/clusters/{name}", status="404") == 2
    assert sample(text, "netreason_http_request_duration_seconds_count", route="/v1/clusters/{name}") == 2
    assert "# TYPE netreason_http_request_duration_seconds histogram" in text


# --- review -----------------------------------------------------------------------------------------------

APP = """apiVersion: v1
kind: Namespace
metadata: {name: app}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web, ports: [{containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: app}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: api, ports: [{containerPort: 8080, name: http}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: app}
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: http}]
"""

POLICY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-ingress, namespace: app}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: http}]
"""

APP_DEPS = "- {from: web, to: api, namespace: app, port: 80, protocol: TCP}\n"

REVIEW_ANSWER = {
    "summary": "api-ingress now admits app=frontend instead of app=web, so web can no longer reach api.",
    "claims": [
        {"type": "flow", "from": "app/web", "to": "app/api", "port": 8080, "protocol": "TCP", "allowed": False,
         "reason": "api-ingress admits app=frontend only"},
        {"type": "dependency_broken", "from": "app/web", "to": "app/api", "port": 80, "protocol": "TCP",
         "reason": "the ingress rule no longer matches web"},
        {"type": "flow", "from": "app/api", "to": "app/web", "port": 8080, "protocol": "TCP", "allowed": False,
         "reason": "wrong on purpose: web is not isolated"},
    ],
}


def _app_files(selector: str) -> list[dict[str, str]]:
    return [{"path": "k8s/app.yaml", "content": APP},
            {"path": "k8s/policy.yaml", "content": POLICY.replace("{app: web}", f"{{app: {selector}}}")}]


def test_a_review_reports_the_dependency_a_change_breaks(fake_provider_env: FakeProviderServer,
                                                         client: httpx.Client) -> None:
    fake_provider_env.enqueue(answer(REVIEW_ANSWER))
    response = client.post("/v1/review", json={
        "base": {"files": _app_files("web")}, "head": {"files": _app_files("frontend")},
        "deps": APP_DEPS, "model": MODEL})
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["status"] == "breaks-dependencies"
    diff = doc["diff"]
    assert [(d["from"], d["to"], d["port"]) for d in diff["dependencies_broken"]] == [("app/web", "app/api", 8080)]
    [removed] = diff["flows_removed"]
    assert (removed["from"], removed["to"], removed["ports"]) == ("app/web", "app/api", [[8080, 8080]])
    assert removed["breaks"] and diff["flows_added"] == []
    # The model was given the diff, and its claims were checked against the head.
    prompt = json.dumps(fake_provider_env.requests[0].body["messages"])
    assert "app/web -> app/api TCP/8080" in prompt
    verdicts = [c["verdict"] for c in doc["analysis"]["model"]["claims"]]
    assert verdicts == ["confirmed", "confirmed", "contradicted"]
    comment = doc["comment_markdown"]
    assert comment.startswith("<!-- netreason-review -->") and "breaks 1 dependency" in comment
    assert "❌ contradicted" in comment and doc["report_url"] in comment
    assert doc["sarif"]["version"] == "2.1.0"


def test_a_clean_change_is_clean_and_the_review_is_stored(client: httpx.Client) -> None:
    body = {"base": {"files": _app_files("web")}, "head": {"files": _app_files("web")}, "deps": APP_DEPS}
    response = client.post("/v1/review", json=body)
    doc = response.json()
    assert doc["status"] == "clean" and doc["diff"]["summary"]["flows_removed"] == 0
    assert doc["analysis"]["model"] is None
    comment = client.get(f"/v1/analyses/{doc['id']}", params={"format": "markdown"})
    assert comment.headers["content-type"].startswith("text/markdown")
    assert comment.text == doc["comment_markdown"]
    assert client.get(f"/v1/analyses/{doc['id']}", params={"format": "sarif"}).json() == doc["sarif"]


def test_a_review_can_take_its_base_from_a_stored_cluster(client: httpx.Client) -> None:
    client.post("/v1/clusters/prod", json={"manifests": APP + "---\n" + POLICY, "deps": APP_DEPS})
    response = client.post("/v1/review", json={"base": {"cluster": "prod"}, "head": {"files": _app_files("frontend")},
                                               "format": "markdown"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/markdown")
    assert "breaks 1 dependency" in response.text
    assert "`clusters/prod@1` → `head`" in response.text


# --- serving ----------------------------------------------------------------------------------------------


def test_the_api_runs_on_postgresql(postgres_url: str) -> None:  # noqa: F811
    with running_api(Settings(database_url=postgres_url)) as server, httpx.Client(base_url=server.base_url) as c:
        assert c.get("/readyz").json()["database"] == "postgresql"
        assert c.post("/v1/clusters/prod", json={"manifests": APP, "deps": APP_DEPS}).json()["revision"] == 1
        review = c.post("/v1/review", json={"base": {"cluster": "prod"},
                                            "head": {"manifests": APP + "---\n" + POLICY}}).json()
        assert c.get(f"/v1/analyses/{review['id']}").json()["diff"] == review["diff"]


def test_netreason_serve_starts_the_api_with_a_fresh_database(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "data" / "netreason.db"
    env = {**os.environ, "NETREASON_DATABASE_URL": f"sqlite:///{db}", "NETREASON_API_TOKENS": "t0k"}
    proc = subprocess.Popen([sys.executable, "-m", "service", "serve", "--port", str(port), "--log-level", "warning"],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()[1].decode()
                assert time.monotonic() < deadline, "netreason serve did not come up"
                time.sleep(0.1)
        assert health.json() == {"status": "ok"}
        assert httpx.get(f"http://127.0.0.1:{port}/v1/clusters").status_code == 401
        assert httpx.get(f"http://127.0.0.1:{port}/v1/clusters", headers={"Authorization": "Bearer t0k"}).json() == []
        assert db.is_file()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_an_unexpected_error_is_a_bare_500_that_leaks_nothing(api_server: ApiServer, client: httpx.Client,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_analysis_id: str) -> None:
        raise RuntimeError("password=hunter2 at /srv/secret/path")

    monkeypatch.setattr(api_server.app.state.service.store, "get_analysis", broken)
    response = client.get("/v1/analyses/abc")
    assert response.status_code == 500
    assert response.json()["type"] == "urn:netreason:problem:internal"
    assert "hunter2" not in response.text and "/srv" not in response.text
