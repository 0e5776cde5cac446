"""What a question is about: the scope of an analysis (whole namespaces, one workload, or a blast radius).

Its own module so that `analyze` without a model, which only reports a scope, does not import the slicing
and brief machinery a model's prompt needs (`service.slices`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Scope:
    """What a question is about: whole namespaces, or one workload and its neighbourhood (None: everything)."""

    namespaces: tuple[str, ...] = ()
    focus: str | None = None
    workloads: tuple[str, ...] = ()  # a change's blast radius: exactly these workloads

    @property
    def whole(self) -> bool:
        return not self.namespaces and self.focus is None and not self.workloads

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"namespaces": list(self.namespaces), "focus": self.focus}
        if self.workloads:
            doc["blast_radius"] = len(self.workloads)
        return doc
