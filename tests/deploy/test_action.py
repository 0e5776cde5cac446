"""The composite GitHub Action (action.yml), its diff step run here as a runner would run it: against a git
repository whose checkout lacks the base branch, with a stand-in GitHub REST API on 127.0.0.1.

The install step (pip install of this source) is not run: the diff step is given this test run's own
netreason in its place. The SARIF upload step is GitHub's own action; the test checks it is wired to the
diff step's output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.fakes.github_server import FakeGitHub, fake_github
from tests.fakes.app_repo import git, make_app_repo
from tests.service.test_api import POLICY

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())

pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in ("bash", "git")), reason="needs bash and git")


@pytest.fixture
def github() -> Iterator[str]:
    # 150 other comments first (ids 0-149): the netreason comment is found past the first page.
    with fake_github([{"id": i, "body": f"looks good {i}"} for i in range(150)]) as url:
        yield url


def _pull_request(tmp_path: Path, policy: str) -> Path:
    """A checkout of a PR branch as actions/checkout leaves it: one commit deep, no origin/main."""
    origin = make_app_repo(tmp_path / "origin")
    git(origin, "checkout", "-q", "-b", "pr")
    (origin / "k8s" / "policy.yaml").write_text(policy)
    git(origin, "commit", "-q", "-am", "change")
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "pr", f"file://{origin}", str(work)],
                   check=True, capture_output=True)
    return work


def _expand(value: str, inputs: dict[str, str], runner_temp: Path) -> str:
    context = {"github.action_path": str(ROOT), "runner.temp": str(runner_temp)}
    return re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}",
                  lambda m: inputs[m.group(1)[7:]] if m.group(1).startswith("inputs.") else context[m.group(1)], value)


def _run_diff_step(work: Path, github: str, tmp_path: Path, **given: str) -> tuple[int, dict[str, str], str]:
    """The action's diff step, its env expanded from the inputs (defaults from action.yml) as Actions would."""
    step = next(s for s in ACTION["runs"]["steps"] if s.get("id") == "diff")
    inputs = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    inputs.update({"github-token": "gh-test", **{k.replace("_", "-"): v for k, v in given.items()}})
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir(exist_ok=True)
    venv = runner_temp / "netreason-venv"
    if not venv.exists():
        venv.symlink_to(Path(sys.prefix))  # stands in for the install step's virtualenv
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 5}}))
    outputs = tmp_path / "outputs.txt"
    outputs.write_text("")
    env = {**os.environ, "RUNNER_TEMP": str(runner_temp), "GITHUB_EVENT_PATH": str(event),
           "GITHUB_OUTPUT": str(outputs), "GITHUB_REPOSITORY": "acme/shop", "GITHUB_API_URL": github,
           "GITHUB_BASE_REF": "main", "GITHUB_SERVER_URL": "https://github.example", "GITHUB_RUN_ID": "42"}
    env.update({k: _expand(str(v), inputs, runner_temp) for k, v in step["env"].items()})
    done = subprocess.run(["bash", "-c", step["run"]], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    values = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    return done.returncode, values, done.stderr


def test_a_breaking_change_fails_with_one_comment_and_sarif(tmp_path: Path, github: str) -> None:
    work = _pull_request(tmp_path, POLICY.replace("{app: web}", "{app: frontend}"))
    code, out, err = _run_diff_step(work, github, tmp_path)
    assert code == 1, err
    assert out["status"] == "fail" and out["comment_url"] == "https://github.example/c/77"
    sarif = json.loads(Path(out["sarif"]).read_text())
    assert sarif["version"] == "2.1.0"
    (posted,) = [c for c in FakeGitHub.calls if c[0] == "POST"]
    assert posted[1] == "/repos/acme/shop/issues/5/comments"
    body = posted[2]["body"]
    assert body.startswith("<!-- netreason-diff -->") and "app/web" in body
    assert body.strip() == ("<!-- netreason-diff -->\n" + Path(out["markdown"]).read_text().strip())
    assert all(c[2] == "Bearer gh-test" for c in FakeGitHub.calls if c[0] == "GET")
    # The next push updates that comment (found on page 2) instead of adding one.
    code, out, _ = _run_diff_step(work, github, tmp_path)
    assert code == 1
    writes = [c[:2] for c in FakeGitHub.calls if c[0] != "GET"]
    assert writes == [("POST", "/repos/acme/shop/issues/5/comments"), ("PATCH", "/repos/acme/shop/issues/comments/77")]
    assert len(FakeGitHub.comments) == 151


def test_the_comment_is_bounded(tmp_path: Path, github: str) -> None:
    work = _pull_request(tmp_path, POLICY.replace("{app: web}", "{app: frontend}"))
    code, _out, _ = _run_diff_step(work, github, tmp_path, comment_max_chars="400")
    assert code == 1
    body = FakeGitHub.comments[-1]["body"]
    assert len(body) <= 400 and body.startswith("<!-- netreason-diff -->")
    assert "the whole report is in the job log (https://github.example/acme/shop/actions/runs/42)" in body


def test_a_harmless_change_passes(tmp_path: Path, github: str) -> None:
    work = _pull_request(tmp_path, POLICY + "# a comment only\n")
    code, out, err = _run_diff_step(work, github, tmp_path)
    assert code == 0, err
    assert out["status"] == "pass"


def test_bad_input_is_an_error_not_a_pass(tmp_path: Path, github: str) -> None:
    work = _pull_request(tmp_path, POLICY + "# a comment only\n")
    code, out, _ = _run_diff_step(work, github, tmp_path, path="no-such-dir")
    assert code == 2 and out["status"] == "error"
    assert not [c for c in FakeGitHub.calls if c[0] != "GET"]


def test_the_action_is_composite_installs_netreason_and_uploads_the_diff_sarif() -> None:
    assert ACTION["runs"]["using"] == "composite"
    install, _diff, upload = ACTION["runs"]["steps"]
    assert "pip\" install" in install["run"] and "$ACTION_PATH" in install["run"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ steps.diff.outputs.sarif }}" and "always()" in upload["if"]
    assert "NETREASON_URL" not in json.dumps(ACTION)  # no hosted service
