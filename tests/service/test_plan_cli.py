"""`netreason plan`: the default-deny rollout as verified steps.

Done when: on Online Boutique (manifests only) and Sock Shop (its policies replaced) with their
deps.yaml, every dependency is allowed, every workload reaches DNS, no other in-cluster flow is
allowed, and every step is verified. Checked here independently of the plan's own verification:
the written policies are loaded beside the manifests and linted and listed by `lint` and `flows`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import yaml
from click.testing import CliRunner

from service.cli import cli
from tests.shared import CORPUS, corpus_apps, require_shared

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "shop"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def app(name: str) -> dict:
    require_shared()
    return next(a for a in corpus_apps() if a["name"] == name)


def assert_exactly_the_dependencies(manifests: list[str], plan_dir: Path, ns: str, deps: str) -> None:
    """Lint and flows of manifests + plan: dependencies allowed, DNS everywhere, nothing else in-cluster."""
    steps = [str(p) for p in sorted(plan_dir.glob("[0-9][0-9]-*"))]
    _code, out, _err = run("lint", *manifests, *steps, "-n", ns, "--deps", deps, "--format", "json", "--fail-on",
                           "never")
    doc = json.loads(out)
    assert [f for f in doc["findings"] if f["severity"] == "error"] == []
    assert [d for d in doc["dependencies"] if not d["allowed"]] == []
    assert [f["object"] for f in doc["findings"] if f["rule"] in ("dns-egress-missing", "dependency-broken")] == []
    needed: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    for d in doc["dependencies"]:
        needed[(d["from"], d["to"], d["protocol"])].add(d["port"])
    _code, out, _err = run("flows", *manifests, *steps, "-n", ns, "--format", "json")
    extra = []
    for f in json.loads(out)["flows"]:
        ports = {p for lo, hi in f["ports"] for p in range(lo, min(hi, lo + 70000) + 1)}
        if ports - needed.get((f["from"], f["to"], f["protocol"]), set()):
            extra.append(f"{f['from']} -> {f['to']} {f['protocol']} {f['ports'][:3]}")
    assert extra == []


def test_online_boutique_manifests_only_plan_is_verified_and_exact(tmp_path: Path) -> None:
    ob = app("online-boutique")
    manifests = [m for m in ob["manifest_paths"] if m.endswith("kubernetes-manifests.yaml")]
    out = tmp_path / "plan"
    code, _stdout, err = run("plan", *manifests, "--deps", ob["deps_path"], "--out", str(out))
    assert code == 0, err
    doc = json.loads((out / "plan.json").read_text())
    assert doc["schema"] == "netreason.plan/v1" and doc["verified"]
    assert all(s["check"]["verified"] for s in doc["steps"])
    (step,) = doc["steps"]
    assert step["check"]["dependencies_allowed"] == step["check"]["dependencies_total"] == 16
    files = sorted((out / "01-default").iterdir())
    assert files[0].name == "01-allow-dns.yaml" and files[-1].name.endswith("-default-deny.yaml")
    for f in files:
        (manifest,) = list(yaml.safe_load_all(f.read_text()))
        assert manifest["kind"] == "NetworkPolicy" and manifest["metadata"]["namespace"] == "default"
    dns = yaml.safe_load((out / "01-default" / "01-allow-dns.yaml").read_text())
    peer = dns["spec"]["egress"][0]["to"][0]
    assert peer["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}
    assert {p["protocol"] for p in dns["spec"]["egress"][0]["ports"]} == {"UDP", "TCP"}
    external = yaml.safe_load(next(f for f in files if "frontend-external" in f.name).read_text())
    assert external["spec"]["ingress"][0]["from"] == [{"ipBlock": {"cidr": "0.0.0.0/0"}}]
    runbook = (out / "RUNBOOK.md").read_text()
    assert f"kubectl apply -f {out}/01-default/" in runbook and f"kubectl delete -f {out}/01-default/" in runbook
    assert_exactly_the_dependencies(manifests, out, "default", ob["deps_path"])


def test_sock_shop_with_its_policies_replaced_is_verified_and_exact(tmp_path: Path) -> None:
    ss = app("sock-shop")
    out = tmp_path / "plan"
    code, _, err = run("plan", *ss["manifest_paths"], "-n", "sock-shop", "--deps", ss["deps_path"], "--replace",
                       "--out", str(out))
    assert code == 0, err
    doc = json.loads((out / "plan.json").read_text())
    (step,) = doc["steps"]
    assert step["check"]["verified"] and step["check"]["dependencies_allowed"] == 15
    assert len(step["removes"]) == 13  # the upstream policies, deleted after the new ones apply
    runbook = (out / "RUNBOOK.md").read_text()
    assert "kubectl delete networkpolicy -n sock-shop cortex-access" in runbook
    assert "netpol-cortex-access.yaml" in runbook  # the rollback restores it
    demo = [m for m in ss["manifest_paths"] if m.endswith("complete-demo.yaml")]
    assert_exactly_the_dependencies(demo, out, "sock-shop", ss["deps_path"])


def test_a_step_that_leaves_other_flows_open_is_not_verified(tmp_path: Path) -> None:
    ob = app("online-boutique")
    manifests = [m for m in ob["manifest_paths"] if m.endswith("kubernetes-manifests.yaml")]
    allow_all = tmp_path / "allow-all.yaml"
    allow_all.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow-all}\n"
                         "spec:\n  podSelector: {}\n  ingress: [{}]\n  egress: [{}]\n"
                         "  policyTypes: [Ingress, Egress]\n")
    code, out, _ = run("plan", *manifests, str(allow_all), "--deps", ob["deps_path"], "-o", "json")
    assert code == 1
    doc = json.loads(out)
    assert not doc["verified"] and doc["steps"][0]["check"]["unexpected_flows"]
    code, out, _ = run("plan", *manifests, str(allow_all), "--deps", ob["deps_path"], "--replace", "-o", "json")
    assert code == 0 and json.loads(out)["verified"]


def test_namespaces_go_lowest_risk_first_with_cross_namespace_peers_by_name(tmp_path: Path) -> None:
    code, out, err = run("plan", str(EXAMPLE), "--replace", "-o", "json")
    doc = json.loads(out)
    assert code == 0, err
    order = [s["namespace"] for s in doc["steps"]]
    assert "kube-system" not in order and doc["skipped"][0]["namespace"] == "kube-system"
    assert order.index("monitoring") < order.index("shop")  # no dependencies cross monitoring
    shop = next(s for s in doc["steps"] if s["namespace"] == "shop")
    api = next(m for m in shop["policies"] if m["metadata"]["name"] == "allow-api-egress")
    peers = [p for r in api["spec"]["egress"] for p in r["to"]]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "payments"}},
            "podSelector": {"matchLabels": {"app": "payments-api"}}} in peers


def test_markdown_and_json_print_what_the_files_hold(tmp_path: Path) -> None:
    ob = app("online-boutique")
    manifests = [m for m in ob["manifest_paths"] if m.endswith("kubernetes-manifests.yaml")]
    code, md, _ = run("plan", *manifests, "--deps", ob["deps_path"], "-o", "markdown")
    assert code == 0 and md.startswith("# NetworkPolicy rollout runbook") and "## Step 1" in md
    code, js, _ = run("plan", *manifests, "--deps", ob["deps_path"], "-o", "json", "--out", str(tmp_path / "p"))
    assert json.loads(js) == json.loads((tmp_path / "p" / "plan.json").read_text())


def test_ingress_backends_keep_ingress_from_the_controller(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web, ports: [{containerPort: 8080, name: http}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
""")
    code, out, err = run("plan", str(tmp_path), "-o", "json", "--ingress-controller", "ingress/app=traefik")
    assert code == 0, err
    (step,) = json.loads(out)["steps"]
    external = next(m for m in step["policies"] if m["metadata"]["name"] == "allow-web-external")
    assert external["spec"]["ingress"][0]["from"] == [{
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress"}},
        "podSelector": {"matchLabels": {"app": "traefik"}}}]
    assert external["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8080}]
    assert CORPUS.is_dir()


def test_the_api_plans_the_same_as_the_cli(api_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import httpx

    import verifier

    ob = app("online-boutique")
    manifests = [m for m in ob["manifest_paths"] if m.endswith("kubernetes-manifests.yaml")]
    texts: dict[str, str] = {}
    verifier.load_bundle(manifests, texts=texts)
    body = {"files": [{"path": k, "content": v} for k, v in texts.items()],
            "deps": Path(ob["deps_path"]).read_text(), "deps_name": ob["deps_path"]}
    with httpx.Client(base_url=api_server.base_url, timeout=120) as client:
        response = client.post("/v1/plan", json=body)
        markdown = client.post("/v1/plan", json={**body, "format": "markdown"})
        page = client.post("/v1/plan", json={**body, "format": "html"})
    assert response.status_code == 200, response.text
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<h1>netreason plan: the default-deny rollout</h1>" in page.text and "Map after the rollout" in page.text
    assert page.text.count("class='step-check'") == len(response.json()["steps"])
    _code, out, _ = run("plan", *manifests, "--deps", ob["deps_path"], "-o", "json")
    assert response.json() == json.loads(out) and response.json()["verified"]
    assert markdown.status_code == 200 and markdown.text.startswith("# NetworkPolicy rollout runbook")
