"""dependency-broken: a dependency the policies deny, with the side, policy and closest miss."""

from __future__ import annotations

from typing import Any

from ...engine.explain import SideVerdict, Verdict
from ...model.bundle import Workload
from ...model.records import Dependency, Finding
from .context import DependencyResultLike, LintContext


def dependency_json(result: DependencyResultLike) -> dict[str, Any]:
    """The `dependencies[]` entry of `lint --format json`."""
    d = result.dependency
    return {
        "from": d.src, "to": d.target, "port": d.port, "protocol": d.protocol, "source": d.source,
        "service": d.service, "service_port": d.service_port, "evidence": d.evidence,
        "allowed": result.allowed, "explanation": result.explanation,
        "file": d.origin.file if d.origin else None, "line": d.origin.line if d.origin else None,
    }


def dependency_findings(ctx: LintContext, others: list[Finding]) -> list[Finding]:
    """One dependency-broken finding per denied dependency; `others` supply the likely causes."""
    out: list[Finding] = []
    if all(r.allowed for r in ctx.deps):
        return out  # the index of causes and of workloads is built only for a denied dependency
    index = _CauseIndex(others)
    workloads: dict[str, Workload] = {}
    for each in ctx.bundle.workloads:
        workloads.setdefault(each.id, each)  # the first of a repeated id, as `Bundle.workload` answers
    for r in ctx.deps:
        if r.allowed:
            continue
        d = r.dependency
        denied, policies = _denial(r.verdict)
        causes = _causes(d, denied, index)
        via = f" via Service {d.service}:{d.service_port}" if d.service else ""
        text = "; ".join(f"{side.direction} at {_owner(d, side)}: {side.explain()}" for side in denied) or r.explanation
        cause_text = f" Likely cause: {'; '.join(c['message'] for c in causes[:2])}." if causes else ""
        w = workloads.get(d.src)
        out.append(Finding(
            "dependency-broken", "error", d.src,
            f"{d.src} -> {d.target} {d.protocol}/{d.port}{via} ({d.source} dependency) is denied. {text}.{cause_text}",
            d.origin or (w.source if w else None), None,
            {"key": f"{d.target} {d.protocol}/{d.port}", "dependency": dependency_json(r),
             "denied_by": [s.direction for s in denied], "policies": policies,
             "causes": [c["finding"] for c in causes]},
        ))
    return out


def _denial(verdict: Verdict | None) -> tuple[list[SideVerdict], list[str]]:
    if verdict is None:
        return [], []
    sides = [s for s in (verdict.egress, verdict.ingress) if not s.allowed]
    policies = sorted({p for s in sides for p in s.selected_by})
    return sides, policies


def _owner(d: Dependency, side: SideVerdict) -> str:
    return d.src if side.direction == "egress" else d.target


class _CauseIndex:
    """The findings that can explain a denial, by the name `_cause_rank` compares them with.

    A cause either names the denying side's owner as its nearest pods (a selects-nothing podSelector) or is
    about one of the policies selecting that side; looking both up keeps the rule linear in dependencies
    plus findings rather than their product.
    """

    def __init__(self, findings: list[Finding]) -> None:
        self._by_nearest: dict[str, list[int]] = {}
        self._by_object: dict[str, list[int]] = {}
        self.findings = findings
        for i, f in enumerate(findings):
            near = f.details.get("nearest")
            if f.rule == "policy-selects-nothing" and f.details.get("field") == "spec.podSelector" and near:
                self._by_nearest.setdefault(str(near), []).append(i)
            if f.rule in ("policy-selects-nothing", "namespace-label-missing", "selector-too-broad"):
                self._by_object.setdefault(f.object, []).append(i)

    def candidates(self, owner: str | None, policies: set[str]) -> list[Finding]:
        """Every finding that may rank for this side, in the order the findings came."""
        found = set(self._by_nearest.get(owner, ())) if owner else set()
        for p in policies:
            found.update(self._by_object.get(p, ()))
        return [self.findings[i] for i in sorted(found)]


def _causes(d: Dependency, denied: list[SideVerdict], index: _CauseIndex) -> list[dict[str, Any]]:
    """Findings that explain the denial, most specific first.

    For each denying side (its owner: the client for egress, the server for ingress):
    a selects-nothing policy whose nearest pods are the owner (a typo'd podSelector meant
    for it); a selects-nothing peer in a denying policy whose nearest pods are the other end;
    a namespace selector matching nothing in a denying policy; a too-broad policy that alone
    isolates the owner for that direction.
    """
    ranked: list[tuple[int, Finding]] = []
    for side in denied:
        owner, other = (d.src, d.dst) if side.direction == "egress" else (d.dst, d.src)
        policies = set(side.selected_by)
        for f in index.candidates(owner, policies):
            rank = _cause_rank(f, side.direction, owner, other, policies)
            if rank is not None:
                ranked.append((rank, f))
    seen: set[int] = set()
    out = []
    for _, f in sorted(ranked, key=lambda rf: rf[0]):
        if id(f) not in seen:
            seen.add(id(f))
            out.append({"finding": f"{f.rule} {f.object} {f.details.get('key', '')}".strip(), "message": _short(f)})
    return out


def _short(f: Finding) -> str:
    """`rule on object: first sentence (nearest: key: value)`."""
    first = f.message.split(". ", 1)[0].rstrip(".")
    suggestion = f.details.get("suggestion") or {}
    near = f" (nearest existing: {', '.join(f'{k}: {v}' for k, v in suggestion.items())})" if suggestion else ""
    return f"{f.rule} on {f.object}: {first}{near}"


def _cause_rank(f: Finding, direction: str, owner: str | None, other: str | None, policies: set[str]) -> int | None:
    near = f.details.get("nearest")
    if f.rule == "policy-selects-nothing":
        if f.details.get("field") == "spec.podSelector" and near == owner:
            return 0
        if f.object in policies and near == other and f.details.get("field", "").startswith(f"spec.{direction}"):
            return 0
    if f.rule == "namespace-label-missing" and f.object in policies:
        return 1
    if (f.rule == "selector-too-broad" and f.object in policies and f.details.get("direction") == direction
            and owner in f.details.get("isolated_only_by_this", ())):
        return 2
    return None
