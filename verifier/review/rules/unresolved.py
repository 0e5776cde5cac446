"""dependency-unresolved: a dependency input entry that names nothing in the bundle, or cannot be read.

Such an entry was left out of the dependency check: a review that only printed it would pass CI
while a dependency the team declared was never checked (a renamed or deleted workload). As an
error finding it fails `--fail-on error` and shows in every lint format.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from ...model.bundle import Issue
from ...model.records import Finding


def unresolved_dependency_findings(issues: Iterable[Issue]) -> list[Finding]:
    """One error per error-severity issue met gathering dependencies (each names its entry and field)."""
    out = []
    for issue in issues:
        if issue.severity != "error":
            continue
        src = issue.source
        entry = issue.field_path.partition(".")[0]
        obj = f"{os.path.basename(src.file) if src else 'dependencies'}{entry}"
        out.append(Finding("dependency-unresolved", "error", obj,
                           f"{issue.message}; the entry was not checked: fix the name, or remove the entry if the "
                           "dependency is gone", src, None,
                           {"key": f"{issue.field_path}:{issue.message}", "field": issue.field_path}))
    return out
