"""Review findings: the classic NetworkPolicy mistakes, found deterministically.

`lint` runs every rule in `verifier.review.rules` over a bundle and returns sorted findings; each has a
stable rule id, a severity, the object and file:line it concerns, an actionable message, often
a YAML fix, and `details["key"]`, which with the rule and object identifies the finding across
two versions of a bundle (`verifier.review.diff`). `lint_json` is the documented JSON view that the
CLI, the HTTP API and claim checking share.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from ..engine.compile import CompiledBundle, compile_bundle, moved_positions
from ..deps.dependencies import evaluate_dependencies
from ..engine.connectivity import Connectivity, compute_connectivity
from ..gcpause import gc_paused
from ..model.bundle import Bundle, NetworkPolicy, SourceRef
from ..model.records import Dependency, Finding
from .fixes import Fix, FixSet, attach_fixes, converge
from .rules.admin import admin_findings
from .rules.breadth import breadth_findings
from .rules.catalog import RULES, RULES_BY_ID, SEVERITY_ORDER
from .rules.context import DependencyResultLike, LintContext
from .rules.coverage import CoverageRow, coverage_rows, default_deny_findings, legacy_annotation_findings
from .rules.deps import dependency_findings, dependency_json
from .rules.dns import DnsView, dns_findings, ipblock_findings
from .rules.invalid import invalid_object_findings
from .rules.locate import FieldLocator
from .rules.platform import cni_findings, hostname_findings
from .rules.selection import namespace_label_findings, selects_nothing_findings
from .rules.sides import side_findings
from .rules.unevaluated import unevaluated_findings

LINT_SCHEMA = "netreason.lint/v1"


@dataclass(frozen=True, slots=True)
class LintReport:
    """Everything `netreason lint` reports: findings, dependency verdicts, rollout coverage."""

    findings: tuple[Finding, ...]
    dependencies: tuple[DependencyResultLike, ...] = ()
    coverage: tuple[CoverageRow, ...] = ()
    fixes: tuple[Fix, ...] = ()  # every fix the findings need, converged (see `verifier.review.fixes`)


def lint(
    bundle: Bundle, deps_results: Sequence[DependencyResultLike] | None = None,
    conn: Connectivity | None = None, *, texts: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Every finding for a bundle, sorted by severity, rule, object and key.

    `deps_results` (from `verifier.deps.dependencies.evaluate_dependencies`) feed dependency-broken;
    `conn` saves recomputing connectivity; `texts` maps file names to their text so comments
    can be read (hostname-intent). Pure: the same inputs give the same list.
    """
    return list(lint_report(bundle, deps_results, conn, texts=texts).findings)


def lint_report(
    bundle: Bundle, deps_results: Sequence[DependencyResultLike] | None = None,
    conn: Connectivity | None = None, *, texts: Mapping[str, str] | None = None, fixes: bool = True,
    on_step: StepReport | None = None,
) -> LintReport:
    """`lint` plus the dependency verdicts, the coverage table and the converged fixes, computed once.

    Each finding's `fix` is the YAML of the fixes it needs (`details["fixes"]` their ids) or
    None where a human must choose; `fixes=False` skips computing them. `on_step(what, done,
    total)` hears of each step as it starts (a progress line; it must not raise).
    """
    step = on_step or _no_step
    # The rules and fixes allocate hundreds of thousands of findings, strings and dicts that live until
    # the report is rendered: the cyclic collector's passes over them were 15-25% of this (5,413 pods).
    with gc_paused():
        ctx = LintContext(bundle, conn, deps_results or (), texts, snippets=not fixes)  # fixes replace the snippets
        found, rows = _findings(ctx, step)
        step("fixes", 0, 0)
        fixed = _with_fixes(ctx, found) if fixes else None
        step("field lines", 0, 0)
        if fixed is not None:
            found = attach_fixes(found, fixed, _field_sources(found, ctx.texts, bundle))
        else:
            found = _at_field_lines(found, ctx.texts, bundle)
        deps = sorted(ctx.deps, key=lambda r: (r.allowed, r.dependency.key()))
        return LintReport(tuple(sort_findings(found)), tuple(deps), tuple(rows), fixed.fixes if fixed else ())


#: Reports a step of `lint_report` as it starts: (what, done, total); total 0 for a step without parts.
StepReport = Callable[[str, int, int], None]


def _no_step(what: str, done: int, total: int) -> None:
    return None


def _findings(ctx: LintContext, step: StepReport = _no_step, *, fresh: Sequence[NetworkPolicy] | None = None,
              denies_kept: bool = False) -> tuple[list[Finding], list[CoverageRow]]:
    """Every rule's findings, and the coverage table.

    `fresh` (a fix round only): the policies of `ctx.bundle` that the fixes changed or added; the rules
    that judge one policy at a time look at these only (`_per_policy_scope`). `denies_kept` (a fix round
    only): the fixes took no namespace-wide policy away (`_keeps_default_denies`), so the default-deny
    rules are skipped and the coverage table is empty.
    """
    step("rules", 0, 0)
    dns = DnsView(ctx)
    rows = [] if denies_kept else coverage_rows(ctx)
    own = _per_policy_scope(ctx, fresh)
    rules: list[Callable[[], list[Finding]]] = [
        lambda: dns_findings(ctx, dns), lambda: ipblock_findings(ctx, dns), lambda: _side_findings(ctx),
        lambda: breadth_findings(ctx, fresh), lambda: namespace_label_findings(own),
        lambda: selects_nothing_findings(own),
    ]
    if not denies_kept:
        rules += [lambda: default_deny_findings(ctx, rows), lambda: legacy_annotation_findings(ctx)]
    if ctx.explanations:  # a fix round reads findings only to propose fixes: these rules' findings never get one
        rules += [lambda: cni_findings(ctx), lambda: hostname_findings(ctx), lambda: unevaluated_findings(ctx),
                  lambda: invalid_object_findings(ctx), lambda: admin_findings(ctx)]
    found: list[Finding] = []
    for done, rule in enumerate(rules, 1):
        step("rules", done, len(rules) + 1)
        found += rule()
    step("rules", len(rules) + 1, len(rules) + 1)
    found += dependency_findings(ctx, found)
    # where the denying policies are is for people: a fix round's findings are read only to propose fixes
    return (_with_policy_locations(found, ctx.bundle) if ctx.explanations else found), rows


def _per_policy_scope(ctx: LintContext, fresh: Sequence[NetworkPolicy] | None) -> LintContext:
    """The context for namespace-label-missing and policy-selects-nothing: in a fix round, only `fresh` policies.

    Their findings, and the fixes proposed for them, read one policy and the bundle's workloads and
    namespaces, which the fixes never change; so a policy no fix touched gives the finding it gave
    in round 0, whose fix is recorded already, and proposing it again would change nothing. The
    same holds for the DNS rules of selector-too-broad (`breadth_findings(ctx, fresh)`); its other
    findings never get a fix. A test holds the fixes equal to linting every policy each round.
    """
    if fresh is None:
        return ctx
    return LintContext(dataclasses.replace(ctx.bundle, policies=tuple(fresh)), ctx.conn, ctx.deps,
                       explanations=ctx.explanations, shared=ctx)


def _fresh_policies(given: Bundle, fixed: Bundle, given_ids: set[int], compiled: CompiledBundle) -> list[NetworkPolicy]:
    """The policies of `fixed` that a fix round's per-policy rules read (`_per_policy_scope`): those the fixes
    changed or added (not in `given_ids`), but a podSelector fix that left the rest of the policy as it was
    and now selects pods (`compiled`: `fixed`'s).

    Such a policy's findings are its rules' (the same objects, in the same policy's name, namespace and
    types), which were the original's in round 0 and whose fixes are recorded already (a patch of a path
    already patched adds nothing), and none about its podSelector: it selects pods, and is not empty (an
    empty one is read for selector-too-broad).
    """
    before, after = given.policies, fixed.policies
    out = []
    for i in chain(moved_positions(before, after), range(len(before), len(after))):
        new = after[i]
        if id(new) not in given_ids and not (i < len(before) and _reselected(before[i], new, compiled)):
            out.append(new)
    return out


def _reselected(old: NetworkPolicy, new: NetworkPolicy, compiled: CompiledBundle) -> bool:
    """Whether `new` is `old` with another podSelector, not empty, that selects pods (`compiled`: `new`'s)."""
    return (new.ingress is old.ingress and new.egress is old.egress and new.namespace == old.namespace
            and new.name == old.name and new.policy_types == old.policy_types
            and (new.source is old.source or new.source == old.source)
            and not new.pod_selector.is_empty and bool(compiled.policy_targets.get(new.id)))


def _keeps_default_denies(given: Bundle, fixed: Bundle) -> bool:
    """Whether every namespace-wide policy of `given` is one of `fixed` too, for the same directions: the
    same object, or at its position one with an empty podSelector and at least its policy types.

    Then a fix round need not run no-default-deny and legacy-isolation-annotation: they read only the
    namespace-wide policies, the admin and unevaluated policies, the workloads and the namespaces, which
    the fixes do not change or only add to. A no-default-deny finding of `fixed` for a namespace and
    direction was one of `given` too, whose fix (`fixes._default_deny_fix`) added the namespace-wide
    policy that `fixed` would then have: there is none. A legacy annotation's finding is the same in
    every round, and its fix adds the default deny only when the namespace has no namespace-wide ingress
    policy: then round 0 added it, else `fixed` has one still. So neither gives a fix, nor reads the
    coverage table. The fix-round tests hold this to linting everything (`every_policy=True`).
    """
    before, after = given.policies, fixed.policies
    if len(after) < len(before):
        return False
    for i in moved_positions(before, after):
        old, new = before[i], after[i]
        if old.pod_selector.is_empty and not (new.pod_selector.is_empty and new.namespace == old.namespace
                                              and set(old.policy_types) <= set(new.policy_types)):
            return False
    return True


def _side_findings(ctx: LintContext) -> list[Finding]:
    """The one-sided rules; in a fix round (no explanations) only when there are dependencies.

    Their fixes open only flows a dependency needs (`fixes._one_sided_fix`) and they are read
    otherwise only as causes of broken dependencies; the fix rounds read findings only to
    propose fixes, so without dependencies they are moot there.
    """
    if not ctx.explanations and not ctx.deps:
        return []
    return side_findings(ctx)


def _with_policy_locations(found: list[Finding], bundle: Bundle) -> list[Finding]:
    """dependency-broken findings also name where each denying policy is (`details["policy_locations"]`).

    The finding itself stays at the dependency's declaration; code scanning shows it on the policy.
    """
    where = {p.id: p.source for p in bundle.policies}
    out = []
    for f in found:
        if f.rule == "dependency-broken" and f.details.get("policies"):
            locations = [{"policy": pid, "file": src.file if src else None, "line": src.line if src else None}
                         for pid in f.details["policies"] for src in [where.get(pid)]]
            f = dataclasses.replace(f, details={**f.details, "policy_locations": locations})
        out.append(f)
    return out


def _with_fixes(ctx: LintContext, found: list[Finding], *, every_policy: bool = False) -> FixSet:
    """The converged fixes for `found`, the findings of `ctx`.

    `every_policy=True` lints every policy with every rule in each fix round, not only those the fixes
    changed or added (`_per_policy_scope`) nor the default-deny rules when no default deny went
    (`_keeps_default_denies`): the same fixes, slower; the tests compare the two.
    """
    given = {id(p) for p in ctx.bundle.policies}

    def relint(bundle: Bundle, deps: Sequence[Dependency]) -> tuple[list[DependencyResultLike], list[Finding],
                                                                       Connectivity]:
        # read only to propose fixes; the same workloads and namespaces, so their label lookups are shared,
        # and the policies no fix touched keep their compiled grants
        # (each class's entries only if asked: without dependencies no rule of a fix round needs them)
        conn = compute_connectivity(compile_bundle(bundle, base=ctx.conn.compiled), lazy=True)
        results = evaluate_dependencies(bundle, deps, conn=conn) if deps else []
        fresh = None if every_policy else _fresh_policies(ctx.bundle, bundle, given, conn.compiled)
        found = _findings(LintContext(bundle, conn, results, explanations=False, shared=ctx), fresh=fresh,
                          denies_kept=not every_policy and _keeps_default_denies(ctx.bundle, bundle))[0]
        return results, found, conn
    deps = [r.dependency for r in ctx.deps]
    return converge(ctx.bundle, deps, ctx.deps, found, relint, conn=ctx.conn)


def _at_field_lines(findings: list[Finding], texts: Mapping[str, str], bundle: Bundle) -> list[Finding]:
    """Move each finding with a `details["field"]` to that field's line, when the text is known
    (`_field_sources`; with fixes, `attach_fixes` moves them as it attaches)."""
    return [f if source is f.source else f.with_fix(f.message, f.fix, f.details, source)
            for f, source in zip(findings, _field_sources(findings, texts, bundle))]


def _field_sources(findings: Sequence[Finding], texts: Mapping[str, str], bundle: Bundle) -> list[SourceRef | None]:
    """Each finding's source at the line of its `details["field"]` when the text is known and the field
    is found there; else its own source (the same object).

    Policies' field lines were recorded while parsing (`Bundle.field_lines`); other objects'
    files are composed once each (`FieldLocator`).
    """
    locator = FieldLocator(texts)
    recorded_of = bundle.field_lines
    out = []
    for f in findings:
        source = f.source
        field = f.details.get("field")
        if field and source is not None and source.file in texts:
            recorded = recorded_of.get((source.file, source.line))
            line = recorded.line(field) if recorded is not None else locator.line(source, field)
            if line:
                source = SourceRef(source.file, line, source.document)
        out.append(source)
    return out


def coverage(bundle: Bundle, conn: Connectivity | None = None) -> list[CoverageRow]:
    """The rollout coverage table: per namespace with workloads, how many are isolated each way."""
    return coverage_rows(LintContext(bundle, conn))


def sort_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Deterministic order: severity, rule, object, key, then location."""
    return sorted(findings, key=_sort_key)


def _sort_key(f: Finding) -> tuple[int, str, str, str, str, int, str]:
    # Built for every finding (10,648 at benchmark tier M): the source read once, a string key not passed to str().
    source, key = f.source, f.details.get("key", "")
    return (SEVERITY_ORDER[f.severity], f.rule, f.object, key if type(key) is str else str(key),
            source.file if source else "", source.line if source else 0, f.message)


def finding_json(f: Finding) -> dict[str, Any]:
    """One `findings[]` entry of `lint --format json`."""
    return {
        "rule": f.rule, "severity": f.severity, "object": f.object,
        "file": f.source.file if f.source else None, "line": f.source.line if f.source else None,
        "message": f.message, "fix": f.fix, "key": str(f.details.get("key", "")),
        "fixes": list(f.details.get("fixes", ())),
        "details": _plain(f.details),
    }


def lint_json(report: LintReport) -> dict[str, Any]:
    """The `netreason lint --format json` document (keys are a contract: add, never rename)."""
    return {
        "schema": LINT_SCHEMA,
        "findings": [finding_json(f) for f in report.findings],
        "dependencies": [dependency_json(r) for r in report.dependencies],
        "coverage": [row.as_json() for row in report.coverage],
        "fixes": [fix.as_json() for fix in report.fixes],
        "summary": lint_summary(report),
    }


def lint_summary(report: LintReport) -> dict[str, Any]:
    """The `summary` of `lint_json`: counts by severity and rule, dependencies and fixes.

    Apart from `lint_json` so that an analysis, which carries the findings and this summary but not
    the fixes' manifests, builds only what it shows.
    """
    by_rule = Counter(f.rule for f in report.findings)
    by_severity = Counter(f.severity for f in report.findings)
    return {
        "findings": len(report.findings),
        "by_severity": {s: by_severity.get(s, 0) for s in ("error", "warning", "info")},
        "by_rule": dict(sorted(by_rule.items())),
        "dependencies": len(report.dependencies),
        "dependencies_denied": sum(not r.allowed for r in report.dependencies),
        "fixes": len(report.fixes),
    }


def worst_severity(findings: Sequence[Finding]) -> str | None:
    """The most severe level among findings (None when there are none)."""
    return min((f.severity for f in findings), key=SEVERITY_ORDER.__getitem__, default=None)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    """`value` with every mapping a dict with string keys and every list or tuple a list (JSON's shapes).

    Findings' details are small dicts of strings, numbers and short lists (10,648 at benchmark tier M):
    a dict is copied whole and only its items that are not scalars replaced, scalar items of a list are
    taken without a call each, and plain dicts, lists and tuples skip the ABC checks (`isinstance(_,
    Mapping)` is slow). A test holds it to the general reading on random values.
    """
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        out = value.copy()
        for k, v in value.items():
            if type(k) is not str:  # rare: every key made a string, in order
                return {str(k): _plain(v) for k, v in value.items()}
            if type(v) not in _SCALARS:
                out[k] = _plain(v)
        return out
    if kind is list or kind is tuple:
        return [v if type(v) in _SCALARS else _plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


__all__ = [
    "LINT_SCHEMA", "RULES", "RULES_BY_ID", "CoverageRow", "LintReport", "coverage", "finding_json",
    "lint", "lint_json", "lint_report", "lint_summary", "sort_findings", "worst_severity",
]
