"""Every renderer's output on the example shop, held byte for byte against `tests/golden/` (`--update-golden`).

The CLI renders analysis (text, Markdown, HTML, JSON; with and without a simulated model), lint (text, JSON,
SARIF, Markdown), flows (table, JSON, CSV, dot, summary), exposure, diff, plan and check; the API renders the
review (PR comment, HTML page) and the chat reply (Markdown, Slack blocks). Inputs are copies of
`examples/shop` as `shop/` and, with the payments policy fixed, `fixed/`, in a working directory of their
own, so every path in the outputs is relative and the same on every machine.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

import verifier
from service.cli import cli
from service.renderers.blocks import reply_blocks
from service.renderers.chat import render_reply_markdown
from service.settings import Settings
from tests.fakes.api_server import ApiServer, sqlite_url

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "shop"
BROKEN_PEER = "matchLabels: {team: shop}"
FIXED_PEER = "matchLabels: {kubernetes.io/metadata.name: shop}"
SIMULATED = "simulated:hallucinates"

CLI_CASES: dict[str, list[str]] = {
    **{f"analyze.{fmt}": ["analyze", "shop", "-o", fmt] for fmt in ("text", "markdown", "html", "json")},
    **{f"analyze-simulated.{fmt}": ["analyze", "shop", "--model", SIMULATED, "-o", fmt]
       for fmt in ("text", "markdown", "html", "json")},
    **{f"lint.{fmt}": ["lint", "shop", "-o", fmt, "--fail-on", "never"]
       for fmt in ("text", "json", "sarif", "markdown")},
    **{f"flows.{fmt}": ["flows", "shop", "-o", fmt] for fmt in ("table", "json", "csv", "dot", "summary")},
    **{f"exposure.{fmt}": ["flows", "shop", "--exposure", "-o", fmt] for fmt in ("table", "json")},
    **{f"diff.{fmt}": ["diff", "shop", "fixed", "-o", fmt, "--fail-on", "never"]
       for fmt in ("text", "json", "markdown", "sarif")},
    **{f"plan.{fmt}": ["plan", "shop", "-o", fmt] for fmt in ("markdown", "json")},
    **{f"check.{fmt}": ["check", "shop", "--from", "shop/api", "--to", "payments/payments-api", "--port", "8443",
                        "-o", fmt] for fmt in ("text", "json")},
}


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`shop` (the example) and `fixed` (its payments policy repaired) side by side."""
    root = tmp_path_factory.mktemp("golden")
    shutil.copytree(EXAMPLE, root / "shop")
    shutil.copytree(EXAMPLE, root / "fixed")
    policy = root / "fixed" / "policies" / "payments.yaml"
    policy.write_text(policy.read_text().replace(BROKEN_PEER, FIXED_PEER))
    return root


@pytest.mark.parametrize("name", sorted(CLI_CASES))
def test_cli_output_matches_its_golden_file(name: str, work: Path, golden: Callable[[str, str], None],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(work)
    result = CliRunner().invoke(cli, CLI_CASES[name], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    golden(f"cli/{name}", result.stdout.replace(str(work), "/WORK"))  # SARIF names the checkout's directory


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    return Settings(database_url=sqlite_url(tmp_path), api_tokens=(), model=None, allowed_models=(SIMULATED,))


@pytest.fixture
def client(api_server: ApiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server.base_url, timeout=60) as c:
        yield c


def _snapshot(work: Path, directory: str) -> dict[str, object]:
    texts: dict[str, str] = {}
    verifier.load_bundle([str(work / directory)], texts=texts)
    files = [{"path": str(Path(name).relative_to(work)), "content": text} for name, text in texts.items()]
    return {"files": files, "deps": (work / directory / "netreason.deps.yaml").read_text(), "label": directory}


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_review_renderings_match_their_golden_files(fmt: str, work: Path, client: httpx.Client,
                                                   golden: Callable[[str, str], None]) -> None:
    body = {"base": _snapshot(work, "shop"), "head": _snapshot(work, "fixed"), "model": SIMULATED,
            "save": False, "format": fmt}
    response = client.post("/v1/review", json=body)
    assert response.status_code == 200, response.text
    golden(f"api/review.{fmt}", response.text)


def test_chat_reply_renderings_match_their_golden_files(work: Path, client: httpx.Client,
                                                       golden: Callable[[str, str], None]) -> None:
    shop = _snapshot(work, "shop")
    manifests = "\n---\n".join(f["content"] for f in shop["files"])  # type: ignore[index, union-attr]
    response = client.post("/v1/chat", json={"thread_id": "golden-thread", "text": "what breaks?",
                                            "manifests": manifests, "deps": shop["deps"], "model": SIMULATED})
    assert response.status_code == 200, response.text
    # The stored turn's id and its signed link are new on every run: the renderers get fixed ones.
    reply = {**response.json(), "analysis_id": "a-golden", "report_url": "https://netreason.example/r/a-golden"}
    golden("api/chat.markdown", render_reply_markdown(reply))
    golden("api/chat.blocks.json", json.dumps(reply_blocks(reply), indent=1, ensure_ascii=False) + "\n")
