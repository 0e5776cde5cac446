"""examples/ci/review-pr.sh against the real API and a stand-in for the GitHub REST API, both on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.api_server import ApiServer
from tests.fakes.github_server import FakeGitHub, fake_github
from tests.service.test_api import POLICY

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "ci" / "review-pr.sh"

pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in ("bash", "git", "curl", "jq", "python3")),
                                reason="review-pr.sh needs bash, git, curl, jq and python3")


@pytest.fixture
def github() -> Iterator[str]:
    with fake_github() as url:
        yield url


def _run(repo: Path, api: ApiServer, github: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NETREASON_URL": api.base_url, "BASE_REF": "main", "MANIFEST_DIR": "k8s",
           "GITHUB_TOKEN": "gh-test", "GITHUB_REPOSITORY": "acme/shop", "PR_NUMBER": "5", "GITHUB_API_URL": github}
    return subprocess.run(["bash", str(SCRIPT)], cwd=repo, env=env, capture_output=True, text=True, timeout=120)


def test_the_ci_script_fails_a_breaking_change_and_posts_one_comment(
        app_repo: Path, api_server: ApiServer, github: str) -> None:
    repo = app_repo
    (repo / "k8s" / "policy.yaml").write_text(POLICY.replace("{app: web}", "{app: frontend}"))
    first = _run(repo, api_server, github)
    assert first.returncode == 1, first.stderr
    comment = (repo / "netreason-review.md").read_text()
    assert comment.startswith("<!-- netreason-review -->") and "breaks 1 dependency" in comment
    assert json.loads((repo / "netreason-review.sarif").read_text())["version"] == "2.1.0"
    posted = [c for c in FakeGitHub.calls if c[0] == "POST"]
    assert posted == [("POST", "/repos/acme/shop/issues/5/comments", {"body": comment})]
    # A second push updates the same comment instead of adding another.
    second = _run(repo, api_server, github)
    assert second.returncode == 1
    assert [c[:2] for c in FakeGitHub.calls if c[0] != "GET"][-1] == ("PATCH", "/repos/acme/shop/issues/comments/77")


def test_the_ci_script_passes_a_harmless_change(app_repo: Path, api_server: ApiServer, github: str) -> None:
    repo = app_repo
    (repo / "k8s" / "policy.yaml").write_text(POLICY + "# a comment only\n")
    result = _run(repo, api_server, github)
    assert result.returncode == 0, result.stderr
    assert "This change breaks no dependency" in (repo / "netreason-review.md").read_text()
