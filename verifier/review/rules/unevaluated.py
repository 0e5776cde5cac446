"""policy-not-evaluated: a policy kind whose effect netreason does not model.

A Cilium, Calico or Antrea policy (and the like) may deny what the report shows allowed, or
allow what it shows denied. The report is not silent about it: one warning per object, naming
the namespaces it may reach.
"""

from __future__ import annotations

from ...model.records import Finding
from ...model.unevaluated import covered_namespaces, unevaluated_policies
from .context import LintContext


def unevaluated_findings(ctx: LintContext) -> list[Finding]:
    """One warning per unevaluated policy object."""
    out = []
    for p in unevaluated_policies(ctx.bundle):
        obj = f"{p.namespace}/{p.name}" if p.namespace else p.name
        out.append(Finding("policy-not-evaluated", "warning", obj, p.note(with_source=False), p.source, None,
                           {"key": p.kind, "kind": p.kind, "cluster_scoped": p.namespace is None}))
    return out


def may_be_isolated_elsewhere(ctx: LintContext, namespace: str) -> list[str]:
    """Labels of unevaluated policies that may give `namespace` its default deny."""
    covered = covered_namespaces(ctx.bundle)
    return covered.get(namespace, []) + covered.get("*", [])
