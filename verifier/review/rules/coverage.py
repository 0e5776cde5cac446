"""no-default-deny (with the rollout coverage table) and legacy-isolation-annotation.

A default deny is a policy whose podSelector is empty: "An empty podSelector selects all pods
in this namespace" (API reference), so every pod, including ones deployed later, is isolated
for the policy's types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...model.bundle import Namespace, Severity
from ...model.records import Finding
from .admin import admin_default_deny
from .context import Direction, LintContext, to_yaml
from .unevaluated import may_be_isolated_elsewhere

LEGACY_ANNOTATION = "net.beta.kubernetes.io/network-policy"


@dataclass(frozen=True, slots=True)
class CoverageRow:
    """Rollout status of one namespace with workloads."""

    namespace: str
    workloads: int
    ingress_isolated: int  # workloads isolated for ingress (by any policy)
    egress_isolated: int
    default_deny_ingress: tuple[str, ...]  # policies with an empty podSelector covering ingress
    default_deny_egress: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace, "workloads": self.workloads,
            "ingress_isolated": self.ingress_isolated, "egress_isolated": self.egress_isolated,
            "ingress_default_deny": bool(self.default_deny_ingress),
            "egress_default_deny": bool(self.default_deny_egress),
            "default_deny_ingress_policies": list(self.default_deny_ingress),
            "default_deny_egress_policies": list(self.default_deny_egress),
        }


def coverage_rows(ctx: LintContext) -> list[CoverageRow]:
    """One row per namespace holding workloads, sorted by namespace."""
    rows = []
    for ns in sorted(ctx.by_namespace):
        members = [w for w in ctx.by_namespace[ns] if not w.host_network]
        wide = [p for p in ctx.policies_by_namespace.get(ns, ()) if p.pod_selector.is_empty]
        rows.append(CoverageRow(
            ns, len(ctx.by_namespace[ns]),
            sum(ctx.isolated(w, "ingress") for w in members),
            sum(ctx.isolated(w, "egress") for w in members),
            tuple(p.id for p in wide if p.affects_ingress),
            tuple(p.id for p in wide if p.affects_egress),
        ))
    return rows


def default_deny_findings(ctx: LintContext, rows: list[CoverageRow]) -> list[Finding]:
    """no-default-deny: warning when ingress has no namespace-wide policy, info when only egress lacks one."""
    out = []
    for row in rows:
        missing: list[Direction] = []
        # A BaselineAdminNetworkPolicy (or ANP) Deny covering the namespace is a default deny too.
        if not row.default_deny_ingress and not admin_default_deny(ctx, row.namespace, "ingress"):
            missing.append("ingress")
        if not row.default_deny_egress and not admin_default_deny(ctx, row.namespace, "egress"):
            missing.append("egress")
        if not missing or may_be_isolated_elsewhere(ctx, row.namespace):
            continue  # an unevaluated policy may be the default deny (policy-not-evaluated says so)
        # Open ingress is the first thing a rollout closes; an egress gap, or pods that are all
        # isolated by their own policies, is worth knowing but not blocking.
        severity: Severity = "warning" if "ingress" in missing and row.ingress_isolated < row.workloads else "info"
        msg = (f"namespace {row.namespace} has {row.workloads} workload(s) and no default deny for "
               f"{' or '.join(missing)}: ingress isolated {row.ingress_isolated}/{row.workloads}, egress isolated "
               f"{row.egress_isolated}/{row.workloads}. New workloads start open; add a default deny once the "
               f"allow rules (and DNS) are in place.")
        out.append(Finding("no-default-deny", severity, row.namespace, msg, ctx.first_source(row.namespace),
                           _default_deny_yaml(row.namespace, missing),
                           {"key": "", "missing": missing, "row": row.as_json()}))
    return out


def _default_deny_yaml(namespace: str, missing: list[Direction]) -> str:
    policy = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": namespace},
        "spec": {"podSelector": {}, "policyTypes": [d.capitalize() for d in missing]},
    }
    return to_yaml(policy, "apply after the allow policies the workloads need, including DNS egress")


def legacy_annotation_findings(ctx: LintContext) -> list[Finding]:
    """legacy-isolation-annotation: the beta DefaultDeny namespace annotation, ignored since 1.7."""
    out = []
    for _name, ns in sorted(ctx.bundle.namespaces.items()):
        if LEGACY_ANNOTATION in ns.annotations:
            out.append(_legacy(ctx, ns))
    return out


def _legacy(ctx: LintContext, ns: Namespace) -> Finding:
    members = [w for w in ctx.by_namespace.get(ns.name, ()) if not w.host_network]
    isolated = sum(ctx.isolated(w, "ingress") for w in members)
    msg = (f"Namespace {ns.name} carries the beta annotation {LEGACY_ANNOTATION} (DefaultDeny isolation), which "
           f"Kubernetes has ignored since NetworkPolicy went GA in v1.7: it isolates nothing. Only NetworkPolicies "
           f"isolate pods here ({isolated}/{len(members)} workloads isolated for ingress).")
    return Finding("legacy-isolation-annotation", "warning", ns.name, msg, ns.source,
                   _default_deny_yaml(ns.name, ["ingress"]), {"key": ""})
