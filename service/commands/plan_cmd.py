"""`netreason plan PATH... [--deps F] --out DIR`: the default-deny rollout, namespace by namespace, verified."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import click

from service.plan_explain import PLAN_PROMPT, after_truth, model_failed, plan_variables, with_explanation
from service.planfiles import parse_controllers, render_runbook, routed_backends, write_plan
from service.truth import truth_json
from verifier.review.exposure import ExternalActors
from verifier.rollout.plan import make_plan, plan_json

from .analyze_cmd import _check_model as check_model
from .common import (bundle_options, cli_truth, deps_options, print_dependency_issues, read_deps_text,
                     read_flows)


@click.command()
@bundle_options
@deps_options
@click.option("--out", "out_dir", metavar="DIR", help="Write DIR/NN-<namespace>/*.yaml, DIR/RUNBOOK.md, DIR/plan.json.")
@click.option("-o", "--output", "--format", "fmt", type=click.Choice(["markdown", "json", "html"]), default=None,
              help="Print the runbook (markdown), plan.json (json) or the HTML report with the map after the "
                   "rollout (html) to stdout (default: markdown without --out).")
@click.option("--replace", is_flag=True, help="Replace each namespace's existing policies instead of keeping them.")
@click.option("--external-cidr", "cidrs", multiple=True, metavar="CIDR",
              help="Where outside ingress to LoadBalancer/NodePort workloads comes from (default 0.0.0.0/0).")
@click.option("--ingress-controller", "controllers", multiple=True, metavar="NS[/k=v,...]",
              help="Ingress controller pods that reach Ingress/Gateway backends "
                   "(default ingress-nginx/app.kubernetes.io/name=ingress-nginx).")
@click.option("--no-infer", is_flag=True, help="Do not infer dependencies from env values in the manifests.")
@click.option("-m", "--model", default=lambda: os.environ.get("NETREASON_MODEL"),
              help="A model to explain the plan (prompt plan@1): openai:MODEL, anthropic:MODEL, ollama:MODEL, "
                   "openai-compatible:URL#MODEL (default: $NETREASON_MODEL; none: the plan alone). Every claim it "
                   "makes is checked against the manifests after the plan.")
@click.option("-p", "--prompt", default=PLAN_PROMPT, show_default=True,
              help="Prompt NAME[@VERSION] for the explanation.")
@click.option("--timeout", "timeout_s", type=float, default=60.0, show_default=True,
              help="Seconds to wait for the model (per call, retries included).")
@click.option("--anonymize", is_flag=True,
              help="Pseudonymize names and labels in the prompt; the answer is mapped back.")
def plan(paths: tuple[str, ...], default_namespace: str, strict: bool, deps_path: str | None, flows_path: str | None,
         out_dir: str | None, fmt: str | None, replace: bool, cidrs: tuple[str, ...], controllers: tuple[str, ...],
         no_infer: bool, model: str | None, prompt: str, timeout_s: float, anonymize: bool) -> None:
    """Plan the rollout: per namespace, DNS, exactly the dependencies, then default deny.

    Steps go namespace by namespace, lowest risk first; after each, netreason's evaluator
    checks that every dependency is still allowed, every workload reaches DNS and no other
    in-cluster flow is. Exposed workloads (LoadBalancer/NodePort Services, Ingress and
    Gateway backends) keep their outside ingress from the external actors. With --model, a
    model explains the plan and each of its claims is marked confirmed, contradicted or
    unverifiable against the manifests after the plan. Exit 0 when every step is verified,
    1 when one is not, 2 on bad input, 3 when the model failed (the plan is still written).

    \b
    Examples:
      netreason plan k8s/ --deps deps.yaml --out rollout/
      netreason plan k8s/ --replace -o json
      netreason plan k8s/ --deps deps.yaml --model openai:gpt-4.1-mini
    """
    if model:
        from prompts.library import load_prompt

        check_model(model)
        load_prompt(prompt)  # an unknown prompt is exit 2 before any work
    truth = cli_truth(paths, default_namespace, strict, deps_path, flows_path, infer=not no_infer)
    print_dependency_issues(truth)
    if not truth.bundle.workloads:
        raise click.ClickException(f"no workloads found in {', '.join(paths)}: nothing to plan")
    defaults = ExternalActors()
    actors = ExternalActors(cidrs or defaults.cidrs,
                            parse_controllers(controllers) if controllers else defaults.controllers)
    result = make_plan(truth.bundle, [r.dependency for r in truth.dependencies], actors=actors,
                       backends=routed_backends(truth.texts, default_namespace), replace=replace)
    doc = plan_json(result)
    after = None
    if model or fmt == "html":
        deps_text, origin = read_deps_text(paths, deps_path)
        after = after_truth(truth, result, deps=deps_text, deps_origin=origin, observed=read_flows(flows_path),
                            infer=not no_infer)
    if model:
        from service import pipeline

        assert after is not None
        analysis = asyncio.run(pipeline.run_analysis(after.bundle, model=model, prompt=prompt, truth=after,
                                                     anonymize=anonymize, timeout_s=timeout_s,
                                                     variables=plan_variables(doc)))
        doc = with_explanation(doc, pipeline.analysis_json(analysis))
    if out_dir:
        written = write_plan(doc, out_dir)
        click.echo(f"wrote {len(written)} file(s) to {out_dir}: {len(doc['steps'])} step(s), "
                   f"{'all verified' if doc['verified'] else 'NOT all verified'}", err=fmt is not None)
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2))
    elif fmt == "html":
        from service.renderers.report import render_report

        assert after is not None
        page = {**doc, "after": truth_json(after)}
        click.echo(render_report(page, out_dir=out_dir or "DIR"), nl=False)
    elif fmt == "markdown" or not out_dir:
        click.echo(render_runbook(doc, out_dir or "DIR"), nl=False)
    if model_failed(doc):
        m = doc["explanation"]["model"]
        click.echo(f"error: the model failed ({m.get('error_kind')}): {m['error']}; the plan above is the "
                   "verifier's alone", err=True)
        sys.exit(3)
    sys.exit(0 if doc["verified"] else 1)
