"""Lint attaches the converged fixes and moves each finding to its field's line in one step: the findings of
doing the two one after the other.

`lint_report` reads the field lines from the findings before their fixes are attached
(`findings._field_sources`) and hands them to `attach_fixes`, so each finding is rebuilt once. That holds
only while attaching fixes leaves a finding's source and `details["field"]` alone: the report must equal
attaching the fixes, then moving the findings (`_at_field_lines`), on the finding cases, the corpus apps
with their dependencies and a generated cluster read from a file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

import verifier
from tests.generated import generated_text
from tests.shared import corpus_apps, require_shared
from verifier.deps.dependencies import DependencyResult, evaluate_dependencies, gather_dependencies
from verifier.model.bundle import Bundle
from verifier.model.records import Finding
from verifier.review import findings as findings_module
from verifier.review.findings import lint_report, sort_findings
from verifier.review.fixes import attach_fixes
from verifier.review.rules.context import LintContext

from .test_findings import CASES, case_files


def _one_after_the_other(bundle: Bundle, results: Sequence[DependencyResult], texts: Mapping[str, str]
                         ) -> list[Finding]:
    ctx = LintContext(bundle, None, results, texts, snippets=False)  # as `lint_report` makes it with fixes
    found, _ = findings_module._findings(ctx)
    attached = attach_fixes(found, findings_module._with_fixes(ctx, found))
    return sort_findings(findings_module._at_field_lines(attached, ctx.texts, bundle))


def assert_same_findings(files: Sequence[Path], results: Sequence[DependencyResult] = (),
                         bundle: Bundle | None = None) -> list[Finding]:
    bundle = bundle or verifier.load_bundle([str(f) for f in files])
    texts = {str(f): f.read_text() for f in files}
    got = list(lint_report(bundle, results, texts=texts).findings)
    assert got == _one_after_the_other(bundle, results, texts)
    return got


@pytest.mark.parametrize("name", sorted(CASES))
def test_finding_case_findings_are_those_of_attaching_then_moving(name: str) -> None:
    assert_same_findings(case_files(name))


@pytest.mark.parametrize("app", corpus_apps(), ids=lambda a: a["name"])
def test_corpus_app_findings_are_those_of_attaching_then_moving(app: dict) -> None:
    require_shared()
    files = [Path(p) for p in app["manifest_paths"]]
    bundle = verifier.load_bundle([str(f) for f in files], default_namespace=app["default_namespace"])
    deps, _ = gather_dependencies(bundle, Path(app["deps_path"]).read_text(), app["deps_path"], None)
    assert_same_findings(files, evaluate_dependencies(bundle, deps), bundle)


def test_a_generated_cluster_read_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(generated_text())
    found = assert_same_findings([path])
    moved = [f for f in found if f.details.get("field") and f.source and f.source.line > 1]
    assert any(f.details["fixes"] for f in moved) and any(not f.details["fixes"] for f in moved)
