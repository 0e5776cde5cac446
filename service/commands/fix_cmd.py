"""`netreason fix PATH... --out DIR`: a copy of the manifests with every converged fix applied."""

from __future__ import annotations

import sys

import click

from service.fixfiles import write_fixed_copy
from verifier.load import input_files, load_texts, read_input

from .common import deps_options, read_deps_text, read_flows, report_issues
from .lint_cmd import run_lint


@click.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("-n", "--namespace", "default_namespace", default="default", show_default=True,
              help="Namespace for objects that name none (as kubectl apply -n would).")
@deps_options
@click.option("--out", "out_dir", required=True, metavar="DIR", help="Folder to write the fixed copy to (new or empty).")
@click.option("--no-infer", is_flag=True, help="Do not infer dependencies from env values in the manifests.")
def fix(paths: tuple[str, ...], default_namespace: str, deps_path: str | None, flows_path: str | None,
        out_dir: str, no_infer: bool) -> None:
    """Write a copy of PATH... to DIR with every fix `netreason lint` proposes applied.

    Patched policies stay in their files (only their document is rewritten); new policies go
    in DIR/netreason-fixes/. The fixes converge: `netreason lint DIR` finds no broken
    dependency, and no in-cluster flow opens beyond the dependencies and DNS. Findings that
    need a human choice get no fix and are listed on stderr. Exit 0 when written, 2 on bad input.

    \b
    Examples:
      netreason fix k8s/ --deps deps.yaml --out k8s-fixed
      netreason lint k8s-fixed --deps deps.yaml
    """
    files = input_files(paths)
    texts = [(f, read_input(f, sys.stdin)) for f in files]
    bundle = load_texts(texts, default_namespace=default_namespace)
    report_issues(bundle)
    if not (bundle.workloads or bundle.policies):
        raise click.ClickException(f"no workloads or NetworkPolicies found in {', '.join(paths)}: nothing to fix")
    deps_text, origin = read_deps_text(paths, deps_path)
    report = run_lint(bundle, deps_text, origin, read_flows(flows_path), infer=not no_infer)
    written = write_fixed_copy(texts, report.fixes, out_dir, default_namespace)
    for f in report.findings:
        if not f.details.get("fixes"):
            click.echo(f"not fixed: {f.severity} {f.rule} {f.object}: {f.message}", err=True)
    adds = sum(f.action == "add" for f in report.fixes)
    click.echo(f"wrote {len(written)} file(s) to {out_dir}: {len(report.fixes) - adds} policy patch(es), "
               f"{adds} new policy file(s)")
