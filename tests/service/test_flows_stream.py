"""`flows -o csv|json` give the same text as rendering the whole document, which `service.flowstream` streams."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import verifier
from benchmarks.gen_cluster import generate
from benchmarks.tiers import TierSpec
from service.cli import cli
from service.commands.flows_cmd import SCREENFUL
from service.renderers.flows import render_csv
from verifier.engine.export import flows_json

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "shop"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated 200-workload cluster with a few hundred open pairs."""
    path = tmp_path_factory.mktemp("big") / "all.yaml"
    docs = generate(TierSpec("FS200", pods=600, namespaces=20, policies=300, workloads=200)).all_docs()
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("which", ["shop", "big"])
def test_streamed_csv_and_json_are_the_whole_documents_text(which: str, big: Path) -> None:
    path = str(SHOP if which == "shop" else big)
    doc = flows_json(verifier.analyze(verifier.load_bundle([path])))
    assert doc["flows"]
    import io

    from service import flowstream

    buf = io.StringIO()
    flowstream.write_csv(verifier.analyze(verifier.load_bundle([path])), buf)
    assert buf.getvalue() == render_csv(doc)
    buf = io.StringIO()
    flowstream.write_json(verifier.analyze(verifier.load_bundle([path])), buf)
    assert buf.getvalue() == json.dumps(doc, indent=2)
    csv_out = run("flows", path, "-o", "csv")
    assert csv_out.exit_code == 0 and csv_out.stdout == render_csv(doc)
    json_out = run("flows", path, "-o", "json")
    assert json_out.exit_code == 0 and json_out.stdout == json.dumps(doc, indent=2) + "\n"


def test_streamed_json_of_a_bundle_without_flows_is_valid() -> None:
    text = ("apiVersion: v1\nkind: Pod\nmetadata: {name: lone, namespace: a, labels: {app: lone}}\n"
            "spec: {containers: [{name: c, image: i}]}\n---\n"
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: a}\n"
            "spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n")
    result = CliRunner().invoke(cli, ["flows", "-", "-o", "json"], input=text, catch_exceptions=False)
    assert json.loads(result.stdout)["flows"] == []


@pytest.mark.parametrize("which", ["shop", "big"])
def test_streamed_explain_json_is_the_whole_documents_text(which: str, big: Path) -> None:
    path = str(SHOP if which == "shop" else big)
    doc = flows_json(verifier.analyze(verifier.load_bundle([path])), explain=True)
    assert all(f["allowed_by"] for f in doc["flows"])
    result = run("flows", path, "-o", "json", "--explain")
    assert result.exit_code == 0 and result.stdout == json.dumps(doc, indent=2) + "\n"


def test_streamed_csv_to_an_output_file(big: Path, tmp_path: Path) -> None:
    out = tmp_path / "flows.csv"
    result = run("flows", str(big), "-o", "csv", "--output-file", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text() == render_csv(flows_json(verifier.analyze(verifier.load_bundle([str(big)]))))


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("│")]  # the header uses another border


def test_table_shows_a_screenful_and_says_how_many_were_left_out(big: Path) -> None:
    conn = verifier.analyze(verifier.load_bundle([str(big)]))
    pairs = {(f["from"], f["to"]) for f in flows_json(conn)["flows"]}
    assert len(pairs) > SCREENFUL
    result = run("flows", str(big))
    assert result.exit_code == 0
    rows = table_rows(result.stdout)
    assert len(rows) == SCREENFUL
    assert [tuple(c.strip() for c in r.split("│")[1:3]) for r in rows] == sorted(pairs)[:SCREENFUL]
    assert f"{len(pairs) - SCREENFUL:,} more workload pair(s) not shown (--limit {SCREENFUL})" in result.stdout
    assert "-o csv" in result.stdout and f"all {len(pairs):,}" in result.stdout


def test_table_limit_and_limit_zero(big: Path) -> None:
    three = run("flows", str(big), "--limit", "3")
    assert three.exit_code == 0 and len(table_rows(three.stdout)) == 3 and "not shown (--limit 3)" in three.stdout
    everything = run("flows", str(big), "--limit", "0")
    pairs = {(f["from"], f["to"]) for f in flows_json(verifier.analyze(verifier.load_bundle([str(big)])))["flows"]}
    # Every pair, and every row of outside traffic (outside:... peers) after them.
    workload_rows = [r for r in table_rows(everything.stdout) if "outside:" not in r]
    assert len(workload_rows) == len(pairs) and "not shown" not in everything.stdout


def test_small_table_is_printed_whole() -> None:
    result = run("flows", str(SHOP))
    assert result.exit_code == 0 and "not shown" not in result.stdout and len([r for r in table_rows(result.stdout)
                                                                               if "outside:" not in r]) == 12
