"""`netreason diff OLD NEW`, with sides on disk and in git (read without checkout)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "shop"
BROKEN_PEER = "matchLabels: {team: shop}"
FIXED_PEER = "matchLabels: {kubernetes.io/metadata.name: shop}"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
                          cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repo whose HEAD has the broken shop; the working tree has the fix (uncommitted)."""
    shutil.copytree(EXAMPLE, tmp_path / "shop")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "shop")
    policy = tmp_path / "shop" / "policies" / "payments.yaml"
    policy.write_text(policy.read_text().replace(BROKEN_PEER, FIXED_PEER))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_diff_from_git_revision_to_working_tree(repo: Path) -> None:
    result = run("diff", "HEAD:shop", "shop", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [(f["from"], f["to"], f["ports"])
            for f in doc["flows_added"]] == [("shop/api", "payments/payments-api", [[8443, 8443]])]
    assert [(d["from"], d["to"]) for d in doc["dependencies_fixed"]] == [("shop/api", "payments/payments-api")]
    assert {f["rule"] for f in doc["findings_resolved"]} == {"dependency-broken", "egress-without-ingress",
                                                             "namespace-label-missing"}
    assert doc["findings_introduced"] == []
    assert git(repo, "status", "--porcelain").strip() == "M shop/policies/payments.yaml"  # nothing checked out


def test_breaking_change_exits_1_and_names_the_dependency(repo: Path) -> None:
    result = run("diff", "shop", "HEAD:shop")
    assert result.exit_code == 1
    assert ("- shop/api -> payments/payments-api TCP/8443  (breaks shop/api -> payments/payments-api TCP/8443)"
            in result.stdout)
    introduced = json.loads(run("diff", "shop", "HEAD:shop", "--format", "json").stdout)["findings_introduced"]
    ns = next(f for f in introduced if f["rule"] == "namespace-label-missing")
    assert ns["file"] == "shop/policies/payments.yaml" and ns["line"] == 23  # same names as the working tree


def test_diff_between_two_revisions_and_sarif_of_introduced_findings(repo: Path) -> None:
    git(repo, "commit", "-qam", "fix")
    assert run("diff", "HEAD:shop", "HEAD~1:shop", "--format", "json", "--fail-on", "never").exit_code == 0
    sarif = json.loads(run("diff", "HEAD:shop", "HEAD~1:shop", "--format", "sarif").stdout)
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"dependency-broken", "egress-without-ingress", "namespace-label-missing"}
    md = run("diff", "HEAD:shop", "HEAD~1:shop", "--format", "markdown").stdout
    assert "### Dependencies broken" in md and "```diff" in md


def test_unknown_revision_is_an_input_error(repo: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "service", "diff", "nosuchrev:shop", "shop"],
                          capture_output=True, text=True, cwd=repo)
    assert done.returncode == 2 and "'nosuchrev' is not a git revision" in done.stderr


EGRESS_POLICY = """apiVersion: v1
kind: Pod
metadata: {{name: a, namespace: x, labels: {{app: a}}}}
spec: {{containers: [{{name: a, image: a}}]}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: a-out, namespace: x}}
spec:
  podSelector: {{matchLabels: {{app: a}}}}
  policyTypes: [Egress]
  egress: [{{to: [{{ipBlock: {{cidr: 0.0.0.0/0, except: [{excepted}]}}}}], ports: [{{port: 443}}]}}]
"""


def test_text_and_markdown_show_external_egress_changes(tmp_path: Path) -> None:
    for side, excepted in (("old", "10.0.0.0/8"), ("new", "172.16.0.0/12")):
        (tmp_path / side).mkdir()
        (tmp_path / side / "a.yaml").write_text(EGRESS_POLICY.format(excepted=excepted))
    text = run("diff", str(tmp_path / "old"), str(tmp_path / "new")).stdout
    assert "External egress added (1):\n  + x/a -> 10.0.0.0/8 (outside) TCP/443\n" in text
    assert "External egress removed (1):\n  - x/a -> 172.16.0.0/12 (outside) TCP/443\n" in text
    md = run("diff", str(tmp_path / "old"), str(tmp_path / "new"), "--format", "markdown").stdout
    assert "### External egress added\n\n```diff\n+ x/a -> 10.0.0.0/8 (outside) TCP/443\n```" in md
