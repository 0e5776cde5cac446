"""`netreason flows` and `netreason check`: the verifier on the command line."""

from __future__ import annotations

import json
import sys
import time
from contextlib import nullcontext

import click

import verifier
from service import progress
from service.renderers import flows as render
from service.renderers.flows_markdown import render_markdown
from service.renderers.outside import cap_outside
from service.terminal import plain_terminal
from verifier.engine.export import flows_json, verdict_json

from .common import EXIT_CODES_HELP, PORT, bundle_options, load
from .exposure_opts import exposure_options, render_exposure
from .filter_opts import FILTER_HELP, filter_options, filter_spec, render_filtered, resolve_flow_filter
from .output import emit, output_file_option, output_option

#: Workload pairs the table shows without --limit: about a screenful.
SCREENFUL = 50


@click.command(epilog=FILTER_HELP + "\n\n" + EXIT_CODES_HELP)
@bundle_options
@output_option(["table", "json", "csv", "dot", "markdown", "summary"], "table",
               "summary prints counts and time per phase only: for clusters too large to list pair by pair.")
@output_file_option
@click.option("--explain", is_flag=True, help="JSON: say which rules allow each port range, on both sides (slower).")
@click.option("--limit", type=click.IntRange(min=0), default=SCREENFUL, show_default=True, metavar="N",
              help="Table: show the first N workload pairs and say how many were left out (0: all of them). "
                   "-o csv and -o json (with --explain too) always list every flow, streamed row by row; "
                   "-o dot is built whole in memory.")
@exposure_options
@filter_options
def flows(paths: tuple[str, ...], default_namespace: str, strict: bool, fmt: str, output_file: str | None,
          explain: bool, limit: int, exposure: bool, ingress_controllers: tuple[str, ...], src_filter: str | None,
          dst_filter: str | None, selector: str | None, all_namespaces: bool) -> None:
    """Every allowed flow between the workloads in PATH... (files, directories, or - for stdin).

    A flow is an ordered workload pair and protocol with the ports allowed, after both
    the source's egress and the destination's ingress policies. A workload paired with
    itself means replica to replica. Pairs not listed are denied. Traffic with
    addresses outside the input (ipBlocks, or anywhere for a workload no policy
    isolates) is listed as rows to or from outside:CIDR / outside:anywhere.

    \b
    Examples:
      netreason flows examples/shop
      kubectl get ns,deploy,netpol -A -o yaml | netreason flows - -o json
      netreason flows big-cluster/ -o summary
      netreason flows k8s/ --from shop/web -o csv
      netreason flows k8s/ -n shop -l 'tier in (db,cache)'
      netreason flows k8s/ --to outside
    """
    bundle, t_load = load(paths, default_namespace, strict)
    wanted = filter_spec(src_filter, dst_filter, selector, all_namespaces, default_namespace)
    wf = resolve_flow_filter(wanted, bundle, fmt, exposure)
    t0 = time.perf_counter()
    with progress.working("compiling policies") as shown:
        compiled = verifier.compile_bundle(bundle)
        t1 = time.perf_counter()
        shown.show("computing connectivity")
        conn = verifier.compute_connectivity(compiled)
    t2 = time.perf_counter()
    if exposure:
        emit(render_exposure(conn, ingress_controllers, fmt), fmt, output_file)
        return
    if fmt == "summary":
        doc = {"summary": conn.summary()}
        timings = {"parse": t_load, "compile": t1 - t0, "compute": t2 - t1, "count": time.perf_counter() - t2}
        emit(render.render_summary(doc, timings), fmt, output_file)
        return
    if wf is not None:  # filtered rows never go through the streaming writers, which list every flow
        emit(render_filtered(flows_json(conn, explain=explain), wf, fmt, limit), fmt, output_file)
        return
    if fmt in ("csv", "json"):
        stream_flows(conn, fmt, explain, output_file)
        return
    if fmt == "table":
        emit(flows_table(conn, limit), fmt, output_file)
        return
    if fmt == "markdown":
        emit(render_markdown(flows_json(conn)), fmt, output_file)
        return
    emit(render.render_dot(flows_json(conn, explain=explain)), fmt, output_file)


def stream_flows(conn: verifier.Connectivity, fmt: str, explain: bool, output_file: str | None) -> None:
    """-o csv|json row by row (`service.flowstream`): memory bounded by the classes, not the pair count."""
    from service import flowstream

    with (open(output_file, "w", encoding="utf-8", newline="") if output_file else nullcontext(sys.stdout)) as out:
        if fmt == "csv":
            flowstream.write_csv(conn, out)
        else:
            flowstream.write_json(conn, out, explain=explain)
            out.write("\n")
        out.flush()
    if output_file:
        click.echo(f"wrote {output_file}", err=True)


def flows_table(conn: verifier.Connectivity, limit: int) -> str:
    """The table of the first `limit` pairs (all with 0), and a line saying how many were left out."""
    from service import flowstream

    total = flowstream.pair_count(conn)
    if not limit or total <= limit:
        whole = flows_json(conn)
        outside = max(limit - total, 0) if limit else None  # the rows left of the screenful
        return render.render_table(whole, plain=plain_terminal(), footer=cap_outside(whole, outside))
    doc = flows_json(conn, flows=False)
    doc["flows"] = flowstream.first_pairs(conn, limit)
    more = (f"... {total - limit:,} more workload pair(s) not shown (--limit {limit}); -o csv or -o json lists "
            f"all {total:,} (streamed), --limit 0 shows them all here, -o summary counts them.")
    return render.render_table(doc, plain=plain_terminal(), footer=[more, *cap_outside(doc, 0)])


@click.command(epilog=EXIT_CODES_HELP)
@bundle_options
@click.option("--from", "src", required=True, metavar="[NS/]NAME",
              help="Source workload (a Pod's, Deployment's... name), or svc/NAME for the pods behind a Service.")
@click.option("--to", "dst", required=True, metavar="[NS/]NAME",
              help="Destination: a workload, or a Service (svc/NAME, NS/svc/NAME, or a name only a Service has).")
@click.option("--port", type=PORT, required=True,
              help="Destination port: a number or a port name. A Service's port maps through its targetPort.")
@click.option("--protocol", type=click.Choice(["TCP", "UDP", "SCTP"], case_sensitive=False), default="TCP",
              show_default=True)
@output_option(["text", "json"], "text")
@output_file_option
@click.pass_context
def check(ctx: click.Context, paths: tuple[str, ...], default_namespace: str, strict: bool, src: str, dst: str,
          port: int | str, protocol: str, fmt: str, output_file: str | None) -> None:
    """Can SRC open PORT on DST? Exit 0 allowed, 1 denied, 2 bad input.

    Prints which policy and rule allowed it in each direction, or, when denied,
    which policies select the pod and the closest miss. When DST is a Service, the
    Service port is mapped through its targetPort to the pods it selects, and the
    answer says which mapping it used. -n sets the namespace of a NAME without one.

    \b
    Examples:
      netreason check examples/shop --from shop/web --to shop/db --port 5432
      netreason check k8s/ -n shop --from checkout --to svc/email --port 5000
    """
    from service.questions import Question, answer

    bundle, _ = load(paths, default_namespace, strict)
    explicit = ctx.get_parameter_source("default_namespace") is not click.core.ParameterSource.DEFAULT
    verdicts = answer(bundle, Question(src, dst, port, protocol.upper()),
                      namespace=default_namespace if explicit else None)
    allowed = all(v.allowed for v in verdicts)
    if fmt == "json":
        doc = verdict_json(verdicts[0])
        if len(verdicts) > 1:
            doc["allowed"] = allowed
            doc["targets"] = [verdict_json(v) for v in verdicts]
        text = json.dumps(doc, indent=2)
    else:
        text = "\n".join(v.explain() for v in verdicts)
    emit(text, fmt, output_file)
    sys.exit(0 if allowed else 1)
