"""`Finding.with_fix` is `dataclasses.replace`, spelled out for speed: it must pass on every field, including
any field added later."""

from __future__ import annotations

import dataclasses
from typing import Any

from verifier.model.bundle import SourceRef
from verifier.model.records import Finding


def _distinct(cls: type, prefix: str) -> dict[str, Any]:
    """A value for every field of `cls` that differs from its default (so a dropped field shows)."""
    values: dict[str, Any] = {}
    for i, f in enumerate(dataclasses.fields(cls)):
        if f.name == "source":
            values[f.name] = SourceRef(**_distinct(SourceRef, prefix + "src"))
        elif f.name in ("line", "document"):
            values[f.name] = 7 + i
        elif f.name == "details":
            values[f.name] = {"field": "spec.ingress[0]", "key": prefix}
        else:
            values[f.name] = f"{prefix}-{f.name}"
    return values


def test_with_fix_equals_replace_with_every_field_set() -> None:
    """`with_fix` (how lint attaches the converged fixes and moves findings to their fields' lines) is
    `replace` of message, fix, details and source."""
    f = Finding(**_distinct(Finding, "x"))
    new = _distinct(Finding, "y")
    moved = f.with_fix(new["message"], new["fix"], new["details"], new["source"])
    assert moved == dataclasses.replace(f, message=new["message"], fix=new["fix"], details=new["details"],
                                        source=new["source"])
    for field in dataclasses.fields(Finding):
        if field.name not in ("message", "fix", "details", "source"):
            assert getattr(moved, field.name) is getattr(f, field.name), field.name
    assert f.message == "x-message"  # the original is unchanged
