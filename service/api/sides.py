"""Both sides of a change loaded and their truths computed once: what /v1/diff and /v1/review share."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from ..truth import Truth
from .deps import State
from .manifests import LoadedSnapshot, Snapshot, load_snapshot
from .running import compute_truth, within_budget


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
