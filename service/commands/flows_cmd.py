"""`netreason flows` and `netreason check`: the verifier on the command line."""

from __future__ import annotations

import json
import sys
import time

import click

import verifier
from service.renderers import flows as render
from verifier.export import flows_json, verdict_json

from .common import EXIT_CODES_HELP, bundle_options, load


#: Rows the table prints without --limit: about a screenful.
SCREENFUL = 50


@click.command(epilog=EXIT_CODES_HELP)
@bundle_options
@click.option(
    "-o", "--format", "fmt", default="table", show_default=True,
    type=click.Choice(["table", "json", "csv", "dot", "summary"]),
    help="summary prints counts and time per phase only: for clusters too large to list pair by pair.",
)
@click.option("--explain", is_flag=True, help="JSON: say which rules allow each port range, on both sides (slower).")
@click.option("--limit", type=click.IntRange(min=1), metavar="N",
              help=f"Table: show the first N workload pairs (without it, more than {SCREENFUL} are refused).")
def flows(paths: tuple[str, ...], default_namespace: str, strict: bool, fmt: str, explain: bool,
          limit: int | None) -> None:
    """Every allowed flow between the workloads in PATH... (files, directories, or - for stdin).

    A flow is an ordered workload pair and protocol with the ports allowed, after both
    the source's egress and the destination's ingress policies. A workload paired with
    itself means replica to replica. Pairs not listed are denied.

    \b
    Examples:
      netreason flows examples/shop
      kubectl get ns,deploy,netpol -A -o yaml | netreason flows - --format json
      netreason flows big-cluster/ --format summary
    """
    bundle, t_load = load(paths, default_namespace, strict)
    t0 = time.perf_counter()
    compiled = verifier.compile_bundle(bundle)
    t1 = time.perf_counter()
    conn = verifier.compute_connectivity(compiled)
    t2 = time.perf_counter()
    if fmt == "summary":
        doc = {"summary": conn.summary()}
        timings = {"parse": t_load, "compile": t1 - t0, "compute": t2 - t1, "count": time.perf_counter() - t2}
        click.echo(render.render_summary(doc, timings), nl=False)
        return
    if fmt in ("csv", "json") and not explain:
        # Row by row: memory bounded by the classes, not by the (possibly millions of) pairs.
        from service import flowstream

        out_stream = sys.stdout
        (flowstream.write_csv if fmt == "csv" else flowstream.write_json)(conn, out_stream)
        out_stream.write("\n" if fmt == "json" else "")
        out_stream.flush()
        return
    if fmt == "table":
        pairs = sum(len(conn.compiled.classes[s].members) * len(conn.compiled.classes[d].members)
                    for s, d, _ in conn.class_pairs())
        if pairs > (limit or SCREENFUL) and limit is None:
            raise click.UsageError(
                f"{pairs:,} workload pairs have open ports: more than a screenful ({SCREENFUL}). Pass --limit N to see "
                f"the first N, -o csv or -o json for all of them (streamed), or --format summary for the counts.")
    doc = flows_json(conn, explain=explain)
    if fmt == "table":
        out = render.render_table(doc, limit=limit)
    else:
        out = {"json": render.render_json, "csv": render.render_csv, "dot": render.render_dot}[fmt](doc)
    click.echo(out, nl=not out.endswith("\n"))


@click.command(epilog=EXIT_CODES_HELP)
@bundle_options
@click.option("--from", "src", required=True, metavar="NS/NAME", help="Source workload (a Pod's, Deployment's... name).")
@click.option("--to", "dst", required=True, metavar="NS/NAME", help="Destination workload.")
@click.option("--port", type=click.IntRange(1, 65535), required=True, help="Destination port (a number).")
@click.option("--protocol", type=click.Choice(["TCP", "UDP", "SCTP"], case_sensitive=False), default="TCP", show_default=True)
@click.option("-o", "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def check(paths: tuple[str, ...], default_namespace: str, strict: bool, src: str, dst: str, port: int, protocol: str, fmt: str) -> None:
    """Can SRC open PORT on DST? Exit 0 allowed, 1 denied, 2 bad input.

    Prints which policy and rule allowed it in each direction, or, when denied,
    which policies select the pod and the closest miss.

    \b
    Example:
      netreason check examples/shop --from shop/web --to shop/db --port 5432
    """
    bundle, _ = load(paths, default_namespace, strict)
    verdict = verifier.Explainer(bundle).check(src, dst, port, protocol.upper())  # type: ignore[arg-type]
    if fmt == "json":
        click.echo(json.dumps(verdict_json(verdict), indent=2))
    else:
        click.echo(verdict.explain())
    sys.exit(0 if verdict.allowed else 1)
