"""One truth per bundle, computed once: what analyze, lint, diff, the API, chat, Slack and the evals all report.

    bundle + texts + deps ─► compute_truth ─► Truth ─► truth_json / lint_doc / diff_doc (the one set of serialisers)

`Truth` holds connectivity, the dependencies (declared, observed, inferred) with their verdicts,
the findings, the rollout coverage, the DNS gaps and the source texts the findings were read from.
Every command and endpoint builds it through `compute_truth` and renders it through the serialisers
here, so the CLI and the API give the same documents; a diff takes two truths and computes nothing
either side has already computed. No model SDK, prompt library or web framework is imported here:
`lint` and `diff` start quickly.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import verifier
from verifier.engine.connectivity import Connectivity
from verifier.deps.dependencies import DependencyResult, evaluate_dependencies, gather_dependencies
from verifier.review.findings import LintReport, finding_json, lint_json, lint_report, lint_summary, sort_findings
from verifier.model.bundle import Bundle, Issue
from verifier.model.records import Finding
from verifier.review.rules.unresolved import unresolved_dependency_findings

from . import progress

if TYPE_CHECKING:  # claims (pydantic) and diffs are imported where they are used: lint needs neither
    from verifier.claims.check import ClaimIndex
    from verifier.review.diff import BundleDiff

Deps = str | list[dict[str, Any]] | None


@dataclass(frozen=True)
class Truth:
    """What the verifier says about a bundle: the authority every claim is checked against.

    `report` is the lint view (findings, dependency verdicts sorted for display, coverage);
    `dependencies` keeps the order they were gathered in (declared, observed, inferred).
    """

    bundle: Bundle
    conn: Connectivity
    dependencies: tuple[DependencyResult, ...]
    findings: tuple[Finding, ...]
    issues: tuple[Issue, ...]
    seconds: float
    report: LintReport = field(default_factory=lambda: LintReport(()))
    texts: Mapping[str, str] = field(default_factory=dict)
    label: str = ""

    def __repr__(self) -> str:
        # The default repr would print the whole bundle (asyncio and loggers call repr on what they hold).
        return (f"Truth({self.label or 'bundle'}: {len(self.bundle.workloads)} workloads, "
                f"{len(self.bundle.policies)} policies, {len(self.findings)} findings)")

    @cached_property
    def claims(self) -> ClaimIndex:
        """The lookups claims are checked against (built on first use: lint and diff never need them)."""
        from verifier.claims.check import ClaimIndex

        return ClaimIndex(self.bundle, self.conn, self.dependencies, self.findings)

    @property
    def coverage(self) -> tuple[Any, ...]:
        return self.report.coverage

    @property
    def dns_gaps(self) -> list[str]:
        """Workloads whose egress is isolated without a way to DNS (the dns-egress-missing findings)."""
        return sorted(f.object for f in self.findings if f.rule == "dns-egress-missing")

    def dependencies_from(self, source: str) -> tuple[DependencyResult, ...]:
        """The dependencies of one source: "declared", "observed" or "inferred"."""
        return tuple(r for r in self.dependencies if r.dependency.source == source)


def compute_truth(
    bundle: Bundle, *, deps: Deps = None, deps_origin: str | None = None,
    observed: str | list[dict[str, Any]] | None = None, infer: bool = True,
    texts: Mapping[str, str] | None = None, label: str = "", observed_origin: str | None = None,
    fixes: bool = True,
) -> Truth:
    """Connectivity, dependencies with verdicts, findings and coverage for a bundle (pure, no model).

    `deps` is the declared dependencies file's text (issues then carry its lines) or parsed
    list; `texts` maps manifest file names to their text, so findings can read comments and
    point at the line of the field they concern. `fixes=False` skips the converged fixes (they
    lint the bundle again up to four times: most of the time on a large cluster with broken findings).
    """
    start = time.perf_counter()
    with progress.working("compiling policies, computing connectivity") as shown:
        conn = verifier.analyze(bundle)
        shown.show("gathering dependencies")
        gathered, dep_issues = gather_dependencies(bundle, deps, deps_origin, observed, infer=infer,
                                                   observed_origin=observed_origin)
        results = evaluate_dependencies(bundle, gathered, conn=conn)
        report = lint_report(bundle, results, conn, texts=texts, fixes=fixes,
                             on_step=lambda what, done,
                             total: shown.count(what, done, total) if total else shown.show(what))
    unresolved = unresolved_dependency_findings(dep_issues)
    if unresolved:
        report = dataclasses.replace(report, findings=tuple(sort_findings([*unresolved, *report.findings])))
    return Truth(bundle, conn, tuple(results), report.findings, tuple(dep_issues), time.perf_counter() - start,
                 report, dict(texts or {}), label)


# --- the serialisers: every output of a truth goes through these --------------------------


def lint_doc(truth: Truth) -> dict[str, Any]:
    """The `netreason lint --format json` document (and the body of POST /v1/lint)."""
    return lint_json(truth.report)


def truth_json(truth: Truth) -> dict[str, Any]:
    """The ground-truth half of an analysis: dependencies, DNS gaps, findings, coverage, counts."""
    from verifier.engine.export import bundle_notes, issue_json
    from verifier.engine.exposure_report import exposure_section

    from .traffic_graph import graph_json

    deps = [_dependency_json(r) for r in truth.dependencies]
    report = truth.report  # its findings, coverage and summary as `lint_doc` has them, not the fixes' manifests
    return {
        "summary": truth.conn.summary(),
        "dependencies": deps,
        "dependencies_broken": [d for d in deps if not d["allowed"]],
        "dns_egress_missing": truth.dns_gaps,
        "findings": [finding_json(f) for f in report.findings],
        "coverage": [row.as_json() for row in report.coverage],
        "findings_summary": lint_summary(report),
        "issues": [issue_json(i) for i in (*truth.bundle.issues, *truth.issues)],
        "notes": bundle_notes(truth.bundle),
        "exposure": exposure_section(truth.conn),
        "seconds": round(truth.seconds, 4),
        "graph": graph_json(truth),
    }


def diff_truths(old: Truth, new: Truth) -> BundleDiff:
    """What changes from `old` to `new`, from the two truths as computed (nothing is recomputed)."""
    from verifier.review.diff import diff_sides

    return diff_sides(old.bundle, new.bundle, old.conn, new.conn, old.dependencies, new.dependencies,
                      old.findings, new.findings)


def diff_doc(old: Truth, new: Truth) -> dict[str, Any]:
    """The `netreason diff --format json` document (and the `diff` of POST /v1/review, the body of /v1/diff)."""
    from .blast import MAX_LISTED, blast_radius

    from verifier.review.diff import diff_json

    doc = diff_json(diff_truths(old, new), old.label or "old", new.label or "new")
    radius = blast_radius(doc, new)
    doc["blast_radius"] = {"workloads": radius[:MAX_LISTED], "total": len(radius)}
    return doc


def _dependency_json(r: DependencyResult) -> dict[str, Any]:
    d = r.dependency
    return {
        "from": d.src, "to": d.target, "service": d.service, "service_port": d.service_port,
        "port": d.port, "protocol": d.protocol, "source": d.source, "evidence": d.evidence,
        "allowed": r.allowed, "explanation": r.explanation,
        "file": d.origin.file if d.origin else None, "line": d.origin.line if d.origin else None,
    }


__all__ = ["Truth", "compute_truth", "diff_doc", "diff_truths", "finding_json", "lint_doc", "truth_json"]
