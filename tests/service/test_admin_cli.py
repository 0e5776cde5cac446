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


def test_lint_counts_a_baseline_deny_as_the_default_deny(tmp_path) -> None:
    doc = json.loads(run(tmp_path, "lint", "-o", "json", "--fail-on", "never").stdout)
    gaps = {f["object"]: f["details"]["missing"] for f in doc["findings"] if f["rule"] == "no-default-deny"}
    assert gaps == {"shop": ["egress"], "ads": ["egress"]}  # ingress: the baseline's Deny covers every namespace
    without = APP.split("---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy")[0]
    doc = json.loads(run(tmp_path, "lint", "-o", "json", "--fail-on", "never", text=without).stdout)
    gaps = {f["object"]: f["details"]["missing"] for f in doc["findings"] if f["rule"] == "no-default-deny"}
    assert gaps == {"shop": ["ingress", "egress"], "ads": ["ingress", "egress"]}


def test_diff_reports_the_flows_an_added_admin_policy_removes(tmp_path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir(), new.mkdir()
    (old / "m.yaml").write_text(APP.split("---\napiVersion: policy.networking.k8s.io")[0])
    (new / "m.yaml").write_text(APP.split("---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: Baseline")[0])
    result = CliRunner().invoke(cli, ["diff", str(old), str(new), "--format", "json"], catch_exceptions=False)
    doc = json.loads(result.stdout)
    removed = {(f["from"], f["to"]) for f in doc["flows_removed"]}
    assert removed == {("ads/tracker", "shop/api")}
    assert not doc["flows_added"]


EGRESS_ANP = """
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: no-private-egress}
spec:
  priority: 5
  subject: {namespaces: {matchLabels: {tenant: shop}}}
  egress:
  - name: metadata-ok
    action: Allow
    to: [{networks: [10.1.2.3/32]}]
    ports: [{portNumber: {port: 443}}]
  - name: no-private
    action: Deny
    to: [{networks: [10.0.0.0/8]}]
"""


def test_external_egress_rows_are_cut_by_anp_network_denies(tmp_path) -> None:
    doc = json.loads(run(tmp_path, "flows", "-o", "json", text=APP + EGRESS_ANP).stdout)
    rows = [(r["cidr"], tuple(r["except"]), r["protocol"], r["rule"]) for r in doc["external_egress"]
            if r["from"] == "shop/api"]
    assert ("10.1.2.3/32", (), "TCP", "Allow by egress rule 0 ('metadata-ok') of AdminNetworkPolicy "
            "no-private-egress (priority 5)") in rows
    assert ("0.0.0.0/0", ("10.0.0.0/8",), "TCP", "unrestricted") in rows
    assert ("::/0", (), "TCP", "unrestricted") in rows
    tracker = [(r["cidr"], tuple(r["except"])) for r in doc["external_egress"] if r["from"] == "ads/tracker"]
    assert ("0.0.0.0/0", ()) in tracker  # not a subject of the ANP
