"""`netreason analyze|lint|diff` and POST /v1/analyze|lint|diff give the same documents, in every shared format.

Both build one `service.truth.Truth` per side through `compute_truth` and render it with `service.outputs`;
this test holds them to it over real HTTP, with the files named as the CLI names them. Timings are removed
before comparing; SARIF from the API leaves out the server's own directory (`originalUriBaseIds`).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

import verifier
from service.cli import cli
from service.settings import Settings
from tests.fakes.api_server import ApiServer, sqlite_url

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "shop"
BROKEN_PEER = "matchLabels: {team: shop}"
FIXED_PEER = "matchLabels: {kubernetes.io/metadata.name: shop}"
TIMING_KEYS = {"seconds", "latency_ms"}


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`shop` (the example) and `fixed` (its payments policy repaired) side by side, as the working directory."""
    shutil.copytree(EXAMPLE, tmp_path / "shop")
    shutil.copytree(EXAMPLE, tmp_path / "fixed")
    policy = tmp_path / "fixed" / "policies" / "payments.yaml"
    policy.write_text(policy.read_text().replace(BROKEN_PEER, FIXED_PEER))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    """Requests may name the simulated models: they are on the allow-list."""
    return Settings(database_url=sqlite_url(tmp_path), api_tokens=(), model=None,
                    allowed_models=("simulated:oracle", "simulated:hallucinates"))


@pytest.fixture
def client(api_server: ApiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server.base_url, timeout=60) as c:
        yield c


def snapshot(directory: str) -> dict[str, Any]:
    """The request form of what `netreason CMD DIR` reads: its files by the names the CLI gives them, its deps."""
    texts: dict[str, str] = {}
    verifier.load_bundle([directory], texts=texts)
    deps = Path(directory, "netreason.deps.yaml")
    return {"files": [{"path": name, "content": text} for name, text in texts.items()],
            "deps": deps.read_text(), "deps_name": str(deps), "label": directory}


def without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def cli_output(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def same_document(cli_text: str, response: httpx.Response, fmt: str) -> None:
    assert response.status_code == 200, response.text
    if fmt in ("json", "sarif"):
        mine, theirs = json.loads(cli_text), response.json()
        if fmt == "sarif":
            for run in mine["runs"]:
                run.pop("originalUriBaseIds", None)
        assert without_timings(theirs) == without_timings(mine)
    else:
        strip = lambda t: re.sub(r"\d+(\.\d+)? ?(ms|s)\b", "T", t).rstrip("\n")  # noqa: E731
        assert strip(response.text) == strip(cli_text)


@pytest.mark.parametrize("fmt", ["json", "text", "markdown", "sarif"])
def test_lint_is_the_same_from_the_cli_and_the_api(work: Path, client: httpx.Client, fmt: str) -> None:
    text = cli_output("lint", "shop", "-o", fmt, "--fail-on", "never")
    same_document(text, client.post("/v1/lint", json={**snapshot("shop"), "format": fmt}), fmt)


@pytest.mark.parametrize("fmt", ["json", "text", "markdown", "sarif"])
def test_diff_is_the_same_from_the_cli_and_the_api(work: Path, client: httpx.Client, fmt: str) -> None:
    text = cli_output("diff", "shop", "fixed", "-o", fmt, "--fail-on", "never")
    body = {"base": snapshot("shop"), "head": snapshot("fixed"), "format": fmt}
    same_document(text, client.post("/v1/diff", json=body), fmt)
    if fmt == "json":
        doc = json.loads(text)
        assert doc["old"] == "shop" and doc["new"] == "fixed"
        assert [(d["from"], d["to"]) for d in doc["dependencies_fixed"]] == [("shop/api", "payments/payments-api")]


def test_review_carries_the_same_diff(work: Path, client: httpx.Client) -> None:
    text = cli_output("diff", "shop", "fixed", "-o", "json")
    review = client.post("/v1/review", json={"base": snapshot("shop"), "head": snapshot("fixed"), "save": False})
    assert review.status_code == 200, review.text
    assert without_timings(review.json()["diff"]) == without_timings(json.loads(text))


@pytest.mark.parametrize("model", [None, "simulated:oracle", "simulated:hallucinates"])
@pytest.mark.parametrize("fmt", ["json", "markdown", "html"])
def test_analyze_is_the_same_from_the_cli_and_the_api(work: Path, client: httpx.Client, fmt: str,
                                                      model: str | None) -> None:
    args = ["analyze", "shop", "-o", fmt, *(["--model", model] if model else [])]
    text = cli_output(*args)
    body = {**snapshot("shop"), "format": fmt, "save": False, **({"model": model} if model else {})}
    response = client.post("/v1/analyze", json=body)
    same_document(text, response, fmt)
    if fmt == "json" and model:
        doc = response.json()
        assert doc["model"]["name"] == model and doc["model"]["simulated"] is True
        assert doc["model"]["error"] is None and doc["model"]["claims"]


def test_analysis_json_has_every_key_lint_json_has(work: Path) -> None:
    analysis = json.loads(cli_output("analyze", "shop", "-o", "json"))["ground_truth"]
    lint = json.loads(cli_output("lint", "shop", "-o", "json", "--fail-on", "never"))
    assert analysis["findings"] == lint["findings"]
    assert analysis["coverage"] == lint["coverage"]
    assert analysis["findings_summary"] == lint["summary"]
    lint_dep_keys = set(lint["dependencies"][0])
    assert all(lint_dep_keys <= set(d) for d in analysis["dependencies"])
