"""The report page's structure without a browser: the namespace-level map of a large bundle, the three
model states, escaping, and documents that predate the map. (`test_report_browser.py` loads pages in Chromium.)"""

from __future__ import annotations

import copy
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from service.cli import cli
from service.renderers.report import render_report
from service.renderers.report.netmap import MAX_POD_NODES
from tests.browser import Dom
from tests.shared import ROOT

EXAMPLE = str(ROOT / "examples" / "shop")
HOSTILE = "<img src=x onerror=alert(1)>&'\""


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return result.stdout


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A generated bundle of 60 workloads in 6 namespaces, with cross-namespace dependencies declared."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from benchmarks.gen_cluster import generate, write_cluster
    from benchmarks.tiers import TierSpec

    out = tmp_path_factory.mktemp("large")
    write_cluster(generate(TierSpec("report", pods=150, namespaces=6, policies=30, workloads=60), seed=5), out,
                  formats=("yaml",))
    flows = json.loads(_run("flows", str(out / "yaml"), "-o", "json"))
    served = [w for w in flows["workloads"] if w["ports"]]
    deps = [{"from": a["id"], "to": b["id"], "port": b["ports"][0]["port"], "protocol": b["ports"][0]["protocol"]}
            for a, b in zip(served, served[7:] + served[:7]) if a["namespace"] != b["namespace"]][:12]
    deps_file = out / "deps.yaml"
    deps_file.write_text(yaml.safe_dump(deps))
    return out / "yaml", deps_file


def test_a_large_bundle_gets_a_namespace_map_and_one_namespace_in_detail(large: tuple[Path, Path]) -> None:
    manifests, deps = large
    doc = json.loads(_run("analyze", str(manifests), "--deps", str(deps), "-o", "json"))
    gt = doc["ground_truth"]
    assert len(gt["graph"]["workloads"]) > MAX_POD_NODES and gt["dependencies_broken"]
    dom = Dom(render_report(doc))
    namespaces = {w["namespace"] for w in gt["graph"]["workloads"]}
    assert {a["data-namespace"] for a in dom.having("g", "ns-node")} == namespaces
    broken = dom.having("path", "broken")
    ns_broken = [a for a in broken if "data-count" in a]
    assert sum(int(a["data-count"]) for a in ns_broken) == len(gt["dependencies_broken"])
    ns_of = {w["id"]: w["namespace"] for w in gt["graph"]["workloads"]}
    assert Counter((a["data-from"], a["data-to"]) for a in ns_broken for _ in range(int(a["data-count"]))) == \
        Counter((ns_of[d["from"]], ns_of[d["to"]]) for d in gt["dependencies_broken"])
    # The detail map: every workload of one namespace, and its broken dependencies inside that namespace.
    detail = {a["data-id"] for a in dom.having("g", "workload")}
    (chosen,) = {ns_of[w] for w in detail}
    assert detail == {w for w, ns in ns_of.items() if ns == chosen}
    assert dom.having("figure", data_map="namespaces") and dom.having("figure", data_map="namespace-detail")
    assert len(dom.having("g", "outside")) == 2  # outside the cluster is a node of both maps


def test_the_namespace_in_detail_can_be_chosen(large: tuple[Path, Path]) -> None:
    manifests, deps = large
    doc = json.loads(_run("analyze", str(manifests), "--deps", str(deps), "-o", "json"))
    last = sorted({w["namespace"] for w in doc["ground_truth"]["graph"]["workloads"]})[-1]
    dom = Dom(render_report(doc, focus=last))
    assert {a["data-id"].split("/")[0] for a in dom.having("g", "workload")} == {last}
    # The same choice through the command line; an unknown namespace is a usage error naming the known ones.
    page = _run("analyze", str(manifests), "--deps", str(deps), "-o", "html", "--map-namespace", last)
    assert {a["data-id"].split("/")[0] for a in Dom(page).having("g", "workload")} == {last}
    default = Dom(_run("analyze", str(manifests), "--deps", str(deps), "-o", "html"))
    assert {a["data-id"].split("/")[0] for a in default.having("g", "workload")} != {last} or last == _most_broken(doc)
    bad = CliRunner().invoke(cli, ["analyze", str(manifests), "-o", "html", "--map-namespace", "nope"])
    assert bad.exit_code == 2 and "nope" in bad.output and last in bad.output


def _most_broken(doc: dict[str, Any]) -> str:
    from service.renderers.report.netmap import MapFacts, choose_namespace

    return choose_namespace(MapFacts.of(doc["ground_truth"]))


def test_the_api_details_the_namespace_the_request_names(large: tuple[Path, Path], api_server: Any) -> None:
    import httpx

    manifests, deps = large
    body = {"files": [{"path": p.name, "content": p.read_text()} for p in sorted(manifests.rglob("*.yaml"))],
            "deps": deps.read_text(), "format": "html", "save": False}
    with httpx.Client(base_url=api_server.base_url, timeout=120) as client:
        doc = client.post("/v1/analyze", json={**body, "format": "json"}).json()
        last = sorted({w["namespace"] for w in doc["ground_truth"]["graph"]["workloads"]})[-1]
        page = client.post("/v1/analyze", json={**body, "map_namespace": last})
    assert page.status_code == 200, page.text
    assert {a["data-id"].split("/")[0] for a in Dom(page.text).having("g", "workload")} == {last}


def _example_doc() -> dict[str, Any]:
    return json.loads(_run("analyze", EXAMPLE, "-o", "json"))


def _with_model(doc: dict[str, Any], **model: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    doc["model"] = {"name": "openai:gpt-4.1-mini", "prompt": "flows@1", "simulated": False, "summary": None,
                    "claims": [], "error": None, "error_kind": None, **model}
    return doc


def test_no_model_means_no_model_column() -> None:
    page = render_report(_example_doc())
    dom = Dom(page)
    assert not dom.having("div", "with-model") and not dom.having("tr", "claim") and not dom.having("p", "failed")
    assert dom.having("div", "answer", data_model_state="absent") and "No model was asked" in page


def test_a_failed_model_is_one_line_and_the_truth_takes_the_width() -> None:
    doc = _with_model(_example_doc(), error="Incorrect API key provided", error_kind="ProviderAuthError")
    dom = Dom(render_report(doc))
    assert len(dom.having("p", "failed")) == 1 and not dom.having("div", "with-model")
    assert dom.having("div", "answer", data_model_state="failed") and not dom.having("tr", "claim")


def test_every_text_is_escaped_in_the_page_and_the_map() -> None:
    doc = _example_doc()
    claim = {"type": "flow", "from": HOSTILE, "to": "shop/api", "port": 80, "protocol": "TCP", "allowed": True}
    doc = _with_model(doc, summary=HOSTILE,
                      claims=[{"claim": claim, "verdict": "unverifiable", "explanation": HOSTILE}])
    doc["missed"] = []
    gt = doc["ground_truth"]
    gt["graph"]["workloads"][0]["name"] = HOSTILE
    gt["graph"]["workloads"][0]["kind"] = HOSTILE
    gt["findings"][0]["message"] = gt["findings"][0]["fix"] = HOSTILE
    gt["dependencies"][0]["explanation"] = f"DENIED\n  {HOSTILE}"
    gt["dependencies_broken"][0]["source"] = HOSTILE
    page = render_report(doc)
    dom = Dom(page)
    assert HOSTILE not in page and not dom.having("img")
    assert not [a for _t, a in dom.elements if any(k.startswith("on") for k in a)]
    assert page.count("&lt;img src=x onerror=alert(1)&gt;&amp;&#x27;&quot;") >= 7


def test_a_document_stored_before_the_map_still_renders() -> None:
    doc = _example_doc()
    for key in ("graph", "coverage"):
        doc["ground_truth"].pop(key)
    page = render_report(doc)
    assert "nothing to draw" in page and "Dependencies" in page


def test_an_unknown_document_kind_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"netreason.nothing/v1"):
        render_report({"schema": "netreason.nothing/v1"})
