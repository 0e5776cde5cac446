"""A plan's output folder linted as a whole, and `lint --no-fixes` (findings without the converged fixes)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.shared import corpus_apps, require_shared

from .console import netreason


def _app(name: str) -> dict:
    require_shared()
    return next(a for a in corpus_apps() if a["name"] == name)


def test_lint_of_the_plan_folder_does_not_read_plan_json_as_a_manifest(tmp_path: Path) -> None:
    ob = _app("online-boutique")
    manifests = [m for m in ob["manifest_paths"] if m.endswith("kubernetes-manifests.yaml")]
    out = tmp_path / "rollout"
    assert netreason("plan", *manifests, "--deps", ob["deps_path"], "--out", str(out)).code == 0
    assert (out / "plan.json").is_file()
    done = netreason("lint", str(out), *manifests, "--deps", ob["deps_path"], "-o", "json")
    assert done.code == 0, done.stdout
    doc = json.loads(done.stdout)
    assert doc["findings"] == [] and doc["summary"]["dependencies_denied"] == 0
    # A manifest-looking JSON file beside it is still read: only netreason's own documents are skipped.
    (out / "extra.json").write_text('{"kind": "NetworkPolicy", "metadata": {"name": "x"}}')
    doc = json.loads(netreason("lint", str(out), *manifests, "--deps", ob["deps_path"], "-o", "json",
                               "--fail-on", "never").stdout)
    assert [f["file"] for f in doc["findings"] if f["rule"] == "invalid-object"] == [str(out / "extra.json")]


def _sock_shop() -> list[str]:
    shop = _app("sock-shop")
    return [*shop["manifest_paths"], "--deps", shop["deps_path"]]


def test_no_fixes_reports_the_same_findings_without_fixes() -> None:
    with_fixes = json.loads(netreason("lint", *_sock_shop(), "-o", "json", "--fail-on", "never").stdout)
    without = json.loads(netreason("lint", *_sock_shop(), "-o", "json", "--fail-on", "never", "--no-fixes").stdout)
    assert with_fixes["summary"]["fixes"] > 0 and with_fixes["fixes"]
    assert without["fixes"] == [] and without["summary"]["fixes"] == 0
    assert [(f["rule"], f["object"]) for f in without["findings"]] == [(f["rule"], f["object"])
                                                                       for f in with_fixes["findings"]]
    assert not any(f.get("fixes") for f in without["findings"])


def test_api_lint_without_fixes(api_server) -> None:  # type: ignore[no-untyped-def]
    shop = _app("sock-shop")
    files = [{"path": p, "content": Path(p).read_text()} for p in shop["manifest_paths"]]
    body = {"files": files, "deps": Path(shop["deps_path"]).read_text()}
    with httpx.Client(base_url=api_server.base_url, timeout=120) as client:
        full = client.post("/v1/lint", json=body).json()
        bare = client.post("/v1/lint", json={**body, "fixes": False}).json()
    assert full["summary"]["fixes"] > 0 and bare["summary"]["fixes"] == 0
    assert len(bare["findings"]) == len(full["findings"])
