"""`netreason probe plan|check`: test enforcement with real connection attempts, don't assume it."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from verifier.model.errors import InputError
from verifier.model.bundle import SourceRef
from verifier.rollout.probes import PROBE_SCHEMA, Probe, diagnose, probes

from .common import cli_truth, deps_options, print_dependency_issues

SCRIPT_HEAD = """#!/usr/bin/env bash
# netreason probe plan: {count} connection attempt(s) from inside the pods (kubectl exec ... nc -zv -w 2).
# Run with kubectl aimed at the cluster; save what it prints and run: netreason probe check RESULTS
# "connect" probes are dependencies: they must connect. "fail" probes must time out: a connection
# means a policy does not select what you think, or the network plugin does not enforce NetworkPolicy.
set -u
probe() {{  # probe-json namespace exec-target host port [nc flags]
  if kubectl exec -n "$2" "$3" -- nc -zv ${{6:-}} -w 2 "$4" "$5" >/dev/null 2>&1; then outcome=connected; else outcome=failed; fi
  printf '{{"probe": %s, "outcome": "%s"}}\\n' "$1" "$outcome"
}}
"""


@click.group("probe")
def probe_group() -> None:
    """Connection attempts that prove the policies are enforced, and what their outcomes mean."""


@probe_group.command("plan")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("-n", "--namespace", "default_namespace", default="default", show_default=True,
              help="Namespace for objects that name none.")
@deps_options
@click.option("--plan", "plan_dir", metavar="DIR", help="A `netreason plan --out DIR`: probe the state after its steps.")
@click.option("--step", type=int, default=None, help="Only the probes of this step's namespace (with --plan: after it).")
@click.option("-o", "--output", "--format", "fmt", type=click.Choice(["script", "json"]), default="script", show_default=True)
def probe_plan(paths: tuple[str, ...], default_namespace: str, deps_path: str | None, flows_path: str | None,
               plan_dir: str | None, step: int | None, fmt: str) -> None:
    """Emit the probes of PATH... (plus a plan's policies): a bash script, or JSON.

    Every dependency must connect (through its Service where one exists); for each isolated
    workload, its nearest neighbours that no dependency needs must fail.
    """
    plan_doc, extra = _read_plan(plan_dir, step)
    truth = cli_truth([*paths, *extra], default_namespace, False, deps_path, flows_path)
    print_dependency_issues(truth)
    bundle = truth.bundle
    if plan_doc and plan_doc.get("replace"):
        bundle = _without_replaced(bundle, plan_doc, step)
    namespaces = _step_namespaces(plan_doc, step)
    from verifier.engine.compile import compile_bundle
    from verifier.engine.connectivity import compute_connectivity

    found = probes(bundle, [r.dependency for r in truth.dependencies], compute_connectivity(compile_bundle(bundle)),
                   namespaces)
    if not found:
        raise click.ClickException("no probes: no dependency and no isolated workload to test")
    if fmt == "json":
        click.echo(json.dumps({"schema": PROBE_SCHEMA, "probes": [p.as_json() for p in found]}, indent=2))
    else:
        click.echo(render_script(found, bundle), nl=False)


def _read_plan(plan_dir: str | None, step: int | None) -> tuple[dict[str, Any] | None, list[str]]:
    if not plan_dir:
        return None, []
    path = Path(plan_dir) / "plan.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"not a netreason plan folder (plan.json unreadable: {e})", SourceRef(str(path))) from None
    steps = [s for s in doc["steps"] if step is None or s["step"] <= step]
    return doc, [str(Path(plan_dir) / s["directory"]) for s in steps]


def _without_replaced(bundle: Any, doc: dict[str, Any], step: int | None) -> Any:
    import dataclasses

    gone = {p["policy"] for s in doc["steps"] if step is None or s["step"] <= step for p in s["removes"]}
    return dataclasses.replace(bundle, policies=tuple(p for p in bundle.policies if p.id not in gone))


def _step_namespaces(doc: dict[str, Any] | None, step: int | None) -> list[str] | None:
    if doc is None or step is None:
        return None
    chosen = [s["namespace"] for s in doc["steps"] if s["step"] == step]
    if not chosen:
        raise click.ClickException(f"the plan has no step {step}")
    return chosen


def render_script(found: list[Probe], bundle: Any) -> str:
    """The bash script: one `probe` line per probe, the probe's JSON carried into its result line."""
    lines = [SCRIPT_HEAD.format(count=len(found))]
    labels = {w.id: w.labels for w in bundle.workloads}
    for p in found:
        host = p.host
        if host.startswith("pod:"):
            ns, _, _name = host[4:].partition("/")
            selector = ",".join(f"{k}={v}" for k, v in sorted(labels.get(host[4:], {}).items()))
            host = f"$(kubectl get pods -n {ns} -l {shlex.quote(selector)} -o jsonpath='{{.items[0].status.podIP}}')"
            host_arg = f'"{host}"'
        else:
            host_arg = shlex.quote(host)
        flags = " -u" if p.protocol == "UDP" else ""
        lines.append(f"# {p.expect}: {p.src} -> {p.dst} {p.protocol}/{p.target_port} ({p.why})")
        lines.append(f"probe {shlex.quote(json.dumps(p.as_json()))} {shlex.quote(p.namespace)} "
                     f"{shlex.quote(p.exec_target)} {host_arg} {p.port}{flags}")
    return "\n".join(lines) + "\n"


@probe_group.command("check")
@click.argument("results", metavar="RESULTS")
@click.option("-o", "--output", "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def probe_check(results: str, fmt: str) -> None:
    """Compare the outcomes the probe script printed (RESULTS, `-` for stdin) with the verifier.

    Exit 0 when every probe behaved as the policies say, 1 when one did not, 2 on bad input.
    """
    pairs = _read_results(results)
    found, summary = diagnose(pairs)
    if fmt == "json":
        click.echo(json.dumps({"schema": "netreason.probe-check/v1", "ok": all(d.ok for d in found),
                               "conclusions": summary, "probes": [d.as_json() for d in found]}, indent=2))
    else:
        for d in found:
            mark = "ok  " if d.ok else "MISS"
            click.echo(f"{mark} [{d.probe['expect']}, {d.outcome}] {d.probe['from']} -> {d.probe['to']} "
                       f"{d.probe['protocol']}/{d.probe['target_port']}" + ("" if d.ok else f": {d.diagnosis}"))
        click.echo("")
        for line in summary:
            click.echo(f"=> {line}")
    sys.exit(0 if all(d.ok for d in found) else 1)


def _read_results(results: str) -> list[tuple[dict[str, Any], str]]:
    text = sys.stdin.read() if results == "-" else _read(results)
    pairs = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip().startswith("{"):
            continue
        try:
            item = json.loads(line)
            pairs.append((item["probe"], str(item["outcome"])))
        except (ValueError, KeyError, TypeError):
            raise InputError("not a probe result line (expected {\"probe\": ..., \"outcome\": ...})",
                             SourceRef(results, n)) from None
    if not pairs:
        raise InputError("no probe results found: run the script from `netreason probe plan` and save its output",
                         SourceRef(results))
    return pairs


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read probe results: {e.strerror}", SourceRef(path)) from None
