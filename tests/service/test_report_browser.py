"""The HTML report in a real browser: every corpus app's analyze report (no model, a simulated model, a
failing model), and its review and chat pages from the real HTTP API, loaded in headless Chromium.

Checks the DOM Chromium built: a map node per workload, an edge per broken dependency, a mark per DNS
gap, a verdict on every claim row, headings in order, table headers, and no script. Screenshots (and
the pages) are kept under `reports/` for a reviewer; the CI keeps that folder as an artifact.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from service.cli import cli
from tests.browser import Dom, load, print_pdf, require_chromium
from service.settings import Settings
from tests.fakes.api_server import ApiServer, sqlite_url
from tests.fakes.provider_server import FakeProviderServer, answer, unauthorized
from tests.shared import ROOT, corpus_apps

APPS = corpus_apps()
REPORTS = ROOT / "reports"
SIMULATED = "simulated:hallucinates"
FAKE_MODEL = "openai:gpt-4.1-mini"
HOSTILE = ("<script>document.body.setAttribute('data-pwned','script')</script>"
           "<img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">")
VERDICTS = {"confirmed", "contradicted", "unverifiable", "unparseable"}


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    """Requests may name the fake-provider model: it is on the allow-list."""
    return Settings(database_url=sqlite_url(tmp_path), api_tokens=(), model=None, allowed_models=(FAKE_MODEL,))


@pytest.fixture(scope="module")
def chromium() -> str:
    return require_chromium()


def _app_args(app: dict[str, Any]) -> list[str]:
    return [*app["manifest_paths"], "--deps", app["deps_path"], "--namespace", app["default_namespace"]]


def _analyze(app: dict[str, Any], *extra: str, code: int = 0) -> str:
    """The report on stdout; `code` 3 when the model fails (the ground truth is still printed)."""
    result = CliRunner().invoke(cli, ["analyze", *_app_args(app), *extra], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.stdout


def _open(chromium: str, name: str, page_html: str) -> tuple[Dom, Path]:
    REPORTS.mkdir(exist_ok=True)
    page = REPORTS / f"{name}.html"
    page.write_text(page_html, encoding="utf-8")
    loaded = load(chromium, page, REPORTS / f"{name}.png")
    return Dom(loaded.dom), loaded.screenshot


def assert_map_matches_truth(dom: Dom, gt: dict[str, Any]) -> None:
    """A node per workload, an edge per broken dependency, a DNS mark per DNS gap, the outside node."""
    nodes = {a["data-id"] for a in dom.having("g", "workload")}
    assert nodes == {w["id"] for w in gt["graph"]["workloads"]}
    broken = Counter((a["data-from"], a["data-to"]) for a in dom.having("path", "broken"))
    assert broken == Counter((d["from"], d["to"]) for d in gt["dependencies_broken"])
    assert {a["data-id"] for a in dom.having("g", "workload", data_no_dns="yes")} == set(gt["dns_egress_missing"])
    assert dom.having("g", "outside")
    pairs = {(a["data-from"], a["data-to"]) for a in dom.having("line", "allowed")}
    drawn = {tuple(sorted(p)) for p in pairs}
    assert drawn == {tuple(sorted((e["from"], e["to"]))) for e in gt["graph"]["edges"]}


def assert_well_formed(dom: Dom) -> None:
    """Headings in order, every table with a header row, no script and nothing a script did."""
    assert dom.headings[0] == 1 and dom.headings.count(1) == 1
    assert all(b <= a + 1 for a, b in zip(dom.headings, dom.headings[1:])), dom.headings
    assert len(dom.having("table")) == len(dom.having("thead"))
    assert not dom.having("script") and not dom.having("img") and not dom.having("iframe")
    assert not [a for _t, a in dom.elements if any(k.startswith("on") for k in a)]
    assert not [a for _t, a in dom.elements if "data-pwned" in a]
    assert not [a for _t, a in dom.elements for k in ("href", "src") if a.get(k, "").startswith(("http", "//"))]


def assert_claims_have_verdicts(dom: Dom, doc: dict[str, Any]) -> None:
    rows = dom.having("tr", "claim")
    assert [r["data-verdict"] for r in rows] == [c["verdict"] for c in doc["model"]["claims"]]
    assert all(r["data-verdict"] in VERDICTS for r in rows)
    # The word beside the colour: each verdict appears as text as often as it has rows (and the tallies).
    text = "".join(dom.text)
    for verdict, n in Counter(r["data-verdict"] for r in rows).items():
        assert text.count(f"{verdict}") >= n


@pytest.mark.parametrize("app", APPS, ids=[a["name"] for a in APPS])
def test_analyze_reports_of_every_corpus_app_render_in_chromium(
        app: dict[str, Any], chromium: str, fake_provider_env: FakeProviderServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NETREASON_MODEL", raising=False)
    doc = json.loads(_analyze(app, "-o", "json", "-m", SIMULATED))
    gt = doc["ground_truth"]

    dom, _shot = _open(chromium, f"{app['name']}-no-model", _analyze(app, "-o", "html"))
    assert_map_matches_truth(dom, gt)
    assert_well_formed(dom)
    assert not dom.having(None, data_model_state="answered") and not dom.having("tr", "claim")
    assert dom.having("div", "answer", data_model_state="absent")

    dom, _shot = _open(chromium, f"{app['name']}-simulated", _analyze(app, "-o", "html", "-m", SIMULATED))
    assert_map_matches_truth(dom, gt)
    assert_well_formed(dom)
    assert_claims_have_verdicts(dom, doc)
    assert dom.having("div", "with-model") and dom.having("blockquote", "unchecked", data_unchecked="yes")
    assert "not a real model" in "".join(dom.text)

    fake_provider_env.set_responder(lambda request: unauthorized())
    dom, _shot = _open(chromium, f"{app['name']}-failing-model", _analyze(app, "-o", "html", "-m", FAKE_MODEL, code=3))
    assert_map_matches_truth(dom, gt)
    assert_well_formed(dom)
    failed = dom.having("p", "failed", data_model_state="failed")
    assert len(failed) == 1 and not dom.having("div", "with-model") and not dom.having("tr", "claim")
    assert "failed (Provider" in "".join(dom.text) and "ground truth below stands" in "".join(dom.text)


# --- review and chat pages over the real HTTP API ------------------------------------------------------------

def _files(app: dict[str, Any]) -> list[dict[str, str]]:
    return [{"path": Path(p).name, "content": Path(p).read_text()} for p in app["manifest_paths"]]


def _deny_egress(namespace: str) -> dict[str, str]:
    """A change that breaks things: deny all egress in the app's namespace (DNS included)."""
    return {"path": "deny-egress.yaml", "content": (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny-all-egress\n"
        f"  namespace: {namespace}\nspec:\n  podSelector: {{}}\n  policyTypes: [Egress]\n")}


def _scripted_answer(gt: dict[str, Any]) -> dict[str, Any]:
    """An answer with a claim of each verdict and hostile free text."""
    claims: list[dict[str, Any]] = []
    for d in gt["dependencies"][:2]:
        claims.append({"type": "flow", "from": d["from"], "to": d["to"], "port": d["port"],
                       "protocol": d["protocol"], "allowed": True})
    claims.append({"type": "flow", "from": "ghost/ghost", "to": "ghost/other", "port": 80, "protocol": "TCP",
                   "allowed": True})
    return {"summary": f"Everything is fine. {HOSTILE}", "claims": claims}


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:  # noqa: F811
    """The fake-provider model allowed, no auth, a fresh SQLite file."""
    return Settings(database_url=sqlite_url(tmp_path), api_tokens=(), model=None, allowed_models=(FAKE_MODEL,))


@pytest.fixture
def client(api_server: ApiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server.base_url, timeout=60) as c:
        yield c


@pytest.mark.parametrize("app", APPS, ids=[a["name"] for a in APPS])
def test_review_and_chat_reports_of_every_corpus_app_render_in_chromium(
        app: dict[str, Any], chromium: str, fake_provider_env: FakeProviderServer, client: httpx.Client) -> None:
    deps = Path(app["deps_path"]).read_text()
    ns = app["default_namespace"]
    base = {"files": _files(app), "namespace": ns}
    head = {"files": [*_files(app), _deny_egress(ns)], "namespace": ns}
    truth = client.post("/v1/analyze", json={**head, "deps": deps}).json()["ground_truth"]
    fake_provider_env.set_responder(lambda request: answer(_scripted_answer(truth)))

    review = client.post("/v1/review", json={"base": base, "head": head, "deps": deps, "model": FAKE_MODEL,
                                             "format": "html", "save": True})
    assert review.status_code == 200, review.text
    dom, _ = _open(chromium, f"{app['name']}-review", review.text)
    assert_map_matches_truth(dom, truth)
    assert_well_formed(dom)
    claims = _scripted_answer(truth)["claims"]
    assert len(dom.having("tr", "claim")) == len(claims) and {r["data-verdict"]
                                                              for r in dom.having("tr", "claim")} <= VERDICTS
    assert HOSTILE.replace("'", "\"") not in review.text and "Everything is fine. <script>" in "".join(dom.text)

    chat = client.post("/v1/chat", json={"text": f"can anything in {ns} reach the outside?",
                                         "manifests": "\n---\n".join(f["content"] for f in head["files"]),
                                         "deps": deps, "namespace": ns, "model": FAKE_MODEL})
    assert chat.status_code == 200, chat.text
    page = client.get(_local(chat.json()["report_url"]))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    dom, _ = _open(chromium, f"{app['name']}-chat", page.text)
    assert_map_matches_truth(dom, truth)
    assert_well_formed(dom)
    assert {r["data-verdict"] for r in dom.having("tr", "claim")} <= VERDICTS


def _local(url: str) -> str:
    """The path and query of a report link (the server's public URL may differ from the test's)."""
    return "/" + url.split("://", 1)[-1].split("/", 1)[1] if "://" in url else url


def test_the_report_prints_to_pdf_with_its_print_style(chromium: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NETREASON_MODEL", raising=False)
    app = next(a for a in APPS if a["name"] == "sock-shop")
    REPORTS.mkdir(exist_ok=True)
    page = REPORTS / "sock-shop-print.html"
    page.write_text(_analyze(app, "-o", "html", "-m", SIMULATED), encoding="utf-8")
    pdf = print_pdf(chromium, page, REPORTS / "sock-shop-print.pdf")
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 2


# --- plan pages ----------------------------------------------------------------------------------------------

PLAN_CASES = {  # app: (manifest files, extra arguments), as in test_plan_cli's done-when cases
    "online-boutique": ("kubernetes-manifests.yaml", []),  # manifests only
    "sock-shop": ("", ["--replace"]),  # its own policies replaced
}


@pytest.mark.parametrize("name", sorted(PLAN_CASES))
def test_plan_reports_render_in_chromium_with_every_step_and_the_map_after_the_rollout(
        name: str, chromium: str, tmp_path: Path) -> None:
    app = next(a for a in APPS if a["name"] == name)
    only, extra = PLAN_CASES[name]
    manifests = [m for m in app["manifest_paths"] if m.endswith(only)]
    inputs = [*manifests, "--deps", app["deps_path"], "--namespace", app["default_namespace"]]
    args = ["plan", *inputs, *extra]
    runner = CliRunner()
    doc = json.loads(runner.invoke(cli, [*args, "-o", "json"], catch_exceptions=False).stdout)
    result = runner.invoke(cli, [*args, "-o", "html"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    after = json.loads(runner.invoke(cli, ["analyze", *inputs, "-o", "json"],
                                     catch_exceptions=False).stdout)["ground_truth"]
    dom, shot = _open(chromium, f"{name}-plan", result.stdout)
    assert_well_formed(dom)
    assert shot.stat().st_size > 0
    # The map is drawn after every step: the same workloads, every one isolated both ways, none broken.
    nodes = dom.having("g", "workload")
    assert {a["data-id"] for a in nodes} == {w["id"] for w in after["graph"]["workloads"]}
    assert all("isolated" in a["class"].split() for a in nodes)
    assert not dom.having("path", "broken") and not dom.having("g", "workload", data_no_dns="yes")
    # One section per step with its verdict as a word; each policy printed as YAML to copy.
    checks = dom.having("p", "step-check")
    assert [c["data-verified"] for c in checks] == ["yes" if s["check"]["verified"] else "no" for s in doc["steps"]]
    text = "".join(dom.text)
    assert text.count("✓ verified") >= len(doc["steps"]) + 1
    for step in doc["steps"]:
        assert dom.having("section", None, id=f"step-{step['step']}")
        assert f"kubectl apply -f DIR/{step['directory']}/" in text
        for manifest in step["policies"]:
            assert f"name: {manifest['metadata']['name']}" in text
