"""The GitHub Action's work (see action.yml): `netreason diff BASE_REF:PATH PATH` for a pull request, its
SARIF written for upload, and one PR comment created or updated in place. Standard library only beside
netreason itself, so it runs wherever the action installed netreason; no netreason service is involved.

Inputs come as INPUT_* variables (set by action.yml), the pull request from GITHUB_EVENT_PATH, the API from
GITHUB_API_URL; outputs go to GITHUB_OUTPUT. Exit status: netreason diff's (0 pass, 1 the change breaks a
dependency or introduces a finding at fail-on, 2 bad input), after the comment is posted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARKER = "<!-- netreason-diff -->"
#: GitHub refuses comment bodies over 65,536 characters.
GITHUB_COMMENT_LIMIT = 65_536
MAX_PAGES = 20


@dataclass(frozen=True)
class Inputs:
    path: str
    base_ref: str
    deps: str
    fail_on: str
    comment: bool
    max_chars: int
    out_dir: Path
    netreason: str

    @classmethod
    def from_env(cls) -> Inputs:
        env = os.environ
        base = env.get("INPUT_BASE_REF") or f"origin/{env.get('GITHUB_BASE_REF') or 'main'}"
        limit = min(int(env.get("INPUT_COMMENT_MAX_CHARS") or 60_000), GITHUB_COMMENT_LIMIT - 200)
        return cls(path=(env.get("INPUT_PATH") or "k8s").rstrip("/"), base_ref=base, deps=env.get("INPUT_DEPS", ""),
                   fail_on=env.get("INPUT_FAIL_ON") or "error", comment=env.get("INPUT_COMMENT", "true") == "true",
                   max_chars=limit, out_dir=Path(env.get("INPUT_OUTPUT_DIR") or "."),
                   netreason=env.get("NETREASON_BIN") or "netreason")


def ensure_base(ref: str) -> None:
    """Fetch the base branch when the checkout lacks it (actions/checkout fetches one commit by default)."""
    if _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode == 0:
        return
    remote, _, branch = ref.partition("/")
    if branch:
        _git("fetch", "--no-tags", "--depth=50", remote, f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}")


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True)


def run_diff(inputs: Inputs, fmt: str, target: Path) -> int:
    """netreason diff in one format into `target`; its exit status (stderr passes through to the log)."""
    args = [inputs.netreason, "diff", f"{inputs.base_ref}:{inputs.path}", inputs.path, "-o", fmt,
            "--output-file", str(target), "--fail-on", inputs.fail_on]
    if inputs.deps:
        args += ["--deps", inputs.deps]
    return subprocess.run(args).returncode


def comment_body(markdown: str, limit: int, run_url: str) -> str:
    """The marker, then the report, cut at a line break to stay under `limit` characters."""
    body = f"{MARKER}\n{markdown.strip()}\n"
    if len(body) <= limit:
        return body
    note = (f"\n\n… cut to {limit:,} characters: the whole report is in the job "
            f"log{f' ({run_url})' if run_url else ''}.\n")
    cut = body[: limit - len(note)]
    return cut[: cut.rfind("\n") if "\n" in cut else len(cut)] + note


class GitHub:
    """The few issue-comment calls needed, over urllib."""

    def __init__(self, api: str, repo: str, token: str) -> None:
        self.base, self.token = f"{api.rstrip('/')}/repos/{repo}", token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
            "Content-Type": "application/json", "X-GitHub-Api-Version": "2022-11-28"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def find_comment(self, pr: int) -> dict[str, Any] | None:
        for page in range(1, MAX_PAGES + 1):
            comments = self.call("GET", f"/issues/{pr}/comments?per_page=100&page={page}")
            for c in comments:
                if str(c.get("body", "")).startswith(MARKER):
                    return dict(c)
            if len(comments) < 100:
                return None
        return None

    def upsert_comment(self, pr: int, body: str) -> str:
        """Update the PR's netreason comment, or create it; its URL."""
        existing = self.find_comment(pr)
        if existing:
            done = self.call("PATCH", f"/issues/comments/{existing['id']}", {"body": body})
        else:
            done = self.call("POST", f"/issues/{pr}/comments", {"body": body})
        return str((done or {}).get("html_url", ""))


def pull_request_number() -> int | None:
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path or not Path(path).is_file():
        return None
    event = json.loads(Path(path).read_text(encoding="utf-8"))
    number = (event.get("pull_request") or {}).get("number")
    return int(number) if number else None


def write_outputs(**values: str) -> None:
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as f:
            f.writelines(f"{k}={v}\n" for k, v in values.items())


def post_comment(inputs: Inputs, markdown: str) -> str:
    pr, token = pull_request_number(), os.environ.get("GITHUB_TOKEN", "")
    if not (inputs.comment and pr and token and os.environ.get("GITHUB_REPOSITORY")):
        print("netreason: no PR comment (not a pull_request event, no token, or comment: false)", file=sys.stderr)
        return ""
    server, repo, run = (os.environ.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    run_url = f"{server}/{repo}/actions/runs/{run}" if server and run else ""
    gh = GitHub(os.environ.get("GITHUB_API_URL") or "https://api.github.com", repo, token)
    try:
        return gh.upsert_comment(pr, comment_body(markdown, inputs.max_chars, run_url))
    except (urllib.error.URLError, OSError, ValueError) as e:
        print(f"netreason: could not post the PR comment: {e}", file=sys.stderr)
        return ""


def main() -> int:
    inputs = Inputs.from_env()
    inputs.out_dir.mkdir(parents=True, exist_ok=True)
    ensure_base(inputs.base_ref)
    md, sarif = inputs.out_dir / "netreason-diff.md", inputs.out_dir / "netreason-diff.sarif"
    status = run_diff(inputs, "markdown", md)
    if status == 2 or not md.is_file():
        write_outputs(status="error", exit_code=str(status))
        return 2
    run_diff(inputs, "sarif", sarif)
    url = post_comment(inputs, md.read_text(encoding="utf-8"))
    write_outputs(status="fail" if status else "pass", exit_code=str(status), sarif=str(sarif),
                  markdown=str(md), comment_url=url)
    return status


if __name__ == "__main__":
    sys.exit(main())
