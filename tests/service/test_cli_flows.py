"""`netreason flows` and `netreason check` through the command line."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from service.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "shop")


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_flows_json_has_the_documented_shape_and_lists_allowed_pairs_only():
    result = run("flows", EXAMPLE, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    ids = {w["id"] for w in doc["workloads"]}
    assert {"shop/web", "shop/api", "payments/payments-api", "payments/postgres"} <= ids
    flows = {(f["from"], f["to"], f["protocol"]): f["ports"] for f in doc["flows"]}
    assert flows[("shop/web", "shop/api", "TCP")] == [[8080, 8080]]
    assert flows[("payments/payments-api", "payments/postgres", "TCP")] == [[5432, 5432]]
    assert ("shop/api", "payments/payments-api", "TCP") not in flows  # the broken dependency
    assert flows[("monitoring/prometheus", "monitoring/prometheus", "UDP")] == [[1, 65535]]
    for f in doc["flows"]:
        assert f["ports"] == sorted(f["ports"]) and all(lo <= hi for lo, hi in f["ports"])


def test_flows_csv_and_dot_carry_the_same_pairs():
    doc = json.loads(run("flows", EXAMPLE, "-o", "json").stdout)
    rows = list(csv.DictReader(io.StringIO(run("flows", EXAMPLE, "-o", "csv").stdout)))
    pairs = [r for r in rows if not (r["from"].startswith("outside:") or r["to"].startswith("outside:"))]
    assert len(pairs) == len(doc["flows"])  # the other rows are outside traffic (test_outside_and_filters.py)
    dot = run("flows", EXAMPLE, "-o", "dot").stdout
    assert dot.startswith("digraph") and '"shop/web" -> "shop/api" [label="TCP/8080"]' in dot


def test_flows_summary_gives_counts_and_phase_times():
    out = run("flows", EXAMPLE, "-o", "summary").stdout
    assert "allowed pairs: 12" in out and "time compute:" in out and "workloads: 7" in out


def test_flows_reads_stdin():
    text = (ROOT / "examples" / "shop" / "shop.yaml").read_text()
    doc = json.loads(run("flows", "-", "-o", "json", input=text).stdout)
    assert {w["id"] for w in doc["workloads"]} == {"shop/web", "shop/api", "shop/worker"}


def test_check_exit_codes_allowed_denied_and_bad_input():
    allowed = run("check", EXAMPLE, "--from", "shop/web", "--to", "shop/api", "--port", "8080")
    assert allowed.exit_code == 0 and "allowed by egress rule 0 of shop/web-egress" in allowed.stdout
    denied = run("check", EXAMPLE, "--from", "shop/api", "--to", "payments/payments-api", "--port", "8443")
    assert denied.exit_code == 1
    assert "needs namespace team=shop; namespace shop has no team label" in denied.stdout


def test_check_json_names_rules_on_both_sides():
    result = run("check", EXAMPLE, "--from", "payments/payments-api", "--to", "payments/postgres", "--port", "5432",
                 "-o", "json")
    doc = json.loads(result.stdout)
    assert doc["allowed"] is True
    assert doc["egress"]["allowed_by"] == [{"policy": "payments/api-to-db", "direction": "egress", "rule": 0}]
    assert doc["ingress"]["allowed_by"] == [{"policy": "payments/db-from-api", "direction": "ingress", "rule": 0}]


def test_console_script_reports_unknown_workload_without_traceback_and_exits_2():
    proc = subprocess.run(
        [sys.executable, "-m", "service", "check", EXAMPLE, "--from", "shop/wbe", "--to", "shop/api", "--port", "80"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert proc.returncode == 2
    assert "no workload or Service named 'shop/wbe'" in proc.stderr and "shop/web" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_path_is_bad_input():
    proc = subprocess.run([sys.executable, "-m", "service", "flows", "/nonexistent/x.yaml"], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 2 and "/nonexistent/x.yaml" in proc.stderr and "Traceback" not in proc.stderr


def test_flows_explain_names_the_rules_on_both_sides():
    doc = json.loads(run("flows", EXAMPLE, "-o", "json", "--explain").stdout)
    [flow] = [f for f in doc["flows"] if (f["from"], f["to"]) == ("shop/web", "shop/api")]
    assert flow["allowed_by"] == [{"ports": [[8080, 8080]], "egress": ["egress rule 0 of shop/web-egress"],
                                   "ingress": ["ingress rule 0 of shop/api-ingress"]}]


def test_a_directory_without_manifests_fails_closed(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "service", "flows", str(tmp_path), "-o", "json"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "no workloads" in proc.stderr and str(tmp_path) in proc.stderr and "Traceback" not in proc.stderr
