"""Check a model's claims against the verifier's ground truth.

Each claim comes out `confirmed`, `contradicted` (with the truth and why), or
`unverifiable` (it names a workload, port, policy or rule that does not exist: this
is how hallucinations show); a claim that did not fit the answer schema at all is
`unparseable`, with a one-line reason. Ground-truth items in scope that no claim
mentions are listed as `missed`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..deps.declared import as_entry
from ..deps.dependencies import DependencyResult, evaluate_dependencies
from ..engine.connectivity import Connectivity
from ..engine.explain import Explainer
from ..model.admin import AdminPolicy, admin_policy_named
from ..model.bundle import Bundle, Protocol
from ..model.records import Dependency, Finding
from ..sets.addresses import parse_network
from ..sets.selectors import iter_bits
from ..suggest import or_hint
from .answers import RejectedClaim
from .schema import (
    DependencyBrokenClaim,
    DnsEgressMissingClaim,
    FindingClaim,
    FlowClaim,
    ModelAnswer,
    PolicySelectsClaim,
)

ClaimVerdict = Literal["confirmed", "contradicted", "unverifiable", "unparseable"]
VERDICTS: tuple[ClaimVerdict, ...] = ("confirmed", "contradicted", "unverifiable", "unparseable")

#: Longest rejected claim (as JSON) an `unparseable` check quotes before it is cut to an excerpt.
MAX_REJECTED_CHARS = 500

#: How many flow items the `missed` list may hold before it is cut (big clusters).
MAX_FLOW_ITEMS = 200


@dataclass(frozen=True, slots=True)
class ClaimCheck:
    claim: dict[str, Any]
    verdict: ClaimVerdict
    truth: Any = None  # what the verifier says instead, when it differs
    explanation: str = ""


@dataclass(frozen=True, slots=True)
class MissedItem:
    type: str
    item: dict[str, Any]
    explanation: str = ""


@dataclass(frozen=True, slots=True)
class ClaimReport:
    checks: tuple[ClaimCheck, ...]
    missed: tuple[MissedItem, ...]
    scope: tuple[str, ...]
    missed_truncated: bool = False
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def accuracy(self) -> float | None:
        """Share of claims confirmed; None when the model made none."""
        return self.totals["confirmed"] / len(self.checks) if self.checks else None

    def to_json(self) -> dict[str, Any]:
        return {
            "claims": [{"claim": c.claim, "verdict": c.verdict, "ground_truth": c.truth, "explanation": c.explanation}
                       for c in self.checks],
            "missed": [{"type": m.type, "item": m.item, "explanation": m.explanation} for m in self.missed],
            "missed_truncated": self.missed_truncated,
            "scope": list(self.scope),
            "totals": dict(self.totals),
            "accuracy": self.accuracy,
        }


class ClaimIndex:
    """The lookups a claim is checked against (workloads, services and policies by id, findings by rule and
    object, the explainer), built once over one truth: `service.truth.Truth` is the truth (what the verifier
    computed for a bundle); this is its index for claim checking (`Truth.claims`), not a second truth."""

    def __init__(
        self, bundle: Bundle, conn: Connectivity, dependencies: Sequence[DependencyResult] = (),
        findings: Sequence[Finding] = (),
    ) -> None:
        self.bundle, self.conn = bundle, conn
        self.explainer = Explainer(bundle)
        self.workloads = {w.id: w for w in bundle.workloads}
        self.services = {s.id: s for s in bundle.services}
        self.policies = {p.id: p for p in bundle.policies}
        self.dependencies = list(dependencies)
        self.findings = {(f.rule, f.object): f for f in findings}
        self.rules = {f.rule for f in findings}
        self.dns_missing = {f.object: f for f in findings if f.rule == "dns-egress-missing"}

    # --- lookups ---------------------------------------------------------------
    def unknown_workload(self, ref: str) -> str | None:
        if ref in self.workloads:
            return None
        return f"no workload {ref!r} exists{_close(ref, self.workloads)}"

    def selected_by(self, policy_id: str) -> list[str]:
        c = self.conn.compiled
        mask = c.policy_targets.get(policy_id, 0)
        ids = [c.bundle.workloads[m].id for cls in iter_bits(mask) for m in c.classes[cls].members]
        return sorted(ids)

    def flow_items(self) -> tuple[list[tuple[str, str, int, Protocol]], bool]:
        """The flows a `flows` answer is expected to cover: the apps' dependencies, else
        every pair on each destination's declared ports (capped)."""
        items: Iterable[tuple[str, str, int, Protocol]] = [
            (d.dependency.src, d.dependency.dst, d.dependency.port, d.dependency.protocol)
            for d in self.dependencies if d.dependency.dst]
        if not items:
            items = self._pair_items()
        # The pairs grow with the square of the workloads (40,000 at 200) and only the first few are kept:
        # stop at the first item past the cap.
        unique: dict[tuple[str, str, int, Protocol], None] = {}
        for item in items:
            unique[item] = None
            if len(unique) > MAX_FLOW_ITEMS:
                return list(unique)[:MAX_FLOW_ITEMS], True
        return list(unique), False

    def _pair_items(self) -> Iterator[tuple[str, str, int, Protocol]]:
        """Every workload pair on each destination's declared ports, lazily, sources in bundle order."""
        ids = [w.id for w in self.bundle.workloads]
        for src in ids:
            for dst, workload in zip(ids, self.bundle.workloads):
                if src != dst:
                    for p in workload.ports:
                        yield src, dst, p.port, p.protocol


def check_answer(answer: ModelAnswer, truth: ClaimIndex, scope: Iterable[str] = (),
                 rejected: Sequence[RejectedClaim] = ()) -> ClaimReport:
    """Check every claim of an answer; list in-scope truth that no claim mentions.

    `scope` names the claim types the question asked for (`flow`, `dependency_broken`,
    `dns_egress_missing`, `finding`); only those produce `missed` items. `rejected` claims
    (those `answers.parse_answer` could not read) are listed as `unparseable`.
    """
    checks = tuple(check_claim(c, truth) for c in answer.claims)
    checks += tuple(_unparseable(r) for r in rejected)
    scope = tuple(scope)
    missed, truncated = _missed(answer, truth, scope)
    totals: dict[str, int] = {v: sum(1 for c in checks if c.verdict == v) for v in VERDICTS}
    totals["missed"] = len(missed)
    totals["claims"] = len(checks)
    return ClaimReport(checks, tuple(missed), scope, truncated, totals)


def _unparseable(rejected: RejectedClaim) -> ClaimCheck:
    claim = rejected.claim if isinstance(rejected.claim, dict) else {"value": rejected.claim}
    text = json.dumps(claim, default=str)
    if len(text) > MAX_REJECTED_CHARS:  # a model may dump anything into a claim: keep outputs bounded
        claim = {"excerpt": text[:MAX_REJECTED_CHARS] + "..."}
    return ClaimCheck(claim, "unparseable", explanation=rejected.reason)


def check_claim(claim: Any, truth: ClaimIndex) -> ClaimCheck:
    """The verdict on one claim."""
    data = claim.model_dump(mode="json", by_alias=True)
    if isinstance(claim, FlowClaim):
        return _flow(claim, data, truth)
    if isinstance(claim, DependencyBrokenClaim):
        return _dependency(claim, data, truth)
    if isinstance(claim, DnsEgressMissingClaim):
        return _dns(claim, data, truth)
    if isinstance(claim, FindingClaim):
        return _finding(claim, data, truth)
    if isinstance(claim, PolicySelectsClaim):
        return _policy_selects(claim, data, truth)
    raise TypeError(f"unknown claim type {type(claim).__name__}")


def _flow(claim: FlowClaim, data: dict[str, Any], truth: ClaimIndex) -> ClaimCheck:
    bad = truth.unknown_workload(claim.from_) or truth.unknown_workload(claim.to)
    if bad:
        return ClaimCheck(data, "unverifiable", explanation=bad)
    verdict = truth.explainer.check(claim.from_, claim.to, claim.port, claim.protocol)
    ok = verdict.allowed == claim.allowed
    explanation = verdict.explain()
    dst = truth.workloads[claim.to]
    if dst.ports and not any(p.port == claim.port and p.protocol == claim.protocol for p in dst.ports):
        # A policy decides a port whether or not a container listens on it: judge the claim by policy.
        served = ", ".join(f"{p.protocol}/{p.port}" for p in dst.ports)
        explanation += (f"\nnote: {claim.to} serves no {claim.protocol}/{claim.port} (it serves {served}); "
                        "the verdict is what the policies decide for that port")
    return ClaimCheck(data, "confirmed" if ok else "contradicted", None if ok else {"allowed": verdict.allowed},
                      explanation)


def _matching_dependencies(claim: DependencyBrokenClaim, truth: ClaimIndex,
                           candidates: Sequence[DependencyResult] | None = None) -> list[DependencyResult]:
    """The dependencies `claim` is about, among `candidates` (default: all of the truth's)."""
    out = []
    claim_net = parse_network(claim.to)
    for d in truth.dependencies if candidates is None else candidates:
        dep = d.dependency
        same_cidr = claim_net is not None and dep.cidr is not None and parse_network(dep.cidr) == claim_net
        same_dst = claim.to in (dep.dst, dep.service) or same_cidr
        same_port = claim.port in (dep.port, dep.service_port)
        if dep.src == claim.from_ and same_dst and same_port and dep.protocol == claim.protocol:
            out.append(d)
    return out


def _claimed_dependencies(claims: Sequence[DependencyBrokenClaim], truth: ClaimIndex) -> set[int]:
    """The ids of the dependencies some claim is about: each claim is matched against its source's dependencies
    only, so a large answer is not claims x dependencies x dependencies."""
    by_src: dict[str, list[DependencyResult]] = {}
    for d in truth.dependencies:
        by_src.setdefault(d.dependency.src, []).append(d)
    return {id(d) for c in claims for d in _matching_dependencies(c, truth, by_src.get(c.from_, []))}


def _dependency(claim: DependencyBrokenClaim, data: dict[str, Any], truth: ClaimIndex) -> ClaimCheck:
    bad = truth.unknown_workload(claim.from_)
    if not bad and parse_network(claim.to) is not None:
        return _cidr_dependency(claim, data, truth)
    if not bad and claim.to not in truth.workloads and claim.to not in truth.services:
        bad = f"no workload or Service {claim.to!r} exists{_close(claim.to, {**truth.workloads, **truth.services})}"
    if bad:
        return ClaimCheck(data, "unverifiable", explanation=bad)
    deps = _matching_dependencies(claim, truth)
    if not deps:
        return ClaimCheck(data, "unverifiable", explanation=(
            f"no known dependency {claim.from_} -> {claim.to}:{claim.port}/{claim.protocol} "
            "(declared, observed or inferred)"))
    broken = [d for d in deps if not d.allowed]
    if broken:
        return ClaimCheck(data, "confirmed", explanation=broken[0].explanation)
    return ClaimCheck(data, "contradicted", {"broken": False}, deps[0].explanation)


def _cidr_dependency(claim: DependencyBrokenClaim, data: dict[str, Any], truth: ClaimIndex) -> ClaimCheck:
    """A breakage claim about an IP range: the known dependency's verdict, else what the source's egress
    policies decide for that range (outside the cluster only the source's egress applies)."""
    deps = _matching_dependencies(claim, truth)
    note = ""
    if not deps:
        probe = Dependency(claim.from_, claim.port, claim.protocol, cidr=claim.to)
        deps = evaluate_dependencies(truth.bundle, [probe], conn=truth.conn, explainer=truth.explainer)
        note = (f"\nnote: no known dependency {claim.from_} -> {claim.to}:{claim.port}/{claim.protocol}; "
                "the verdict is what the policies decide for egress to that range")
    broken = [d for d in deps if not d.allowed]
    if broken:
        return ClaimCheck(data, "confirmed", explanation=broken[0].explanation + note)
    return ClaimCheck(data, "contradicted", {"broken": False}, deps[0].explanation + note)


def _dns(claim: DnsEgressMissingClaim, data: dict[str, Any], truth: ClaimIndex) -> ClaimCheck:
    bad = truth.unknown_workload(claim.workload)
    if bad:
        return ClaimCheck(data, "unverifiable", explanation=bad)
    finding = truth.dns_missing.get(claim.workload)
    if finding:
        return ClaimCheck(data, "confirmed", explanation=finding.message)
    return ClaimCheck(data, "contradicted", {"dns_egress_missing": False},
                      f"{claim.workload} can reach cluster DNS on UDP/53 and TCP/53")


def _finding(claim: FindingClaim, data: dict[str, Any], truth: ClaimIndex) -> ClaimCheck:
    known_objects = {*truth.workloads, *truth.policies, *truth.bundle.namespaces,
                     *(p.name for p in truth.bundle.admin_policies)}
    objects_with_findings = {obj for _, obj in truth.findings}
    if claim.object not in known_objects and claim.object not in objects_with_findings:
        return ClaimCheck(data, "unverifiable", explanation=f"no workload, policy or namespace {claim.object!r} exists")
    hit = truth.findings.get((claim.rule, claim.object))
    if hit:
        return ClaimCheck(data, "confirmed", explanation=hit.message)
    actual = sorted(rule for rule, obj in truth.findings if obj == claim.object)
    return ClaimCheck(data, "contradicted", {"findings_for_object": actual},
                      f"no {claim.rule} finding for {claim.object}"
                      + (f"; it has {', '.join(actual)}" if actual else ""))


def _policy_selects(claim: PolicySelectsClaim, data: dict[str, Any], truth: ClaimIndex) -> ClaimCheck:
    admin = admin_policy_named(truth.bundle, claim.policy)
    if claim.policy not in truth.policies and admin is not None:
        return _admin_selects(claim, data, truth, admin)
    if claim.policy not in truth.policies:
        return ClaimCheck(data, "unverifiable",
                          explanation=f"no NetworkPolicy {claim.policy!r} exists{_close(claim.policy, truth.policies)}")
    unknown = [w for w in claim.workloads if w not in truth.workloads]
    if unknown:
        return ClaimCheck(data, "unverifiable", explanation=f"no workload {', '.join(map(repr, unknown))} exists")
    actual = truth.selected_by(claim.policy)
    ok = sorted(set(claim.workloads)) == actual
    selector = str(truth.policies[claim.policy].pod_selector)
    return ClaimCheck(data, "confirmed" if ok else "contradicted", None if ok else {"workloads": actual},
                      f"{claim.policy} selects {selector}: {', '.join(actual) or 'no workload'}")


def _admin_selects(claim: PolicySelectsClaim, data: dict[str, Any], truth: ClaimIndex,
                   admin: AdminPolicy) -> ClaimCheck:
    """`policy_selects` about an AdminNetworkPolicy or the baseline: its subject's workloads."""
    unknown = [w for w in claim.workloads if w not in truth.workloads]
    if unknown:
        return ClaimCheck(data, "unverifiable", explanation=f"no workload {', '.join(map(repr, unknown))} exists")
    judge = truth.explainer.admin
    assert judge is not None  # the bundle has `admin`, so the explainer has a judge
    actual = sorted(w.id for w in truth.bundle.workloads if judge.subject_matches(admin, w))
    ok = sorted(set(claim.workloads)) == actual
    return ClaimCheck(data, "confirmed" if ok else "contradicted", None if ok else {"workloads": actual},
                      f"{admin.label} has subject {admin.subject}: {', '.join(actual) or 'no workload'}")


def _missed(answer: ModelAnswer, truth: ClaimIndex, scope: tuple[str, ...]) -> tuple[list[MissedItem], bool]:
    claims = answer.claims
    missed: list[MissedItem] = []
    truncated = False
    if "flow" in scope:
        said = {(c.from_, c.to, c.port, c.protocol) for c in claims if isinstance(c, FlowClaim)}
        items, truncated = truth.flow_items()
        for src, dst, port, proto in items:
            if (src, dst, port, proto) not in said:
                allowed = truth.conn.is_allowed(src, dst, port, proto)
                missed.append(MissedItem("flow",
                                         {"from": src, "to": dst, "port": port, "protocol": proto, "allowed": allowed}))
    if "dependency_broken" in scope:
        claimed = _claimed_dependencies([c for c in claims if isinstance(c, DependencyBrokenClaim)], truth)
        for d in truth.dependencies:
            if not d.allowed and id(d) not in claimed:
                dep = d.dependency
                missed.append(MissedItem("dependency_broken", as_entry(dep), d.explanation))
    if "dns_egress_missing" in scope:
        said_dns = {c.workload for c in claims if isinstance(c, DnsEgressMissingClaim)}
        for wid, f in sorted(truth.dns_missing.items()):
            if wid not in said_dns:
                missed.append(MissedItem("dns_egress_missing", {"workload": wid}, f.message))
    if "finding" in scope:
        said_f = {(c.rule, c.object) for c in claims if isinstance(c, FindingClaim)}
        for key, f in sorted(truth.findings.items()):
            if key not in said_f and f.severity != "info":
                missed.append(MissedItem("finding", {"rule": f.rule, "object": f.object}, f.message))
    return missed, truncated


def _close(ref: str, known: Iterable[str]) -> str:
    return or_hint(ref, known, n=2)
