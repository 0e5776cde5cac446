"""Manifests from a git revision, `REV:PATH`, read with `git ls-tree` and `git cat-file`: no checkout.

Paths are relative to the current directory, as in the working tree, so a finding in
`HEAD~1:k8s/` and one in `k8s/` name the same file (`k8s/api.yaml:12`).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

from verifier.model.records import DEFAULT_DEPS_FILE
from verifier.model.errors import InputError
from verifier.input.load import MANIFEST_SUFFIXES, load_texts
from verifier.model.bundle import Bundle, SourceRef

DEPS_FILE = DEFAULT_DEPS_FILE


@dataclass(frozen=True, slots=True)
class GitSpec:
    rev: str
    path: str  # relative to the current directory; "" for all of it

    def __str__(self) -> str:
        return f"{self.rev}:{self.path}"


def parse_spec(spec: str, cwd: str | None = None) -> GitSpec | None:
    """`REV:PATH` as a GitSpec, or None when `spec` is a plain path.

    A spec is a git one when it has a colon, is not an existing path, and REV names a commit.

    Raises:
        InputError: it looks like REV:PATH but REV is not a commit here (or git is missing).
    """
    if ":" not in spec or os.path.exists(os.path.join(cwd or ".", spec)):
        return None
    rev, path = spec.split(":", 1)
    if not rev:
        return None
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd)
    except InputError:
        raise InputError(f"{rev!r} is not a git revision here and {spec!r} is not a file; give PATH or REV:PATH",
                         SourceRef(spec)) from None
    return GitSpec(rev, path.strip("/") if path not in ("", ".") else "")


def list_manifests(spec: GitSpec, cwd: str | None = None) -> list[str]:
    """Manifest files under the spec's path at its revision, sorted, hidden entries skipped.

    Raises:
        InputError: the path does not exist at that revision.
    """
    args = ["ls-tree", "-r", "-z", "--name-only", spec.rev, "--"] + ([spec.path] if spec.path else [])
    names = [n for n in _git(args, cwd).split("\0") if n]
    if not names:
        raise InputError(f"no such path at revision {spec.rev}", SourceRef(str(spec)))
    single = len(names) == 1 and names[0] == spec.path
    return sorted(n for n in names if single or _is_manifest(n))


def read_file(rev: str, path: str, cwd: str | None = None) -> str:
    """The text of one file at a revision (path relative to the current directory).

    Raises:
        InputError: no such file at that revision.
    """
    return _git(["cat-file", "blob", f"{rev}:./{path}"], cwd)


def file_exists(rev: str, path: str, cwd: str | None = None) -> bool:
    try:
        _git(["cat-file", "-e", f"{rev}:./{path}"], cwd)
    except InputError:
        return False
    return True


def load_git(spec: GitSpec, *, default_namespace: str = "default", strict: bool = False,
             cwd: str | None = None) -> tuple[Bundle, dict[str, str]]:
    """The bundle at a revision, and the text of each file read (for comment checks).

    Raises:
        InputError: see `list_manifests`; ManifestSyntaxError / ValidationFailed in strict mode.
    """
    texts = {name: read_file(spec.rev, name, cwd) for name in list_manifests(spec, cwd)}
    return load_texts(texts.items(), default_namespace=default_namespace, strict=strict), texts


def default_deps(spec: GitSpec, cwd: str | None = None) -> tuple[str, str] | None:
    """(text, name) of `netreason.deps.yaml` beside the manifests at the revision, if there is one."""
    for base in (spec.path, os.path.dirname(spec.path)):
        name = f"{base}/{DEPS_FILE}" if base else DEPS_FILE
        if file_exists(spec.rev, name, cwd):
            return read_file(spec.rev, name, cwd), name
    return None


def _is_manifest(name: str) -> bool:
    parts = name.split("/")
    return (name.lower().endswith(MANIFEST_SUFFIXES) and not any(p.startswith(".") for p in parts)
            and parts[-1] != DEPS_FILE)


def _git(args: list[str], cwd: str | None) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise InputError(f"cannot run git: {e}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} failed"
        raise InputError(message)
    return done.stdout.decode("utf-8-sig")
