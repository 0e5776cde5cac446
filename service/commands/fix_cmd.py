"""`netreason fix PATH... --out DIR`: a copy of the manifests with every converged fix applied."""

from __future__ import annotations

import click

from service.fixfiles import write_fixed_copy

from .common import cli_truth, deps_options, print_dependency_issues


@click.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("-n", "--namespace", "default_namespace", default="default", show_default=True,
              help="Namespace for objects that name none (as kubectl apply -n would).")
@deps_options
@click.option("--out", "out_dir", required=True, metavar="DIR",
              help="Folder to write the fixed copy to (new or empty).")
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
    truth = cli_truth(paths, default_namespace, False, deps_path, flows_path, infer=not no_infer)
    print_dependency_issues(truth)
    if not (truth.bundle.workloads or truth.bundle.policies):
        raise click.ClickException(f"no workloads or NetworkPolicies found in {', '.join(paths)}: nothing to fix")
    report = truth.report
    written = write_fixed_copy(list(truth.texts.items()), report.fixes, out_dir, default_namespace)
    for f in report.findings:
        if not f.details.get("fixes"):
            click.echo(f"not fixed: {f.severity} {f.rule} {f.object}: {f.message}", err=True)
    adds = sum(f.action == "add" for f in report.fixes)
    click.echo(f"wrote {len(written)} file(s) to {out_dir}: {len(report.fixes) - adds} policy patch(es), "
               f"{adds} new policy file(s)")
