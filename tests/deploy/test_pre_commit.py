"""The pre-commit hook, run by `pre-commit try-repo` on a sample repository: a broken policy fails the
commit, the fixed one passes.

pre-commit installs the hook as its users get it: netreason pip-installed from this checkout into a fresh
virtualenv (try-repo keeps no cache, so each call installs again). Installing netreason's dependencies as well
takes minutes per call on this machine, so by default pip installs netreason alone (PIP_NO_DEPS) and the hook
finds the dependencies already installed for this test run on PYTHONPATH; NETREASON_TEST_FULL_HOOK_INSTALL=1
makes it install everything from the package index, exactly as for a user. The checkout is copied into a
scratch git repository first, so the hook tested is the working tree's, committed or not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
PROJECT_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml")
PACKAGES = ("verifier", "prompts", "service", "evals")

pytestmark = pytest.mark.skipif(not PRE_COMMIT.exists(), reason="pre-commit is not installed (pip install -e '.[test]')")

APP = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {kubernetes.io/metadata.name: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-system, labels: {kubernetes.io/metadata.name: kube-system}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system}
spec:
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      containers:
        - {name: coredns, image: coredns, ports: [{containerPort: 53, protocol: UDP}, {containerPort: 53, protocol: TCP}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: api, ports: [{containerPort: 8080}]}]}
"""

DENY_ALL = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"""

ALLOW_DNS = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-dns, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
          podSelector: {matchLabels: {k8s-app: kube-dns}}
      ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=test@example.invalid", "-c", "user.name=test", *args], cwd=repo,
                   check=True, capture_output=True)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout's hook and package, committed in a scratch repository."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, repo / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, repo / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "netreason")
    return repo


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _try_repo(sample: Path, hook_repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PIP_DISABLE_PIP_VERSION_CHECK": "1", "NO_COLOR": "1"}
    if not os.environ.get("NETREASON_TEST_FULL_HOOK_INSTALL"):
        env.update(PIP_NO_DEPS="1", PYTHONPATH=sysconfig.get_paths()["purelib"])
    return subprocess.run([str(PRE_COMMIT), "try-repo", str(hook_repo), "netreason-lint", *args], cwd=sample,
                          env=env, capture_output=True, text=True, timeout=1200)


def test_the_hook_fails_a_broken_policy_and_passes_the_fix(tmp_path: Path, hook_repo: Path,
                                                           pre_commit_home: Path) -> None:
    sample = tmp_path / "sample"
    (sample / "k8s").mkdir(parents=True)
    (sample / "k8s" / "app.yaml").write_text(APP)
    (sample / "k8s" / "policy.yaml").write_text(DENY_ALL)
    (sample / "README.md").write_text("a sample repository\n")
    _git(sample, "init", "-q")
    _git(sample, "add", "-A")
    _git(sample, "commit", "-qm", "deny all")

    broken = _try_repo(sample, hook_repo, pre_commit_home, "--all-files")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "Failed" in broken.stdout and "error [dns-egress-missing] shop/api" in broken.stdout
    assert "k8s/app.yaml" in broken.stdout

    # The fix, staged as for a commit: the hook runs on it (a YAML file is staged) and passes.
    (sample / "k8s" / "policy.yaml").write_text(DENY_ALL + ALLOW_DNS)
    _git(sample, "add", "k8s/policy.yaml")
    fixed = _try_repo(sample, hook_repo, pre_commit_home)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "netreason lint (NetworkPolicies)" in fixed.stdout and "Passed" in fixed.stdout
