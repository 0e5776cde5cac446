"""What the apps need, and whether the policies let it through.

Dependencies come from three sources, in this order of trust:
  1. declared: a deps file (`declared.py`),
  2. observed: real traffic from a Hubble flow export (`hubble.py`),
  3. inferred: env values in the manifests that name a Service (`inference.py`).
A flow found by several sources is kept once, with the most trusted source; the evidence
of the others is appended. `evaluate_dependencies` asks the evaluator about each one.
Pure: callers pass parsed data or text; nothing here reads files.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..engine.compile import compile_bundle
from ..engine.connectivity import Connectivity, ExternalEgress, compute_connectivity
from ..engine.explain import Explainer, SideVerdict, Verdict
from ..model.bundle import Bundle, IPBlock, Issue
from ..model.records import DEFAULT_DEPS_FILE, Dependency
from ..sets.addresses import network
from .inference import infer_dependencies

#: Lower is more trusted.
TRUST = {"declared": 0, "observed": 1, "inferred": 2}

__all__ = [
    "DEFAULT_DEPS_FILE",
    "DependencyResult",
    "block_covers",
    "evaluate_dependencies",
    "gather_dependencies",
    "merge_dependencies",
]


def gather_dependencies(
    bundle: Bundle,
    declared: list[dict[str, Any]] | str | None,
    declared_origin: str | None,
    observed: str | list[dict[str, Any]] | None,
    infer: bool = True,
    *,
    observed_origin: str | None = None,
) -> tuple[list[Dependency], list[Issue]]:
    """Every dependency from the given sources, merged by trust, and the problems found.

    `declared` is a deps file's text (line numbers in messages) or its parsed list, from
    `declared_origin` (a file name for messages). `observed` is a Hubble JSON export's text or
    its parsed records. `infer` reads env values of the bundle's workloads. Unresolvable
    declared entries are error Issues; unresolvable observed or inferred ones are warnings.
    """
    deps: list[Dependency] = []
    issues: list[Issue] = []
    # The readers of a deps file and of a Hubble export are imported only when one is given.
    if declared is not None:
        from .declared import declared_dependencies

        found, problems = declared_dependencies(bundle, declared, declared_origin or DEFAULT_DEPS_FILE)
        deps += found
        issues += problems
    if observed is not None:
        from .hubble import observed_dependencies, parse_flows

        origin = observed_origin or "hubble export"
        flows, problems = parse_flows(observed, origin)
        found, unmatched = observed_dependencies(bundle, flows, origin)
        deps += found
        issues += problems + unmatched
    if infer:
        found, problems = infer_dependencies(bundle)
        deps += found
        issues += problems
    return merge_dependencies(deps), issues


def merge_dependencies(deps: Iterable[Dependency]) -> list[Dependency]:
    """One Dependency per (src, target, port, protocol): the most trusted, others as evidence.

    Order: declared first (in file order), then observed, then inferred.
    """
    groups: dict[tuple[str, str, int, str], list[Dependency]] = {}
    for dep in sorted(deps, key=lambda d: TRUST[d.source]):
        groups.setdefault(dep.key(), []).append(dep)
    return [_merge_group(group) for group in groups.values()]


def _merge_group(group: list[Dependency]) -> Dependency:
    best = group[0]
    extra = [d.evidence for d in group[1:] if d.evidence and d.evidence != best.evidence]
    extra = list(dict.fromkeys(extra))
    service = best.service or next((d.service for d in group if d.service), None)
    service_port = best.service_port if best.service else next((d.service_port for d in group if d.service), None)
    evidence = "; also ".join([best.evidence, *extra]) if extra else best.evidence
    return replace(best, evidence=evidence, service=service, service_port=service_port)


@dataclass(frozen=True, slots=True)
class DependencyResult:
    """The evaluator's answer for one dependency; `verdict` is None for cidr destinations."""

    dependency: Dependency
    allowed: bool
    explanation: str
    verdict: Verdict | None


def evaluate_dependencies(
    bundle: Bundle,
    deps: Sequence[Dependency],
    conn: Connectivity | None = None,
    explainer: Explainer | None = None,
) -> list[DependencyResult]:
    """Whether the bundle's policies allow each dependency, with the rules that decide it.

    A workload destination needs the source's egress and the destination's ingress (the
    explanation lists every rule that missed on a denied side). A cidr destination is
    outside the cluster: only the source's egress applies (`conn.external_egress`), and it
    is allowed when one egress rule's ipBlock covers the whole CIDR on the port.

    Raises:
        UnknownWorkload: a dependency names a workload the bundle does not have.
    """
    if not deps:  # an explainer indexes every policy (12 ms at benchmark tier M): none is built for nothing
        return []
    explainer = explainer or Explainer(bundle)
    results: list[DependencyResult] = []
    for dep in deps:
        if dep.dst is not None:
            results.append(_evaluate_pair(explainer, dep))
        else:
            conn = conn or compute_connectivity(compile_bundle(bundle))
            results.append(_evaluate_cidr(conn, explainer, dep))
    return results


def _evaluate_pair(explainer: Explainer, dep: Dependency) -> DependencyResult:
    assert dep.dst is not None
    verdict = explainer.check(dep.src, dep.dst, dep.port, dep.protocol)
    head = "ALLOWED" if verdict.allowed else "DENIED"
    via = f" (dials Service {dep.service} port {dep.service_port})" if dep.service and dep.service_port else ""
    lines = [
        f"{head}: {dep.src} -> {dep.dst} {dep.protocol}/{dep.port}{via}",
        f"  egress at {dep.src}: {_side_text(verdict.egress)}",
        f"  ingress at {dep.dst}: {_side_text(verdict.ingress)}",
        *(f"  note: {n}" for n in verdict.notes),
        f"  dependency {dep.evidence}" if dep.evidence else "",
    ]
    return DependencyResult(dep, verdict.allowed, "\n".join(line for line in lines if line), verdict)


def _side_text(side: SideVerdict) -> str:
    """The side's explanation; a denied side lists every rule that missed, not only the closest."""
    if side.allowed or not side.isolated or not side.misses:
        return side.explain()
    misses = "".join(f"\n    - {m}" for m in side.misses)
    return f"denied: selected by {', '.join(side.selected_by)}; no rule matches:{misses}"


def _evaluate_cidr(conn: Connectivity, explainer: Explainer, dep: Dependency) -> DependencyResult:
    assert dep.cidr is not None
    grants = conn.external_egress(dep.src)
    admitting = [g for g in grants if g.ports.contains(dep.protocol, dep.port)
                 and any(block_covers(b, dep.cidr) for b in g.blocks)]
    allowed = bool(admitting)
    head = "ALLOWED" if allowed else "DENIED"
    lines = [
        f"{head}: {dep.src} -> {dep.cidr} {dep.protocol}/{dep.port} (outside the cluster: only the source's egress "
        "applies)",
        f"  egress at {dep.src}: {_external_text(explainer, dep, grants, admitting)}",
        f"  dependency {dep.evidence}" if dep.evidence else "",
    ]
    return DependencyResult(dep, allowed, "\n".join(line for line in lines if line), None)


def _external_text(explainer: Explainer, dep: Dependency, grants: list[ExternalEgress],
                   admitting: list[ExternalEgress]) -> str:
    if any(g.rule == "unrestricted" for g in admitting):
        return "egress not restricted: no policy with Egress selects the source"
    if admitting:
        return "allowed by " + ", ".join(g.rule for g in admitting)
    selected = ", ".join(p.id for p in explainer.selecting(explainer.workload(dep.src), "egress"))
    head = f"denied: selected by {selected}; no egress rule admits {dep.cidr} on {dep.protocol}/{dep.port}"
    if not grants:
        return head + " (no egress rule reaches outside the cluster)"
    listed = "".join(f"\n    - {g.rule} allows {', '.join(str(b) for b in g.blocks)} on {g.ports}" for g in grants)
    return head + ":" + listed


def block_covers(block: IPBlock, cidr: str) -> bool:
    """Whether every address of `cidr` is in the block and in none of its excepts."""
    net, outer = network(cidr), network(block.cidr)
    # typeshed's subnet_of wants both networks of one class; the versions are compared first
    if net.version != outer.version or not net.subnet_of(outer):  # type: ignore[arg-type]
        return False
    return not any(_overlaps(net, network(e)) for e in block.excepts)


def _overlaps(a: ipaddress.IPv4Network | ipaddress.IPv6Network,
              b: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    return a.version == b.version and a.overlaps(b)
