"""Markdown for PR comments (lint, diff, review) stays under GitHub's 65,536-character limit.

Large inputs come from the benchmark generator (a 200-workload cluster); the compact form keeps every
error item, counts the rest (flows by namespace pair, findings by rule) and says how to get all of it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from benchmarks.gen_cluster import generate
from benchmarks.tiers import TierSpec
from service.cli import cli
from service.renderers import findings as render
from service.renderers.bounded import MARKDOWN_LIMIT, cell

TIER = TierSpec("MD200", pods=600, namespaces=20, policies=300, workloads=200)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`old/`: the generated cluster; `none/`: the same without any NetworkPolicy (a change opening everything)."""
    root = tmp_path_factory.mktemp("cluster")
    docs = generate(TIER).all_docs()
    for name, kept in (("old", docs), ("none", [d for d in docs if d["kind"] != "NetworkPolicy"])):
        (root / name).mkdir()
        (root / name / "all.yaml").write_text(yaml.safe_dump_all(kept, sort_keys=False))
    return root


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def test_lint_markdown_of_a_large_bundle_fits_a_comment(cluster: Path) -> None:
    doc = json.loads(run("lint", str(cluster / "old"), "-o", "json", "--fail-on", "never"))
    assert len(render._full_markdown(doc)) > MARKDOWN_LIMIT  # the bundle is large enough to need shortening
    md = run("lint", str(cluster / "old"), "-o", "markdown", "--fail-on", "never")
    assert len(md) <= MARKDOWN_LIMIT
    assert "netreason lint -o json" in md and "Left out" in md
    for rule, n in doc["summary"]["by_rule"].items():
        assert f"| `{rule}` |" in md and f"| {n} |" in md  # every rule counted


def test_diff_markdown_of_a_change_opening_everything_fits_and_groups_flows(cluster: Path) -> None:
    doc = json.loads(run("diff", str(cluster / "old"), str(cluster / "none"), "-o", "json", "--fail-on", "never"))
    assert doc["summary"]["flows_added"] > 10_000
    md = run("diff", str(cluster / "old"), str(cluster / "none"), "-o", "markdown", "--fail-on", "never")
    assert len(md) <= MARKDOWN_LIMIT
    assert "### Flows by namespace pair" in md and "<details>" in md
    assert f"{doc['summary']['flows_added']} flow(s) added" in md
    assert "-o json" in md


def _finding(i: int, severity: str) -> dict[str, Any]:
    return {"rule": "dependency-broken" if severity == "error" else "policy-selects-nothing", "severity": severity,
            "object": f"ns-{i % 7}/obj-{i}", "file": "k8s/all.yaml", "line": i + 1,
            "message": f"finding {i}: " + "why it matters " * 20 + "\nsecond line", "fix": "spec: {}\n" * 30,
            "key": str(i), "details": {}}


def _lint_doc(errors: int, warnings: int) -> dict[str, Any]:
    found = [_finding(i, "error") for i in range(errors)] + [_finding(errors + i, "warning") for i in range(warnings)]
    return {"schema": "netreason.lint/v1", "findings": found, "dependencies": [], "coverage": [],
            "summary": {"findings": len(found), "by_severity": {"error": errors, "warning": warnings, "info": 0},
                        "by_rule": {}, "dependencies": 0, "dependencies_denied": 0}}


@pytest.mark.parametrize(("errors", "limit"), [(40, MARKDOWN_LIMIT), (400, MARKDOWN_LIMIT), (40, 20_000)])
def test_every_error_finding_is_kept(errors: int, limit: int) -> None:
    doc = _lint_doc(errors, 500)
    md = render.render_markdown(doc, limit=limit)
    assert len(md) <= limit
    for f in doc["findings"][:errors]:
        assert f"`{f['object']}`" in md
    assert "warning/info" in md  # the warnings that did not fit are counted as left out


def test_a_short_report_is_unchanged() -> None:
    doc = _lint_doc(2, 3)
    assert render.render_markdown(doc) == render._full_markdown(doc)


def test_diff_keeps_every_broken_dependency_with_its_line_breaks() -> None:
    broken = [{"from": f"a/w{i}", "to": f"b/w{i}", "port": 80, "protocol": "TCP", "source": "declared",
               "explanation": f"DENIED: a/w{i} -> b/w{i}\n  egress at a/w{i}: allowed\n  ingress at b/w{i}: denied"}
              for i in range(30)]
    flows = [{"from": f"a{i % 9}/x{i}", "to": f"b{i % 5}/y{i}", "protocol": "TCP", "ports": [[80, 80]], "breaks": []}
             for i in range(3000)]
    doc = {"schema": "netreason.diff/v1", "old": "old", "new": "new", "workloads_added": [], "workloads_removed": [],
           "flows_added": [], "flows_removed": flows, "external_added": [], "external_removed": [],
           "dependencies_broken": broken, "dependencies_fixed": [], "findings_introduced": [], "findings_resolved": []}
    doc["summary"] = {k: len(v) for k, v in doc.items() if isinstance(v, list)}
    md = render.render_diff_markdown(doc, limit=20_000)
    assert len(md) <= 20_000
    for d in broken:
        assert f"`{d['from']}` → `{d['to']}`" in md
    assert "<br>  egress at a/w0: allowed<br>" in md
    assert "| `a0` | `b0` |" in md  # flows counted by namespace pair


def test_table_cells_keep_line_breaks() -> None:
    assert cell("one\ntwo | three") == "one<br>two \\| three"
