"""`Finding.at_line` and `Finding.with_fix` are `dataclasses.replace`, spelled out for speed: they must pass
on every field, including any field added later."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

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


def test_at_line_equals_replace_with_every_field_set() -> None:
    f = Finding(**_distinct(Finding, "x"))
    assert f.source is not None
    moved = f.at_line(42)
    assert moved == dataclasses.replace(f, source=dataclasses.replace(f.source, line=42))
    for field in dataclasses.fields(Finding):
        if field.name != "source":
            assert getattr(moved, field.name) is getattr(f, field.name), field.name
    assert f.source.line != 42  # the original is unchanged


def test_at_line_needs_a_source() -> None:
    with pytest.raises(ValueError, match="no source"):
        Finding("r", "info", "ns/a", "m").at_line(3)


def test_with_fix_equals_replace_with_every_field_set() -> None:
    """`with_fix` (how lint attaches the converged fixes) is `replace` of message, fix and details."""
    f = Finding(**_distinct(Finding, "x"))
    new = _distinct(Finding, "y")
    moved = f.with_fix(new["message"], new["fix"], new["details"])
    assert moved == dataclasses.replace(f, message=new["message"], fix=new["fix"], details=new["details"])
    for field in dataclasses.fields(Finding):
        if field.name not in ("message", "fix", "details"):
            assert getattr(moved, field.name) is getattr(f, field.name), field.name
    assert f.message == "x-message"  # the original is unchanged
