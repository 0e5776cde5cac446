"""`netreason diff OLD NEW`: flows, dependencies and findings a change adds or removes."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import click

from service import gitsource
from service.outputs import command_output, render_diff
from service.truth import Truth, compute_truth, diff_doc
from verifier.model.bundle import Bundle

from .common import (
    default_deps_path, fail_closed, load, print_dependency_issues, read_deps_text, read_flows, report_issues,
)
from .lint_cmd import FAIL_ON, fail_on_option, format_option
from .output import emit


@dataclass
class Side:
    label: str
    bundle: Bundle
    texts: dict[str, str]
    deps_text: str | None
    deps_origin: str | None


def load_side(spec: str, default_namespace: str, strict: bool) -> Side:
    """A working-tree path or `REV:PATH`, loaded with its default deps file (if any)."""
    git = gitsource.parse_spec(spec)
    if git is None:
        texts: dict[str, str] = {}
        # One side may hold nothing (an app added or removed); an unparseable side still fails.
        bundle, _ = load([spec], default_namespace, strict, texts=texts, require_workloads=False)
        path = default_deps_path([spec])
        text, origin = read_deps_text([spec], None) if path else (None, None)
        return Side(spec, bundle, texts, text, origin)
    bundle, texts = gitsource.load_git(git, default_namespace=default_namespace, strict=strict)
    report_issues(bundle)
    fail_closed(bundle, [spec], require_workloads=False)  # the same checks as a working-tree side
    found = gitsource.default_deps(git)
    return Side(spec, bundle, texts, *(found or (None, None)))


@click.command()
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@click.option("-n", "--namespace", "default_namespace", default="default", show_default=True,
              help="Namespace for objects that name none.")
@click.option("--strict", is_flag=True, help="Treat validation errors as fatal (exit 2).")
@click.option("--deps", "deps_path", metavar="FILE",
              help="Declared dependencies for both sides (default: netreason.deps.yaml beside each side's manifests).")
@click.option("--flows", "flows_path", metavar="FILE", help="Observed flows (Hubble export), for both sides.")
@format_option
@fail_on_option
def diff(old: str, new: str, default_namespace: str, strict: bool, deps_path: str | None, flows_path: str | None,
         fmt: str, output_file: str | None, fail_on: str) -> None:
    """What changes from OLD to NEW: flows added and removed, dependencies broken, findings.

    OLD and NEW are each a file or directory, or REV:PATH to read PATH at a git revision
    without checking it out. Exit 1 when the change breaks a dependency or introduces a
    finding at --fail-on or worse; 2 on bad input.

    \b
    Examples:
      netreason diff origin/main:k8s k8s
      netreason diff HEAD~1:examples/shop examples/shop -o sarif --output-file diff.sarif
    """
    a, b = load_side(old, default_namespace, strict), load_side(new, default_namespace, strict)
    if not a.bundle.workloads and not b.bundle.workloads:
        # One empty side is an app added or removed; two compare nothing.
        fail_closed(b.bundle, [old, new], require_workloads=True)
    if deps_path:
        text, origin = read_deps_text([], deps_path)
        a.deps_text, a.deps_origin, b.deps_text, b.deps_origin = text, origin, text, origin
    elif a.deps_text is None or b.deps_text is None:
        # What the app needs rarely changes with the policies: one side's list serves both.
        shared = (a.deps_text, a.deps_origin) if a.deps_text is not None else (b.deps_text, b.deps_origin)
        for side in (a, b):
            if side.deps_text is None:
                side.deps_text, side.deps_origin = shared
    flows_text = read_flows(flows_path)
    doc = diff_doc(_truth(a, flows_text), _truth(b, flows_text))
    emit(command_output(doc, fmt, render_diff), fmt, output_file)
    failing = bool(doc["dependencies_broken"]) or any(f["severity"] in FAIL_ON[fail_on]
                                                      for f in doc["findings_introduced"])
    sys.exit(1 if failing and fail_on != "never" else 0)


def _truth(side: Side, flows_text: str | None) -> Truth:
    """One side's truth, computed once (the diff reuses its connectivity, verdicts and findings)."""
    truth = compute_truth(side.bundle, deps=side.deps_text, deps_origin=side.deps_origin, observed=flows_text,
                          texts=side.texts, label=side.label)
    print_dependency_issues(truth, f"{side.label}: ")
    return truth
