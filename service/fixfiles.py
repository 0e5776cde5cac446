"""Fixes applied to files: a patched policy's document rewritten in place, new policies in new files.

The core (`verifier.review.fixes`) says what to change as data; this module finds the document a
patch belongs to in the file's text, replaces only that document (comments and every other
document stay byte for byte), and writes a complete copy of the input beside it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from verifier.model.errors import InputError
from verifier.review.fixes import Fix
from verifier.model.bundle import SourceRef
from verifier.review.policy_manifest import apply_patch

#: Folder (inside the output) that holds the policies fixes add.
NEW_POLICIES_DIR = "netreason-fixes"
STDIN_COPY = "stdin.yaml"


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace text[start:end] with `text` (character offsets into the file's text)."""

    start: int
    end: int
    text: str


def patch_edit(text: str, fix: Fix, default_namespace: str, file: str) -> Edit | None:
    """The edit that applies `fix`'s patch to the policy's document in `text`, or None if not found."""
    if file.lower().endswith(".json") or text.lstrip().startswith(("{", "[")):
        data = json.loads(text)
        changed = _patch_in(data, fix, default_namespace)
        return Edit(0, len(text), json.dumps(data, indent=2) + "\n") if changed else None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for node in yaml.compose_all(text, Loader=loader):
        if node is None:
            continue
        start, end = node.start_mark.index, node.end_mark.index
        data = yaml.load(text[start:end], Loader=loader)
        if _patch_in(data, fix, default_namespace):
            return Edit(start, end, yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100))
    return None


def _patch_in(data: Any, fix: Fix, default_namespace: str) -> bool:
    """Apply the patch to the policy inside `data` (itself or an item of a List); whether found."""
    if isinstance(data, list):
        return any(_patch_in(item, fix, default_namespace) for item in data)
    if not isinstance(data, dict):
        return False
    if data.get("kind") == "List" or (isinstance(data.get("items"), list) and "kind" not in data):
        return any(_patch_in(item, fix, default_namespace) for item in data["items"])
    meta = data.get("metadata") or {}
    if data.get("kind") != "NetworkPolicy" or meta.get("name") != fix.name:
        return False
    if (meta.get("namespace") or default_namespace) != fix.namespace:
        return False
    patched = apply_patch(data, fix.patch)
    data.clear()
    data.update(patched)
    return True


def apply_edit(text: str, edit: Edit) -> str:
    return text[:edit.start] + edit.text + text[edit.end:]


def new_policy_path(fix: Fix, index: int) -> str:
    """Relative path of the file holding an added policy."""
    return f"{NEW_POLICIES_DIR}/{index:02d}-{fix.namespace}-{fix.name}.yaml"


def new_policy_text(fix: Fix) -> str:
    return f"# {fix.description}\n# added by netreason fix\n" + yaml.safe_dump(
        fix.manifest, sort_keys=False, default_flow_style=False, width=100)


def relative_names(files: Sequence[str]) -> dict[str, str]:
    """Each input file's path inside the copy: relative to the inputs' common folder (stdin: stdin.yaml)."""
    real = [f for f in files if f != "-"]
    root = os.path.commonpath([os.path.dirname(os.path.abspath(f)) for f in real]) if real else ""
    out = {f: os.path.relpath(os.path.abspath(f), root) for f in real}
    if "-" in files:
        out["-"] = STDIN_COPY
    return out


def write_fixed_copy(texts: Sequence[tuple[str, str]], fixes: Sequence[Fix], out_dir: str,
                     default_namespace: str) -> list[str]:
    """Write every input file (patched where a fix patches it) and each added policy under `out_dir`.

    Returns the written paths, relative to `out_dir`.

    Raises:
        InputError: `out_dir` exists and is not an empty directory, or a patched policy is not in its file.
    """
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError("the output folder exists and is not empty; give a new or empty folder", SourceRef(out_dir))
    names = relative_names([name for name, _ in texts])
    written: list[str] = []
    by_file = {name: text for name, text in texts}
    for fix in (f for f in fixes if f.action == "patch"):
        file = fix.source.file if fix.source else ""
        edit = patch_edit(by_file[file], fix, default_namespace, file) if file in by_file else None
        if edit is None:
            raise InputError(f"cannot find NetworkPolicy {fix.policy} to patch", fix.source)
        by_file[file] = apply_edit(by_file[file], edit)
    for name, _ in texts:
        written.append(_write(out, names[name], by_file[name]))
    adds = [f for f in fixes if f.action == "add"]
    for i, fix in enumerate(adds, 1):
        written.append(_write(out, new_policy_path(fix, i), new_policy_text(fix)))
    return written


def _write(root: Path, rel: str, text: str) -> str:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return rel
