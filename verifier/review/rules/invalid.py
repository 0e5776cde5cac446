"""invalid-object: an object the API server would reject, left out of the evaluation.

The loader reports it as an issue and carries on; a review that stopped there would pass
CI on a bundle it never fully checked. As an error finding it fails `--fail-on error`
and shows in every lint format, at the offending field's file:line.
"""

from __future__ import annotations

from ...model.records import Finding
from .context import LintContext


def invalid_object_findings(ctx: LintContext) -> list[Finding]:
    """One error per validation error the loader met (each names its object and field)."""
    out = []
    for issue in ctx.bundle.issues:
        if issue.severity != "error":
            continue
        obj = issue.object.partition(" ")[2] or issue.object or (issue.source.file if issue.source else "<input>")
        where = f"{issue.field_path}: " if issue.field_path else ""
        out.append(Finding("invalid-object", "error", obj,
                           f"{issue.object or 'object'} was left out of the evaluation: {where}{issue.message}",
                           issue.source, None,
                           {"key": f"{issue.field_path}:{issue.message}", "kind": issue.object.partition(" ")[0]}))
    return out
