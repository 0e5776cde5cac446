"""AdminNetworkPolicy and BaselineAdminNetworkPolicy through `netreason check`, `flows` and `lint`."""

from __future__ import annotations

import json

from click.testing import CliRunner

from service.cli import cli

APP = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {tenant: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ads, labels: {tenant: ads}}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec: {containers: [{name: api, image: api, ports: [{containerPort: 8080, name: http}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: tracker, namespace: ads, labels: {app: tracker}}
spec: {containers: [{name: t, image: t, ports: [{containerPort: 9000}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-anyone, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress: [{from: [{namespaceSelector: {}}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: tenant-isolation}
spec:
  priority: 20
  subject: {namespaces: {matchLabels: {tenant: shop}}}
  ingress:
  - name: no-ads
    action: Deny
    from: [{namespaces: {matchLabels: {tenant: ads}}}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress:
  - name: default-deny
    action: Deny
    from: [{namespaces: {}}]
"""


def run(tmp_path, *args: str, text: str = APP):
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return CliRunner().invoke(cli, [args[0], str(path), *args[1:]], catch_exceptions=False)


def test_check_answers_denied_for_traffic_an_anp_denies_and_names_rule_action_and_priority(tmp_path) -> None:
    result = run(tmp_path, "check", "--from", "ads/tracker", "--to", "shop/api", "--port", "8080")
    assert result.exit_code == 1, result.stdout
    assert "DENIED" in result.stdout
    assert "Deny by ingress rule 0 ('no-ads') of AdminNetworkPolicy tenant-isolation (priority 20)" in result.stdout
    doc = json.loads(run(tmp_path, "check", "--from", "ads/tracker", "--to", "shop/api", "--port", "8080",
                         "-o", "json").stdout)
    assert doc["allowed"] is False
    assert doc["ingress"]["decided_by_admin"] == {
        "policy": "AdminNetworkPolicy/tenant-isolation", "direction": "ingress", "rule": 0, "action": "Deny",
        "rule_name": "no-ads", "priority": 20, "kind": "AdminNetworkPolicy"}


def test_baseline_denies_where_no_networkpolicy_selects_and_yields_where_one_does(tmp_path) -> None:
    denied = run(tmp_path, "check", "--from", "shop/api", "--to", "ads/tracker", "--port", "9000")
    assert denied.exit_code == 1
    assert "Deny by ingress rule 0 ('default-deny') of BaselineAdminNetworkPolicy default" in denied.stdout
    flows = json.loads(run(tmp_path, "flows", "-o", "json").stdout)
    pairs = {(f["from"], f["to"]) for f in flows["flows"]}
    # api's own NetworkPolicy admits every namespace, so the baseline does not apply to it; ads is denied by the ANP.
    assert ("shop/api", "shop/api") in pairs and ("ads/tracker", "shop/api") not in pairs
    assert ("shop/api", "ads/tracker") not in pairs and ("ads/tracker", "ads/tracker") not in pairs


def test_invalid_admin_policies_are_reported_with_file_line_and_left_out(tmp_path) -> None:
    bad = APP.replace("priority: 20", "priority: 2000").replace("name: default}", "name: baseline}")
    result = run(tmp_path, "flows", "-o", "json", text=bad)
    doc = json.loads(result.stdout)
    texts = [i["text"] for i in doc["issues"] if i["severity"] == "error"]
    line = bad.splitlines().index("  priority: 2000") + 1
    assert any("spec.priority: 2000 must be between 0 and 1000" in t and f"m.yaml:{line}:" in t for t in texts), texts
    assert any("metadata.name" in t and "default" in t for t in texts), texts
    pairs = {(f["from"], f["to"]) for f in doc["flows"]}
    assert ("ads/tracker", "shop/api") in pairs  # the invalid ANP was left out
