"""Policy kinds netreason does not evaluate are named in every output and every answer they may touch."""

from __future__ import annotations

import json

from click.testing import CliRunner

from service.cli import cli

APP = """
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec: {containers: [{name: api, image: api, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: job, namespace: other, labels: {app: job}}
spec: {containers: [{name: job, image: job, ports: [{containerPort: 9000}]}]}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: lock-shop, namespace: shop}
spec:
  endpointSelector: {}
  ingress: [{}]
"""

CLUSTER_WIDE = """
---
apiVersion: crd.projectcalico.org/v1
kind: GlobalNetworkPolicy
metadata: {name: deny-everything}
spec: {selector: all(), types: [Ingress, Egress]}
"""


def run(tmp_path, text: str, *args: str):
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return CliRunner().invoke(cli, [args[0], str(path), *args[1:]], catch_exceptions=False)


def test_check_about_a_workload_in_reach_says_the_policy_is_not_evaluated(tmp_path) -> None:
    result = run(tmp_path, APP, "check", "--from", "shop/web", "--to", "shop/api", "--port", "8080")
    assert result.exit_code == 0
    assert "CiliumNetworkPolicy shop/lock-shop" in result.stdout and "does not evaluate" in result.stdout
    doc = json.loads(run(tmp_path, APP, "check", "--from", "shop/web", "--to", "shop/api", "--port", "8080",
                         "-o", "json").stdout)
    assert any("CiliumNetworkPolicy shop/lock-shop" in n for n in doc["notes"])


def test_check_outside_its_namespace_stays_quiet_but_cluster_scoped_kinds_reach_everywhere(tmp_path) -> None:
    args = ("check", "--from", "other/job", "--to", "other/job", "--port", "9000", "-o", "json")
    assert json.loads(run(tmp_path, APP, *args).stdout)["notes"] == []
    notes = json.loads(run(tmp_path, APP + CLUSTER_WIDE, *args).stdout)["notes"]
    assert len(notes) == 1 and "GlobalNetworkPolicy deny-everything" in notes[0] and "every namespace" in notes[0]


def test_flows_and_lint_carry_the_warning_and_lint_claims_no_default_deny_only_where_none_may_exist(tmp_path) -> None:
    flows = json.loads(run(tmp_path, APP, "flows", "-o", "json").stdout)
    assert any("CiliumNetworkPolicy shop/lock-shop" in n for n in flows["notes"])
    (issue,) = [i for i in flows["issues"] if i["object"] == "CiliumNetworkPolicy shop/lock-shop"]
    assert issue["severity"] == "warning" and issue["line"] > 1
    assert "CiliumNetworkPolicy shop/lock-shop" in run(tmp_path, APP, "flows").stdout
    lint = json.loads(run(tmp_path, APP, "lint", "-o", "json", "--fail-on", "never").stdout)
    rules = {(f["rule"], f["object"]) for f in lint["findings"]}
    assert ("policy-not-evaluated", "shop/lock-shop") in rules
    assert ("no-default-deny", "other") in rules and ("no-default-deny", "shop") not in rules
    sarif = json.loads(run(tmp_path, APP, "lint", "-o", "sarif", "--fail-on", "never").stdout)
    assert any(r["ruleId"] == "policy-not-evaluated" for r in sarif["runs"][0]["results"])
    assert "policy-not-evaluated" in run(tmp_path, APP, "lint", "-o", "markdown", "--fail-on", "never").stdout
