"""A git repository holding the test app, as the CI tests (the GitHub Action, examples/ci/review-pr.sh) need it.

`app_repo` (a fixture) is a repository on branch `main` whose one commit holds the app of
`tests/service/test_api.py` under `k8s/` (`app.yaml`, `policy.yaml`, `netreason.deps.yaml`); a test then
changes `k8s/policy.yaml` as a pull request would. `git` runs a git command in it with a fixed identity.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.service.test_api import APP, APP_DEPS, POLICY


def git(repo: Path, *args: str) -> str:
    """`git ARGS` in `repo` (committer t <t@example.com>); its stdout. Raises on failure."""
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo,
                          check=True, capture_output=True, text=True)
    return done.stdout


def make_app_repo(path: Path) -> Path:
    """A new repository at `path`: branch `main`, one commit with the app under `k8s/`."""
    (path / "k8s").mkdir(parents=True)
    (path / "k8s" / "app.yaml").write_text(APP)
    (path / "k8s" / "policy.yaml").write_text(POLICY)
    (path / "k8s" / "netreason.deps.yaml").write_text(APP_DEPS)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "base")
    return path


@pytest.fixture
def app_repo(tmp_path: Path) -> Path:
    """`make_app_repo` at `tmp_path / "repo"`."""
    return make_app_repo(tmp_path / "repo")
