"""`netreason lint`: review findings for a set of manifests, as text, JSON, SARIF or markdown."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from service.renderers import findings as render
from service.renderers.sarif import render_sarif
from verifier.dependencies import evaluate_dependencies, gather_dependencies
from verifier.findings import LintReport, lint_json, lint_report
from verifier.model import Bundle

from . import output
from .common import bundle_options, deps_options, load, read_deps_text, read_flows, source_texts
from .output import output_file_option, output_option

FORMATS = ["text", "json", "sarif", "markdown"]
FAIL_ON = {"error": ("error",), "warning": ("error", "warning"), "never": ()}


def fail_on_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--fail-on", type=click.Choice(list(FAIL_ON)), default="error", show_default=True,
        help="Exit 1 when a finding of this severity (or worse) is reported.",
    )(func)


def format_option(func):  # type: ignore[no-untyped-def]
    return output_file_option(output_option(FORMATS, "text")(func))


@click.command()
@bundle_options
@deps_options
@format_option
@fail_on_option
@click.option("--no-infer", is_flag=True, help="Do not infer dependencies from env values in the manifests.")
def lint(paths: tuple[str, ...], default_namespace: str, strict: bool, deps_path: str | None, flows_path: str | None,
         fmt: str, output_file: str | None, fail_on: str, no_infer: bool) -> None:
    """Review the NetworkPolicies in PATH...: missing DNS, broken dependencies, typos, gaps.

    Every finding has a rule id, a severity, the object and file:line, and often a YAML
    fix. Dependencies come from --deps (default: netreason.deps.yaml beside the
    manifests), --flows and env values. Exit 1 when a finding at --fail-on or worse is
    reported, 2 on bad input.

    \b
    Examples:
      netreason lint examples/shop
      netreason lint k8s/ --deps deps.yaml -o sarif --output-file netreason.sarif
      netreason lint k8s/ -o markdown --fail-on warning
    """
    bundle, _ = load(paths, default_namespace, strict)
    deps_text, origin = read_deps_text(paths, deps_path)
    report = run_lint(bundle, deps_text, origin, read_flows(flows_path), infer=not no_infer)
    emit(report, fmt, output_file)
    sys.exit(exit_code([f.severity for f in report.findings], fail_on))


def run_lint(bundle: Bundle, deps_text: str | None, origin: str | None, flows_text: str | None, infer: bool = True) -> LintReport:
    """Gather and evaluate dependencies, read the policies' text for comments, and lint."""
    deps, issues = gather_dependencies(bundle, deps_text, origin, flows_text, infer)
    for issue in issues:
        click.echo(f"{issue.severity}: {issue}", err=True)
    results = evaluate_dependencies(bundle, deps)
    return lint_report(bundle, results, texts=source_texts(bundle))


def emit(report: LintReport, fmt: str, output_file: str | None = None) -> None:
    doc = lint_json(report)
    renderers = {"json": render.render_json, "markdown": render.render_markdown, "text": render.render_text,
                 "sarif": render_sarif}
    output.emit(renderers[fmt](doc), fmt, output_file)


def exit_code(severities: Sequence[str], fail_on: str) -> int:
    """1 when any severity is in the --fail-on set, else 0."""
    return 1 if any(s in FAIL_ON[fail_on] for s in severities) else 0
