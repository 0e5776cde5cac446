"""The Helm chart, dogfooded: its output passes `netreason lint` with the chart's deps file, and its
NetworkPolicy lets netreason reach DNS, PostgreSQL and the model endpoint and nothing else.

The chart is rendered by `helm template` when `helm` is on PATH, else by Helm's Go SDK from the
helm-python-sdk wheel (tests/deploy/helm.py); the cluster around it (DNS, the ingress controller,
Prometheus, PostgreSQL, one unrelated app) is written here, shaped as a `kubectl get -o yaml` export would be.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import helm

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "netreason"
DEPS = ROOT / "deploy" / "helm" / "netreason.deps.yaml"
NETREASON = str(Path(sys.executable).parent / "netreason")

try:
    ENGINE = helm.engine()
    SKIP = ""
except helm.HelmUnavailable as e:
    ENGINE, SKIP = "", str(e)
pytestmark = pytest.mark.skipif(bool(SKIP), reason=SKIP)

VALUES: dict[str, Any] = {
    "database": {"url": "postgresql+psycopg://netreason:pw@postgresql.databases:5432/netreason"},
    "secrets": {"NETREASON_API_TOKENS": "t0k", "OPENAI_API_KEY": "sk-test"},
    "config": {"NETREASON_MODEL": "openai:gpt-4.1-mini"},
    "serviceMonitor": {"enabled": True},
    "networkPolicy": {"postgresql": {"to": [{
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "databases"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgresql"}}}]}},
}


def _namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}}, "status": {"phase": "Active"}}


def _deployment(ns: str, name: str, labels: dict[str, str], ports: list[dict[str, Any]],
                kind: str = "Deployment") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": {
                "containers": [{"name": name, "image": f"{name}:1", "ports": ports}]}}}}


def _service(ns: str, name: str, selector: dict[str, str], port: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": selector, "ports": [{"name": "tcp", "port": port, "targetPort": port}]}}


def _cluster() -> dict[str, Any]:
    """The cluster netreason is installed into, as a kubectl List export."""
    dns = {"k8s-app": "kube-dns"}
    pg = {"app.kubernetes.io/name": "postgresql"}
    items = [
        *(_namespace(n) for n in ("kube-system", "ingress-nginx", "monitoring", "databases", "netreason", "shop")),
        _deployment("kube-system", "coredns", dns, [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                                                    {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"}]),
        _service("kube-system", "kube-dns", dns, 53),
        _deployment("ingress-nginx", "ingress-nginx-controller", {"app.kubernetes.io/name": "ingress-nginx"},
                    [{"name": "https", "containerPort": 443}]),
        _deployment("monitoring", "prometheus", {"app": "prometheus"}, [{"name": "web", "containerPort": 9090}]),
        _deployment("databases", "postgresql", pg, [{"name": "tcp-postgresql", "containerPort": 5432}],
                    kind="StatefulSet"),
        _service("databases", "postgresql", pg, 5432),
        _deployment("shop", "api", {"app": "api"}, [{"name": "http", "containerPort": 8080}]),
    ]
    return {"apiVersion": "v1", "kind": "List", "items": items}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cluster")
    (root / "chart.yaml").write_text(helm.render(CHART, VALUES, "netreason", "netreason"), encoding="utf-8")
    (root / "cluster.yaml").write_text(yaml.safe_dump(_cluster(), sort_keys=False), encoding="utf-8")
    return root


def _netreason(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NETREASON, *args], capture_output=True, text=True, cwd=ROOT)


def test_the_chart_passes_helms_own_linter() -> None:
    assert helm.lint(CHART, VALUES) == []


def test_the_rendered_chart_passes_netreason_lint_with_its_deps_file(installed: Path) -> None:
    done = _netreason("lint", str(installed), "--deps", str(DEPS), "-o", "json", "--fail-on", "error")
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert [f for f in doc["findings"] if f["severity"] == "error"] == []
    deps = doc["dependencies"]
    assert len(deps) == 4 and all(d["source"] == "declared" for d in deps)
    assert [d for d in deps if not d["allowed"]] == []
    # DNS present: no dns finding for netreason, and the DNS check itself allows it.
    assert not [f for f in doc["findings"] if f["rule"].startswith("dns") and "netreason/" in f["object"]]
    for protocol in ("UDP", "TCP"):
        assert _netreason("check", str(installed), "--from", "netreason/netreason", "--to", "kube-system/coredns",
                          "--port", "53", "--protocol", protocol).returncode == 0


@pytest.mark.parametrize("src, dst, port", [
    ("shop/api", "netreason/netreason", 8000),                 # no way in but from the ingress controller
    ("databases/postgresql", "netreason/netreason", 8000),
    ("netreason/netreason", "shop/api", 8080),                 # no way out but DNS, PostgreSQL, the model
    ("netreason/netreason", "ingress-nginx/ingress-nginx-controller", 443),  # in-cluster 443 is not the model
    ("netreason/netreason", "databases/postgresql", 5433),
])
def test_the_chart_network_policy_denies_everything_else(installed: Path, src: str, dst: str, port: int) -> None:
    done = _netreason("check", str(installed), "--from", src, "--to", dst, "--port", str(port))
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("DENIED")


def test_the_deployment_runs_restricted_and_read_only(installed: Path) -> None:
    docs = [d for d in yaml.safe_load_all((installed / "chart.yaml").read_text()) if d]
    kinds = {d["kind"] for d in docs}
    assert kinds >= {"Deployment", "Service", "ConfigMap", "Secret", "NetworkPolicy", "ServiceMonitor",
                     "ServiceAccount"}
    pod = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["seccompProfile"] == {
        "type": "RuntimeDefault"}
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    assert container["args"][:3] == ["serve", "--host", "0.0.0.0"]
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp", "/var/lib/netreason"}
    secret = next(d for d in docs if d["kind"] == "Secret")
    assert set(secret["data"]) == {"NETREASON_API_TOKENS", "OPENAI_API_KEY", "NETREASON_DATABASE_URL"}
    config = next(d for d in docs if d["kind"] == "ConfigMap")
    assert config["data"] == {"NETREASON_MODEL": "openai:gpt-4.1-mini"}
    assert "sk-test" not in (installed / "chart.yaml").read_text()  # secrets only base64 in the Secret


def test_a_database_url_without_its_network_peers_fails_to_render() -> None:
    values = {**VALUES, "networkPolicy": {"postgresql": {"to": []}}}
    with pytest.raises(RuntimeError, match=r"networkPolicy.postgresql.to"):
        helm.render(CHART, values, "netreason", "netreason")


def test_defaults_render_sqlite_on_a_volume_and_no_service_monitor() -> None:
    with pytest.raises(RuntimeError, match="NETREASON_API_TOKENS"):  # serve would refuse to start without them
        helm.render(CHART, {}, "netreason", "netreason")
    values = {"secrets": {"NETREASON_API_TOKENS": "t0k"}}
    docs = [d for d in yaml.safe_load_all(helm.render(CHART, values, "netreason", "netreason")) if d]
    assert "ServiceMonitor" not in {d["kind"] for d in docs}
    assert set(next(d for d in docs if d["kind"] == "Secret")["data"]) == {"NETREASON_API_TOKENS"}
    container = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "NETREASON_DATABASE_URL", "value": "sqlite:////var/lib/netreason/netreason.db"} in container["env"]
