"""What a request may send as manifests, and turning it into a Bundle.

A snapshot is given one of three ways:
  - `manifests`: YAML text (one or many documents) or JSON text, or a JSON list of objects;
  - `files`: a list of `{path, content}`, so problems (and SARIF results) name the real file and line;
  - `cluster` (+ optional `revision`): a snapshot stored with POST /v1/clusters/{name}.
`deps` is a deps file's text (problems then carry line numbers) or its parsed list.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

import verifier
from verifier.input.load import load_texts
from verifier.model.bundle import Bundle

from ..store import ClusterRevision, Store
from .workpool import offload

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"
#: Snapshots of inline chat manifests (`chat-<hash>`): their caller's alone, never listed or read via /v1/clusters.
CHAT_PREFIX = "chat-"


class ManifestFile(BaseModel):
    """One manifest file: its path in the repository and its text."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=1000, examples=["k8s/policies/api.yaml"])
    content: str


class Snapshot(BaseModel):
    """One set of manifests: exactly one of `manifests`, `files` or `cluster`."""

    model_config = ConfigDict(extra="forbid")

    manifests: str | list[Any] | None = Field(
        None, description="YAML or JSON text, or a JSON list of Kubernetes objects.")
    files: list[ManifestFile] | None = Field(None, description="Manifest files with their paths.")
    cluster: str | None = Field(None, pattern=NAME_PATTERN, description="A stored cluster snapshot's name.")
    revision: int | None = Field(None, ge=1, description="Revision of `cluster` (default: the latest).")
    deps: str | list[dict[str, Any]] | None = Field(
        None, description="Declared dependencies: a deps.yaml text or its list (default: those stored with `cluster`).")
    namespace: str = Field("default", description="Namespace of objects that name none (kubectl apply -n).")
    label: str | None = Field(None, max_length=1000,
                              description="What to call this snapshot in reports (default: base, head or request).")
    deps_name: str | None = Field(None, max_length=1000,
                                  description="The deps file's name, for messages and dependency locations.")

    @model_validator(mode="after")
    def _one_source(self) -> Snapshot:
        given = [k for k in ("manifests", "files", "cluster") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of manifests, files or cluster (got {', '.join(given) or 'none'})")
        if self.revision is not None and self.cluster is None:
            raise ValueError("revision needs cluster")
        return self


@dataclass(frozen=True)
class LoadedSnapshot:
    """A snapshot as a Bundle, with the deps to evaluate, a JSON-ready note of where it came from, a label
    for reports, and the manifest texts by file name (lint reads comments in them)."""

    bundle: Bundle
    deps: str | list[dict[str, Any]] | None
    deps_origin: str | None
    ref: dict[str, Any]
    label: str
    texts: dict[str, str] = dataclasses.field(default_factory=dict)
    #: A stored snapshot's fingerprints of its Secret values (`service.secret_prints`); None for inline ones.
    secret_prints: str | None = None


def load_manifest_text(text: str, name: str, *, namespace: str = "default", strict: bool = False) -> Bundle:
    """A Bundle from manifest text (YAML or JSON); see `verifier.load_text`."""
    return verifier.load_text(text, name=name, default_namespace=namespace, strict=strict)


def load_files(files: list[ManifestFile], *, namespace: str = "default", strict: bool = False) -> Bundle:
    """One Bundle from several named texts, as `load_bundle` builds one from several files.

    Raises:
        ManifestSyntaxError: strict mode and a file is not valid YAML/JSON.
        ValidationFailed: strict mode and an object fails validation.
    """
    return load_texts(((f.path, f.content) for f in files), default_namespace=namespace, strict=strict)


def _load_inline(snap: Snapshot, field: str, strict: bool) -> Bundle:
    if snap.files is not None:
        return load_files(snap.files, namespace=snap.namespace, strict=strict)
    if isinstance(snap.manifests, str):
        return load_manifest_text(snap.manifests, field, namespace=snap.namespace, strict=strict)
    return verifier.load_documents(snap.manifests or [], name=field, default_namespace=snap.namespace, strict=strict)


def _load_stored(stored: ClusterRevision, strict: bool) -> Bundle:
    name = f"clusters/{stored.name}@{stored.revision}"  # the file name in issues and findings
    return load_manifest_text(stored.manifests, name, namespace=stored.default_namespace, strict=strict)


def _inline_texts(snap: Snapshot, name: str) -> dict[str, str]:
    if snap.files is not None:
        return {f.path: f.content for f in snap.files}
    return {name: snap.manifests} if isinstance(snap.manifests, str) else {}


def load_snapshot_sync(snap: Snapshot, store: Store, *, field: str, strict: bool) -> LoadedSnapshot:
    """Load one snapshot (blocking: parsing is CPU work, the store is I/O).

    `field` names the request field, used as the file name of inline text (`manifests`, `head.manifests`).

    Raises:
        ClusterNotFound: `cluster` names no stored snapshot (or no such revision).
        ManifestSyntaxError, ValidationFailed: strict mode and bad manifests.
    """
    side = field.rpartition(".")[0]
    deps_origin = f"{side}.deps" if side else "deps"
    if snap.cluster is None:
        bundle = _load_inline(snap, field, strict)
        origin = (snap.deps_name or deps_origin) if snap.deps is not None else None
        return LoadedSnapshot(bundle, snap.deps, origin, _inline_ref(snap), snap.label or side or "request",
                              _inline_texts(snap, field))
    stored = store.get_cluster(snap.cluster, snap.revision)
    bundle = _load_stored(stored, strict)
    deps: str | list[dict[str, Any]] | None = snap.deps
    name = f"clusters/{stored.name}@{stored.revision}"
    if deps is None and stored.deps is not None:
        deps, deps_origin = stored.deps, f"{name}/deps"
    elif deps is not None and snap.deps_name:
        deps_origin = snap.deps_name
    ref = {"cluster": stored.name, "revision": stored.revision, "digest": stored.digest}
    return LoadedSnapshot(bundle, deps, deps_origin if deps is not None else None, ref, snap.label or name,
                          {name: stored.manifests}, stored.secret_prints)


async def load_snapshot(snap: Snapshot, store: Store, *, field: str, strict: bool) -> LoadedSnapshot:
    """`load_snapshot_sync` on a worker thread, so the event loop keeps serving."""
    return await offload(load_snapshot_sync, snap, store, field=field, strict=strict)


def _inline_ref(snap: Snapshot) -> dict[str, Any]:
    # A summary for the stored request: sizes, never the manifests themselves (they may hold secrets).
    if snap.files is not None:
        return {"files": [f.path for f in snap.files], "bytes": sum(len(f.content) for f in snap.files)}
    if isinstance(snap.manifests, str):
        return {"inline": "text", "bytes": len(snap.manifests)}
    return {"inline": "documents", "documents": len(snap.manifests or []),
            "bytes": len(json.dumps(snap.manifests, separators=(",", ":")))}
