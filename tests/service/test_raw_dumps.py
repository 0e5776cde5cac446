"""Raw API dumps (`GET /api/v1/pods` and friends): typed lists whose items carry no kind."""

from __future__ import annotations

import json

from click.testing import CliRunner

from service.cli import cli


def _pod(name: str, labels: dict[str, str], container: dict) -> dict:
    # As the API server returns them inside a PodList: no kind, no apiVersion.
    return {"metadata": {"name": name, "namespace": "shop", "labels": labels,
                         "managedFields": [{"manager": "kubelet"}]},
            "spec": {"containers": [container]}, "status": {"phase": "Running"}}


def _dump() -> str:
    namespaces = {"kind": "NamespaceList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"},
                  "items": [{"metadata": {"name": "shop", "labels": {"team": "shop"}}}]}
    pods = {"kind": "PodList", "apiVersion": "v1", "items": [
        _pod("web", {"app": "web"}, {"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}),
        _pod("api", {"app": "api"}, {"image": "api", "ports": [{"containerPort": 8080}]}),  # no name
    ]}
    policies = {"kind": "NetworkPolicyList", "apiVersion": "networking.k8s.io/v1", "items": [
        {"metadata": {"name": "api-in", "namespace": "shop"},
         "spec": {"podSelector": {"matchLabels": {"app": "api"}},
                  "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]}}]}
    return "\n".join(json.dumps(doc, indent=1) for doc in (namespaces, pods, policies))


def test_typed_list_items_take_their_kind_from_the_list_and_evaluate(tmp_path) -> None:
    path = tmp_path / "dump.json"
    path.write_text(_dump())
    result = CliRunner().invoke(cli, ["flows", str(path), "-o", "json"], catch_exceptions=False)
    doc = json.loads(result.stdout)
    assert {w["id"] for w in doc["workloads"]} == {"shop/web", "shop/api"}
    assert doc["summary"]["policies"] == 1
    flows = {(f["from"], f["to"]) for f in doc["flows"]}
    assert ("shop/web", "shop/api") in flows and ("shop/api", "shop/api") not in flows
    assert [ns for ns in doc.get("namespaces", [{"name": "shop"}])]


def test_a_container_without_a_name_is_a_warning_and_the_pod_is_kept(tmp_path) -> None:
    path = tmp_path / "dump.json"
    path.write_text(_dump())
    result = CliRunner().invoke(cli, ["flows", str(path), "-o", "json"], catch_exceptions=False)
    doc = json.loads(result.stdout)
    (issue,) = [i for i in doc["issues"] if "containers[0].name" in i["field"]]
    assert issue["severity"] == "warning" and issue["object"] == "Pod shop/api"
    assert issue["line"] > 1 and "Required value" in issue["message"]
    assert "shop/api" in {w["id"] for w in doc["workloads"]}
