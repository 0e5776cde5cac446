"""The `--from/--to/-l/-A` options of `flows` and `lint`, and turning them into a `FilterSpec`.

`-n` is every command's namespace option (`bundle_options`): given explicitly it also keeps
only what concerns that namespace, as kubectl shows one namespace; `-A` turns that off.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
from typing import TYPE_CHECKING, Any, TypeVar

import click

from verifier.model.bundle import Bundle

from service.flowfilter import FilterSpec, WorkloadFilter, filter_flows_doc, filter_report, resolve, shown_rows

if TYPE_CHECKING:
    from service.truth import Truth

F = TypeVar("F", bound=Callable[..., Any])

FILTER_HELP = """\b
Filters (on what is shown; the truth is computed on every input):
  --from X / --to X   only rows from / to X: a workload (NAME, NS/NAME), a Service's pods
                      (svc/NAME, NS/svc/NAME) or outside (addresses outside the input)
  -n NS               given explicitly, only rows with an end in namespace NS (-A: all)
  -l SELECTOR         only rows with an end whose labels match, kubectl syntax:
                      -l app=web,tier!=db   -l 'env in (prod,staging)'   -l '!canary'
A filter term that matches no workload exits 2, naming it."""


def filter_options(func: F) -> F:
    func = click.option("-A", "--all-namespaces", "all_namespaces", is_flag=True,
                        help="Show every namespace: -n then only sets the namespace of objects that name none.")(func)
    func = click.option("-l", "--selector", "selector", metavar="SELECTOR",
                        help="Only rows with an end whose labels match (kubectl syntax: app=web,tier!=db, "
                             "'env in (a,b)').")(func)
    func = click.option("--to", "dst_filter", metavar="[NS/]NAME|svc/NAME|outside",
                        help="Only rows to this workload, a Service's pods, or outside.")(func)
    func = click.option("--from", "src_filter", metavar="[NS/]NAME|svc/NAME|outside",
                        help="Only rows from this workload, a Service's pods, or outside.")(func)
    return func


def filter_spec(src: str | None, dst: str | None, selector: str | None, all_namespaces: bool,
                default_namespace: str) -> FilterSpec:
    """The filter the options ask for; -n counts only when given explicitly (not its default)."""
    ctx = click.get_current_context()
    explicit = ctx.get_parameter_source("default_namespace") is not click.core.ParameterSource.DEFAULT
    namespace = default_namespace if explicit and not all_namespaces else None
    return FilterSpec(src, dst, namespace, selector)


def resolve_flow_filter(spec: FilterSpec, bundle: Bundle, fmt: str, exposure: bool) -> WorkloadFilter | None:
    """The resolved filter of `flows` (None when none is given).

    Raises:
        click.UsageError: a filter with -o summary or --exposure, which list no rows to filter.
        FilterMatchesNothing: a term matches no workload (exit 2).
    """
    if not spec.given():
        return None
    if fmt == "summary" or exposure:
        raise click.UsageError(f"{spec.describe()} filters rows; -o summary and --exposure print none to filter "
                               "(add -A if -n was only meant to set the namespace of objects that name none)")
    return resolve(spec, bundle)


def render_filtered(doc: dict[str, Any], wf: WorkloadFilter, fmt: str, limit: int) -> str:
    """The rows `wf` keeps of a flows document, rendered as `fmt` (the table cut at `limit` pairs, 0: all).

    When it keeps none, say so on stderr and exit 1 (nothing allowed matches).
    """
    from service.renderers import flows as render
    from service.renderers.flows_markdown import render_markdown
    from service.renderers.outside import cap_outside
    from service.terminal import plain_terminal

    kept = filter_flows_doc(doc, wf)
    if not shown_rows(kept):
        click.echo(f"error: no allowed flow matches {wf.spec.describe()} (the workloads exist; every flow "
                   "between them is denied: netreason check says why)", err=True)
        raise SystemExit(1)
    if fmt != "table":
        return {"json": render.render_json, "csv": render.render_csv, "dot": render.render_dot,
                "markdown": render_markdown}[fmt](kept)
    pairs = sorted({(f["from"], f["to"]) for f in kept["flows"]})
    footer = cap_outside(kept, max(limit - len(pairs), 0) if limit else None)
    if limit and len(pairs) > limit:
        shown = set(pairs[:limit])
        kept = {**kept, "flows": [f for f in kept["flows"] if (f["from"], f["to"]) in shown]}
        footer.insert(0, f"... {len(pairs) - limit:,} more workload pair(s) not shown (--limit {limit}); "
                         "-o csv or -o json lists them all.")
    return render.render_table(kept, plain=plain_terminal(), footer=footer)


def filtered_truth(truth: Truth, spec: FilterSpec) -> Truth:
    """`truth` with only the findings and dependency verdicts `spec` keeps (said on stderr); the same when none.

    Raises:
        FilterMatchesNothing: a term matches no workload (exit 2).
    """
    if not spec.given():
        return truth
    report = filter_report(truth.report, resolve(spec, truth.bundle), truth.conn)
    click.echo(f"filter {spec.describe()}: {len(report.findings)} of {len(truth.report.findings)} finding(s) shown",
               err=True)
    return dataclasses.replace(truth, report=report)
