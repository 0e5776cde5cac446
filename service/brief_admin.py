"""The brief's admin-policy section: AdminNetworkPolicies, the baseline, and what is not evaluated.

Printed only when the bundle has such objects, so briefs of NetworkPolicy-only bundles stay
byte-identical. The section opens with the evaluation order in one line: the released
prompt fragments (never edited) describe NetworkPolicy only, so the notation travels with
the data that needs it.
"""

from __future__ import annotations

from verifier.model.admin import AdminPeer, AdminPolicy, AdminPort, AdminRule, AdminSubject, admin_order, baseline_of
from verifier.model.bundle import Bundle, LabelSelector
from verifier.model.unevaluated import unevaluated_policies

ORDER_NOTE = (
    "order: ANPs by priority (lower first), rules in order, first match decides (Allow, Deny final; Pass skips to "
    "NetworkPolicy); then NetworkPolicy where one selects the pod; then the baseline (first match); else allowed. "
    "Each direction is decided separately at its own end."
)


def admin_sections(bundle: Bundle) -> list[str]:
    """Extra brief sections for admin policies and unevaluated policy kinds ([] when there are none)."""
    out = []
    ordered = admin_order(bundle.admin_policies)
    baseline = baseline_of(bundle.admin_policies)
    if ordered or baseline is not None:
        lines = [ORDER_NOTE, *(_policy_line(p) for p in ordered)]
        if baseline is not None:
            lines.append(_policy_line(baseline))
        out.append("\n".join(["admin policies:", *(f"  {line}" for line in lines)]))
    skipped = unevaluated_policies(bundle)
    if skipped:
        names = ", ".join(p.label for p in skipped)
        out.append(f"not evaluated (may deny or allow more than shown): {names}")
    return out


def _policy_line(p: AdminPolicy) -> str:
    head = p.id if p.is_baseline else f"{p.id} priority {p.priority}"
    parts = [f"{head}: subject {_subject(p.subject)}"]
    parts += [_rule(r, f"in[{i}]", "from") for i, r in enumerate(p.ingress)]
    parts += [_rule(r, f"eg[{i}]", "to") for i, r in enumerate(p.egress)]
    return "; ".join(parts)


def _selector(sel: LabelSelector) -> str:
    if sel.is_empty:
        return "*"
    return ",".join(str(r) for r in sorted(sel.requirements, key=lambda r: (r.key, r.operator, r.values)))


def _subject(s: AdminSubject) -> str:
    return "{ns " + _selector(s.namespaces) + ("; pods " + _selector(s.pods) if s.pods is not None else "") + "}"


def _peer(peer: AdminPeer) -> str:
    if peer.networks:
        return "{ip " + ",".join(peer.networks) + "}"
    if peer.nodes is not None:
        return "{nodes " + _selector(peer.nodes) + "}"
    assert peer.namespaces is not None
    return "{ns " + _selector(peer.namespaces) + ("; pods " + _selector(peer.pods) if peer.pods is not None
                                                  else "") + "}"


def _port(p: AdminPort) -> str:
    if p.name is not None:
        return f"named {p.name}"
    return f"{p.protocol}/{p.start}" if p.start == p.end else f"{p.protocol}/{p.start}-{p.end}"


def _rule(rule: AdminRule, label: str, word: str) -> str:
    name = f" {rule.name!r}" if rule.name else ""
    ports = "all" if rule.ports is None else ",".join(_port(p) for p in rule.ports)
    return f"{label}{name}: {rule.action} {word} {' or '.join(_peer(p) for p in rule.peers)} ports {ports}"
