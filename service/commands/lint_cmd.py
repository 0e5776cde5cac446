"""`netreason lint`: review findings for a set of manifests, as text, JSON, SARIF or markdown."""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence

import click

from verifier.gcpause import gc_paused

from service.outputs import LINT_FORMATS, command_output, render_lint
from service.truth import Truth, lint_doc

from . import output
from .common import EXIT_CODES_HELP, bundle_options, cli_truth, deps_options, print_dependency_issues
from .filter_opts import FILTER_HELP, filter_options, filter_spec, filtered_truth
from .output import F, output_file_option, output_option

FORMATS = list(LINT_FORMATS)
FAIL_ON = {"error": ("error",), "warning": ("error", "warning"), "never": ()}


def fail_on_option(func: F) -> F:
    return click.option(
        "--fail-on", type=click.Choice(list(FAIL_ON)), default="error", show_default=True,
        help="Exit 1 when a finding of this severity (or worse) is reported.",
    )(func)


def format_option(func: F) -> F:
    return output_file_option(output_option(FORMATS, "text")(func))


@click.command(epilog=FILTER_HELP.replace("rows", "findings") + "\n\n" + EXIT_CODES_HELP)
@bundle_options
@deps_options
@format_option
@fail_on_option
@click.option("--no-infer", is_flag=True, help="Do not infer dependencies from env values in the manifests.")
@click.option("--no-fixes", is_flag=True,
              help="Report findings without computing their fixes (the converged fixes lint the manifests again up "
                   "to four times: about 10x the time of the findings alone on a large cluster).")
@filter_options
def lint(paths: tuple[str, ...], default_namespace: str, strict: bool, deps_path: str | None, flows_path: str | None,
         fmt: str, output_file: str | None, fail_on: str, no_infer: bool, no_fixes: bool, src_filter: str | None,
         dst_filter: str | None, selector: str | None, all_namespaces: bool) -> None:
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
      netreason lint k8s/ -n shop --fail-on warning
      netreason lint k8s/ --from shop/web -l tier=frontend -o json
    """
    truth = cli_truth(paths, default_namespace, strict, deps_path, flows_path, infer=not no_infer, fixes=not no_fixes)
    print_dependency_issues(truth)
    truth = filtered_truth(truth, filter_spec(src_filter, dst_filter, selector, all_namespaces, default_namespace))
    emit(truth, fmt, output_file)
    sys.exit(exit_code([f.severity for f in truth.report.findings], fail_on))


def emit(truth: Truth, fmt: str, output_file: str | None = None) -> None:
    with gc_paused():  # the document and its text: many young objects, no cycles (see verifier.gcpause)
        render = functools.partial(render_lint, texts=truth.texts)
        output.emit(command_output(lint_doc(truth), fmt, render), fmt, output_file)


def exit_code(severities: Sequence[str], fail_on: str) -> int:
    """1 when any severity is in the --fail-on set, else 0."""
    return 1 if any(s in FAIL_ON[fail_on] for s in severities) else 0
