"""`netreason lint` through the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from service.cli import cli
from tests.shared import CORPUS, require_shared

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "shop"


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_lint_json_reads_the_default_deps_file_beside_the_manifests() -> None:
    result = run("lint", str(EXAMPLE), "--format", "json", "--fail-on", "never")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["schema"] == "netreason.lint/v1"
    denied = {(d["from"], d["to"], d["port"]) for d in doc["dependencies"] if not d["allowed"]}
    assert ("shop/api", "payments/payments-api", 8443) in denied
    sources = {d["source"] for d in doc["dependencies"]}
    assert "declared" in sources
    f = next(f for f in doc["findings"] if f["rule"] == "namespace-label-missing")
    assert (f["severity"], f["object"]) == ("warning", "payments/payments-api-ingress")
    assert f["file"].endswith("policies/payments.yaml") and f["line"] > 0 and "team=shop" in f["message"]
    assert {r["namespace"] for r in doc["coverage"]} == {"shop", "payments", "monitoring", "kube-system"}


def test_fail_on_sets_the_exit_code() -> None:
    assert run("lint", str(EXAMPLE), "--fail-on", "error").exit_code == 1
    assert run("lint", str(EXAMPLE), "--fail-on", "never").exit_code == 0


def test_warnings_only_fail_with_fail_on_warning(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    shutil.copytree(EXAMPLE, shop)
    (shop / "netreason.deps.yaml").write_text("[]\n")
    (shop / "payments.yaml").unlink()  # no payments workloads: no DNS errors, no broken dependency
    result = run("lint", str(shop), "--no-infer", "--format", "json", "--fail-on", "never")
    severities = {f["severity"] for f in json.loads(result.stdout)["findings"]}
    assert "error" not in severities and "warning" in severities
    assert run("lint", str(shop), "--no-infer").exit_code == 0
    assert run("lint", str(shop), "--no-infer", "--fail-on", "warning").exit_code == 1


def test_text_and_markdown_outputs() -> None:
    text = run("lint", str(EXAMPLE)).stdout
    assert "error [dns-egress-missing] payments/payments-api" in text
    assert "suggested fix:" in text and "Rollout coverage" in text
    md = run("lint", str(EXAMPLE), "--format", "markdown").stdout
    assert md.startswith("## netreason lint") and "| `monitoring` | 1 | no | no | no / no |" in md
    assert "```yaml" in md


def test_explicit_deps_file_on_a_corpus_app() -> None:
    require_shared()
    folder = CORPUS / "sock-shop"
    args = ["lint", str(folder / "complete-demo.yaml"), str(folder / "manifests-policy"), "-n", "sock-shop",
            "--deps", str(folder / "deps.yaml"), "--format", "json"]
    result = run(*args)
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["summary"]["dependencies_denied"] == 4
    assert doc["summary"]["by_rule"]["dependency-broken"] == 4


def test_missing_deps_file_is_an_input_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "service", "lint", str(EXAMPLE), "--deps",
                           str(tmp_path / "nope.yaml")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and "nope.yaml" in done.stderr and "Traceback" not in done.stderr
