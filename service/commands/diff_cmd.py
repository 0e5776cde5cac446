"""`netreason diff OLD NEW`: flows, dependencies and findings a change adds or removes."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import click

from service import gitsource
from service.renderers import findings as render
from service.renderers.sarif import sarif_log
from verifier.dependencies import evaluate_dependencies, gather_dependencies
from verifier.diff import diff_bundles, diff_json
from verifier.model import Bundle

from .common import default_deps_path, load, read_flows, report_issues
from .common import read_deps_text, source_texts
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
        bundle, _ = load([spec], default_namespace, strict)
        path = default_deps_path([spec])
        text, origin = read_deps_text([spec], None) if path else (None, None)
        return Side(spec, bundle, source_texts(bundle), text, origin)
    bundle, texts = gitsource.load_git(git, default_namespace=default_namespace, strict=strict)
    report_issues(bundle)
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
    result = diff_bundles(a.bundle, b.bundle, _evaluate(a, flows_text), _evaluate(b, flows_text),
                          texts_old=a.texts, texts_new=b.texts)
    doc = diff_json(result, a.label, b.label)
    out = {
        "json": render.render_json, "text": render.render_diff_text, "markdown": render.render_diff_markdown,
        "sarif": lambda d: render.render_json(sarif_log(d["findings_introduced"])),
    }[fmt](doc)
    emit(out, fmt, output_file)
    failing = bool(doc["dependencies_broken"]) or any(f["severity"] in FAIL_ON[fail_on] for f in doc["findings_introduced"])
    sys.exit(1 if failing and fail_on != "never" else 0)


def _evaluate(side: Side, flows_text: str | None) -> list:  # type: ignore[type-arg]
    deps, issues = gather_dependencies(side.bundle, side.deps_text, side.deps_origin, flows_text)
    for issue in issues:
        click.echo(f"{side.label}: {issue.severity}: {issue}", err=True)
    return evaluate_dependencies(side.bundle, deps)
