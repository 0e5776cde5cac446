"""The review rules: stable ids, default severities and help text (SARIF `rules`, docs, renderers).

An id never changes meaning once published: tools that suppress or track a finding key on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...model.bundle import Severity


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str
    severity: Severity  # the usual severity; a finding may be raised or lowered case by case
    title: str
    help: str


RULES: tuple[RuleInfo, ...] = (
    RuleInfo(
        "dns-egress-missing", "error", "Workload cannot reach cluster DNS",
        "The workload's egress is restricted (or DNS ingress is) so it cannot reach the cluster DNS pods "
        "(kube-system, k8s-app=kube-dns) on 53/UDP and 53/TCP. Every name lookup fails. Allow egress to "
        "the DNS pods on both protocols: TCP is used for large answers.",
    ),
    RuleInfo(
        "invalid-object", "error", "An object the API server would reject was left out",
        "The object fails API-server validation (the message names the field and what to change), so "
        "netreason left it out: the flows shown are computed without it, and kubectl apply would refuse it.",
    ),
    RuleInfo(
        "dependency-unresolved", "error", "A declared dependency names nothing in the input",
        "An entry of the dependencies file (--deps) names a workload or Service that is not in the manifests, "
        "or cannot be read, so it was not checked. Fix the name (the message suggests the closest ones), or remove "
        "the entry if the dependency is gone.",
    ),
    RuleInfo(
        "dependency-broken", "error", "A dependency the app needs is denied",
        "A declared, observed or inferred dependency is denied by the policies. The message names the side "
        "that denies it (egress at the client or ingress at the server), the policy and the closest miss.",
    ),
    RuleInfo(
        "egress-without-ingress", "warning", "Egress rule opens a flow the destination's ingress denies",
        "An egress rule lets pods open connections that ingress policies at every destination it names "
        "refuse, so the rule has no effect. Add a matching ingress rule on the destination.",
    ),
    RuleInfo(
        "ingress-without-egress", "warning", "Ingress rule admits a flow the sources' egress denies",
        "An ingress rule admits sources whose own egress policies forbid them to connect, so the rule has "
        "no effect. Add a matching egress rule at the sources.",
    ),
    RuleInfo(
        "selector-too-broad", "warning", "Selector admits or selects far more than was meant",
        "A peer admits every pod in every namespace or every address where a narrower peer was evidently "
        "meant, or an allow policy with an empty podSelector isolates every pod of its namespace and so "
        "acts as an unintended default deny.",
    ),
    RuleInfo(
        "namespace-label-missing", "warning", "namespaceSelector matches no namespace",
        "A namespaceSelector matches no namespace in the bundle. Label the namespace it was meant for, or "
        "select the namespace by the kubernetes.io/metadata.name label every namespace carries.",
    ),
    RuleInfo(
        "policy-selects-nothing", "warning", "Selector matches no workload",
        "A policy's podSelector, or a peer's, matches no workload in the bundle: often a label typo. The "
        "message lists the nearest labels that exist.",
    ),
    RuleInfo(
        "ipblock-without-dns", "warning", "ipBlock egress from a workload that cannot resolve names",
        "The workload may reach an ipBlock but cannot reach cluster DNS; if it dials a hostname the lookup "
        "fails before any connection is made.",
    ),
    RuleInfo(
        "no-default-deny", "warning", "Namespace has no default deny",
        "A namespace with workloads has no policy with an empty podSelector for ingress or egress, so new "
        "workloads start unprotected. Roll out a default deny after the allow rules the apps need.",
    ),
    RuleInfo(
        "legacy-isolation-annotation", "warning", "Ignored beta isolation annotation",
        "The Namespace annotation net.beta.kubernetes.io/network-policy (DefaultDeny) has been ignored "
        "since NetworkPolicy went GA in Kubernetes 1.7: it isolates nothing. Use a default-deny "
        "NetworkPolicy instead.",
    ),
    RuleInfo(
        "cni-not-enforcing", "warning", "The network plugin may not enforce NetworkPolicy",
        "kube-system runs flannel, or no network plugin known to enforce NetworkPolicy: the policies may "
        "be decorative. NetworkPolicy needs an enforcing plugin (Calico, Cilium, Antrea, ...).",
    ),
    RuleInfo(
        "hostname-intent", "warning", "Hostname filtering intended",
        "Annotations or comments suggest filtering by hostname, which NetworkPolicy cannot do: it matches "
        "pods, namespaces and IP blocks only. Use ipBlocks of the provider's ranges, an egress proxy, or a "
        "plugin's FQDN policy.",
    ),
    RuleInfo(
        "policy-not-evaluated", "warning", "A policy kind netreason does not evaluate",
        "A CiliumNetworkPolicy, Calico (Global)NetworkPolicy, Antrea ClusterNetworkPolicy, MultiNetworkPolicy, "
        "UserDefinedNetwork or similar object may deny or allow traffic beyond what the report shows: its "
        "effect is not modelled. Check the flows it touches with the plugin's own tools.",
    ),
    RuleInfo(
        "anp-denies-networkpolicy-allow", "warning", "An AdminNetworkPolicy denies what a NetworkPolicy allows",
        "AdminNetworkPolicy rules are checked before NetworkPolicy: every connection this NetworkPolicy rule "
        "allows is denied by an ANP first, so the rule has no effect. Ask for an ANP exception (Pass or Allow at "
        "a lower priority value) or remove the rule.",
    ),
    RuleInfo(
        "anp-same-priority-overlap", "warning", "Two AdminNetworkPolicies of the same priority conflict",
        "Two AdminNetworkPolicies share a priority and have rules with different actions for the same traffic; "
        "the API leaves the outcome undefined, so it depends on the network plugin. Give them distinct priorities.",
    ),
)

RULES_BY_ID: dict[str, RuleInfo] = {r.id: r for r in RULES}

SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}
