"""`--exposure` and `--ingress-controller`: who can reach the workloads from outside the cluster."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from service.renderers import exposure as render
from verifier.engine.connectivity import Connectivity
from verifier.engine.exposure_report import exposure_section, parse_controller

from .output import F


def exposure_options(func: F) -> F:
    func = click.option(
        "--ingress-controller", "ingress_controllers", multiple=True, metavar="NS[/KEY=VALUE,...]",
        help="Workloads that carry outside traffic in (ingress controllers, gateways): a namespace, optionally "
             "with labels; '*/app=x' for any namespace. Repeatable. Default: well-known controllers found.",
    )(func)
    return click.option(
        "--exposure", is_flag=True,
        help="Per workload: ingress from outside the cluster and the Ingress/Route/Gateway/LoadBalancer/NodePort "
             "that reaches it through which controller (table or json).",
    )(func)


def exposure_doc(conn: Connectivity, specs: Sequence[str]) -> dict[str, Any]:
    """The exposure JSON for a bundle's connectivity; bad --ingress-controller values are usage errors."""
    try:
        controllers = [parse_controller(s) for s in specs]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--ingress-controller") from exc
    return exposure_section(conn, controllers)


def render_exposure(conn: Connectivity, specs: Sequence[str], fmt: str) -> str:
    doc = exposure_doc(conn, specs)
    if fmt == "json":
        return render.render_json(doc) + "\n"
    if fmt != "table":
        raise click.UsageError("--exposure prints a table or json (-o table|json)")
    return render.render_table(doc)
