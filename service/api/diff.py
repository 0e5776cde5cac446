"""POST /v1/diff: what a change does to flows, dependencies and findings, the same document as `netreason diff`.

`/v1/review` adds the model's checked summary and a PR comment on top of this diff.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ..outputs import render_diff
from ..truth import Truth, diff_doc
from .deps import State
from .documents import document_response
from .manifests import LoadedSnapshot, Snapshot, load_snapshot
from .running import bounded, compute_truth, within_budget
from .workpool import offload

router = APIRouter(prefix="/v1", tags=["review"])

DiffFormat = Literal["json", "text", "markdown", "sarif"]


class DiffRequest(BaseModel):
    """The manifests before (`base`) and after (`head`); deps apply to both unless a side has its own."""

    model_config = ConfigDict(extra="forbid")

    base: Snapshot
    head: Snapshot
    deps: str | list[dict[str, Any]] | None = Field(None, description="Declared dependencies for both sides.")
    observed: str | list[dict[str, Any]] | None = Field(None, description="Observed flows (Hubble export), both sides.")
    format: DiffFormat = "json"
    strict: bool = False


def _with_shared_deps(snap: Snapshot, deps: str | list[dict[str, Any]] | None) -> Snapshot:
    return snap if deps is None or snap.deps is not None else snap.model_copy(update={"deps": deps})


def share_deps(base: LoadedSnapshot, head: LoadedSnapshot) -> tuple[LoadedSnapshot, LoadedSnapshot]:
    """When only one side has declared deps (a stored base, say), both use them: what the apps need
    rarely changes with the policies, and a side without deps cannot show a dependency breaking."""
    if base.deps is not None and head.deps is None:
        return base, dataclasses.replace(head, deps=base.deps, deps_origin=base.deps_origin)
    if head.deps is not None and base.deps is None:
        return dataclasses.replace(base, deps=head.deps, deps_origin=head.deps_origin), head
    return base, head


async def side_truths(base: Snapshot, head: Snapshot, deps: str | list[dict[str, Any]] | None, state: State,
                      *, strict: bool, observed: Any = None) -> tuple[LoadedSnapshot, LoadedSnapshot, Truth, Truth]:
    """Both sides loaded and their truths computed, each exactly once (deps shared as `netreason diff` shares them)."""
    loaded_base, loaded_head = await asyncio.gather(
        load_snapshot(_with_shared_deps(base, deps), state.store, field="base.manifests", strict=strict),
        load_snapshot(_with_shared_deps(head, deps), state.store, field="head.manifests", strict=strict))
    loaded_base, loaded_head = share_deps(loaded_base, loaded_head)
    within_budget(state, loaded_base, loaded_head)
    t_base, t_head = await asyncio.gather(compute_truth(loaded_base, observed=observed),
                                          compute_truth(loaded_head, observed=observed))
    return loaded_base, loaded_head, t_base, t_head


@router.post("/diff", summary="Diff two snapshots: flows, outside egress, dependencies and findings that change")
async def diff(body: DiffRequest, state: State) -> Response:
    """The same document as `netreason diff --format json` (or its text, markdown or SARIF)."""
    async with state.work.admit():
        _, _, t_base, t_head = await side_truths(body.base, body.head, body.deps, state, strict=body.strict,
                                                 observed=body.observed)
        doc = await offload(diff_doc, t_base, t_head)
        return bounded(state, await offload(document_response, doc, body.format, render_diff))
