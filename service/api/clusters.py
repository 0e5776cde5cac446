"""Named cluster snapshots: POST stores a new revision, GET reads one back; analyses may name them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from verifier.engine.export import issue_json

from ..store import ClusterNotFound, ClusterRevision, Store
from ..minimize import minimized_text
from ..secret_prints import stored_prints
from .deps import State
from .errors import ApiProblem
from .manifests import CHAT_PREFIX, NAME_PATTERN, load_manifest_text

router = APIRouter(prefix="/v1/clusters", tags=["clusters"])

ClusterName = Path(pattern=NAME_PATTERN, description="Letters, digits, '.', '_' and '-'.")


class ClusterUpload(BaseModel):
    """A snapshot to store: manifests as text (kept verbatim) or a list of objects (kept as JSON)."""

    model_config = ConfigDict(extra="forbid")

    manifests: str | list[Any] = Field(description="YAML or JSON text, or a JSON list of Kubernetes objects.")
    deps: str | list[dict[str, Any]] | None = Field(None, description="Declared dependencies stored with it.")
    namespace: str = Field("default", description="Namespace of objects that name none.")
    strict: bool = Field(False, description="Refuse manifests with validation errors (422).")


class RevisionInfo(BaseModel):
    name: str
    revision: int
    digest: str
    created_at: datetime
    default_namespace: str


class StoredCluster(RevisionInfo):
    manifests: str
    deps: str | None


class UploadResult(RevisionInfo):
    summary: dict[str, int] = Field(description="Objects understood: namespaces, workloads, services, policies.")
    issues: list[dict[str, Any]] = Field(description="Problems found in the manifests (they are stored anyway).")


def _as_text(value: str | list[Any]) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=1)


def _info(rev: ClusterRevision) -> dict[str, Any]:
    return {"name": rev.name, "revision": rev.revision, "digest": rev.digest, "created_at": rev.created_at,
            "default_namespace": rev.default_namespace}


def _store_upload(store: Store, name: str, body: ClusterUpload) -> UploadResult:
    text = _as_text(body.manifests)
    # Parse before storing: a strict upload with errors is refused, others report what they contain.
    bundle = load_manifest_text(text, f"clusters/{name}", namespace=body.namespace, strict=body.strict)
    deps = _as_text(body.deps) if body.deps is not None else None
    # Stored: only what analyses read (no Secret or ConfigMap data, no env values but Service names).
    kept = minimized_text(text, frozenset(s.name for s in bundle.services))
    rev = store.put_cluster(name, kept, deps=deps, default_namespace=body.namespace,
                            secret_prints=stored_prints(bundle))
    summary = {"namespaces": len(bundle.namespaces), "workloads": len(bundle.workloads),
               "services": len(bundle.services), "policies": len(bundle.policies)}
    return UploadResult(**_info(rev), summary=summary, issues=[issue_json(i) for i in bundle.issues])


@router.post("/{name}", status_code=201, response_model=UploadResult, summary="Store a new revision of a cluster")
async def upload(body: ClusterUpload, state: State, name: str = ClusterName) -> JSONResponse:
    """Each upload becomes the next revision (1, 2, ...); earlier revisions stay readable."""
    if name.startswith(CHAT_PREFIX):
        raise ApiProblem(422, "reserved-name", "Reserved cluster name",
                         f"names starting with {CHAT_PREFIX!r} are kept for chat snapshots; choose another name")
    result = await run_in_threadpool(_store_upload, state.store, name, body)
    location = f"/v1/clusters/{name}?revision={result.revision}"
    return JSONResponse(result.model_dump(mode="json"), status_code=201, headers={"Location": location})


@router.get("", summary="Every stored cluster with its latest revision")
async def list_clusters(state: State) -> list[dict[str, Any]]:
    names = await run_in_threadpool(state.store.cluster_names)
    return [{"name": name, "latest_revision": latest} for name, latest in names if not name.startswith(CHAT_PREFIX)]


@router.get("/{name}", response_model=StoredCluster, summary="Read a cluster snapshot back")
async def read(state: State, name: str = ClusterName,
               revision: int | None = Query(None, ge=1, description="Default: the latest.")) -> StoredCluster:
    """The manifests as uploaded, with their revision metadata.

    Raises:
        ClusterNotFound: 404.
    """
    _not_a_chat_snapshot(name)
    rev = await run_in_threadpool(state.store.get_cluster, name, revision)
    return StoredCluster(**_info(rev), manifests=rev.manifests, deps=rev.deps)


@router.get("/{name}/revisions", response_model=list[RevisionInfo], summary="Every revision of a cluster")
async def revisions(state: State, name: str = ClusterName) -> list[RevisionInfo]:
    _not_a_chat_snapshot(name)
    revs = await run_in_threadpool(state.store.cluster_revisions, name)
    return [RevisionInfo(**_info(r)) for r in revs]


def _not_a_chat_snapshot(name: str) -> None:
    # A chat snapshot belongs to the caller who sent its manifests: no other token holder reads it here.
    if name.startswith(CHAT_PREFIX):
        raise ClusterNotFound(f"no cluster named {name!r}")
