"""`netreason analyze` and `netreason ask`: the model's answer beside the verifier's truth."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from service.outputs import ANALYSIS_FORMATS, command_output, render_analysis

from service.terminal import plain_terminal
from verifier.gcpause import gc_paused

from .common import EXIT_CODES_HELP, bundle_options, cli_truth, deps_options
from .output import F, emit, output_file_option, output_option

if TYPE_CHECKING:
    from service.analysis_doc import Analysis
    from service.pipeline import SliceOptions
    from service.rollout import RolloutAnswer
    from service.sliced import Progress, SliceOutcome
    from service.scope import Scope
    from service.truth import Truth

FORMATS = list(ANALYSIS_FORMATS)


def _model_option(func: F) -> F:
    func = click.option("--timeout", "timeout_s", type=float, default=60.0, show_default=True,
                        help="Seconds to wait for the model (per call, retries included).")(func)
    func = click.option("--anonymize", is_flag=True,
                        help="Pseudonymize names and labels in the prompt; the answer is mapped back.")(func)
    func = click.option("-m", "--model", default=lambda: os.environ.get("NETREASON_MODEL"),
                        help="openai:MODEL, anthropic:MODEL, ollama:MODEL, openai-compatible:URL#MODEL (default: "
                             "$NETREASON_MODEL; none: ground truth only). Checked before any work: an unknown "
                             "provider or a missing key is exit 2.")(func)
    func = output_option(FORMATS, "text")(func)
    func = output_file_option(func)
    return func


def _check_model(model: str | None) -> None:
    """Build the provider once before any work: an unknown provider or a missing key is exit 2, not a
    report with an empty claims table.

    Raises:
        ProviderConfigError: the spec names no known provider, or its API key is not set.
    """
    if not model:
        return
    from service.providers.registry import get_provider

    get_provider(model)


def _model_failed(doc: dict[str, Any]) -> bool:
    """A model was asked and gave no answer: the ground truth is out, but the run must not pass (exit 3)."""
    model = doc.get("model")
    return bool(model and model.get("error"))


def _exit_after_model(doc: dict[str, Any]) -> None:
    if _model_failed(doc):
        click.echo(f"error: the model failed ({doc['model'].get('error_kind')}): {doc['model']['error']}; "
                   "the ground truth above is the verifier's alone", err=True)
        sys.exit(3)


def _emit(doc: dict[str, Any], fmt: str, output_file: str | None, map_namespace: str | None = None) -> None:
    text: str | bytes
    if fmt == "html" and map_namespace:
        from service.renderers.report import render_report

        text = render_report(doc, focus=map_namespace)
    elif fmt == "text":  # TERM=dumb gets no rules or boxes
        from service.renderers.analysis import render_text

        text = render_text(doc, plain=plain_terminal())
    else:
        text = command_output(doc, fmt, render_analysis)
    emit(text, fmt, output_file)


def _truth(paths: Sequence[str], default_namespace: str, strict: bool, deps_path: str | None,
           flows_path: str | None) -> Truth:
    return cli_truth(paths, default_namespace, strict, deps_path, flows_path)


def _scoped_bundle_options(func: F) -> F:
    """PATH..., --strict and a repeatable -n/--namespace: as with kubectl, the first namespace also takes the
    objects that name none, and naming namespaces scopes the analysis to them."""
    func = click.option("--strict", is_flag=True,
                        help="Treat validation errors as fatal (exit 2) instead of reporting and leaving the object "
                             "out.")(func)
    func = click.option("-n", "--namespace", "namespaces", multiple=True,
                        help="Analyze only this namespace (repeatable); the first also takes objects that name none "
                             "(default: all namespaces; objects naming none go to 'default').")(func)
    return click.argument("paths", nargs=-1, required=True, metavar="PATH...")(func)


def _slicing_options(func: F) -> F:
    func = click.option("--focus", metavar="WORKLOAD",
                        help="Analyze one workload (namespace/name): it, the policies that select it, what it reaches "
                             "and what reaches it.")(func)
    func = click.option("--budget", metavar="CONTEXT[:OUTPUT]",
                        help="The model's context window and output limit in tokens (e.g. 32k:4k); default: known "
                             "models' limits, $NETREASON_MODEL_BUDGET, else 32k:4k. Larger clusters are asked in "
                             "slices.")(func)
    func = click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True,
                        help="Slices asked at once.")(func)
    func = click.option("--max-cost", "max_cost", type=click.FloatRange(min=0), metavar="USD",
                        help="Stop before a slice whose estimated cost (service/prices.yaml) would pass this "
                             "total.")(func)
    func = click.option("--dry-run", is_flag=True,
                        help="Print the slices, their tokens and estimated cost; ask nothing.")(func)
    func = click.option("--progress/--no-progress", default=None,
                        help="Report each slice on stderr (default: when stderr is a terminal).")(func)
    func = click.option("--map-namespace", metavar="NS",
                        help="-o html: the namespace whose workloads the map details when the cluster is too large "
                             "for one map (default: the one with the most broken dependencies).")(func)
    return func


@click.command(epilog=EXIT_CODES_HELP)
@_scoped_bundle_options
@deps_options
@_model_option
@click.option("-p", "--prompt", default="flows@1", show_default=True,
              help="Prompt NAME[@VERSION]: flows, breakage, dns, review, ask.")
@_slicing_options
def analyze(paths: tuple[str, ...], namespaces: tuple[str, ...], strict: bool, deps_path: str | None,
            flows_path: str | None, fmt: str, output_file: str | None, model: str | None, anonymize: bool,
            timeout_s: float, prompt: str, focus: str | None, budget: str | None, concurrency: int,
            max_cost: float | None, dry_run: bool, progress: bool | None, map_namespace: str | None) -> None:
    """Which flows work, which dependencies break, who lost DNS — the model's answer beside the truth.

    The verifier computes the ground truth; when a model is configured, it is asked the
    same question and every claim it makes is marked confirmed, contradicted or
    unverifiable, with what it missed. With no model, the ground truth alone. A cluster
    over the model's prompt budget is asked in slices (by namespace, then by workload),
    and every claim is checked against the whole cluster.

    \b
    Examples:
      netreason analyze examples/shop
      netreason analyze k8s/ --model openai:gpt-4.1-mini --prompt breakage -o markdown
      netreason analyze k8s/ -n shop -n payments --model openai:gpt-4.1-mini
      netreason analyze k8s/ --focus shop/api --model openai:gpt-4.1-mini
      netreason analyze k8s/ --model openai:gpt-4.1-mini --dry-run
      netreason analyze k8s/ -m openai-compatible:http://localhost:11434/v1#llama3.1 -o html --output-file report.html
    """
    from service.scoping import apply_scope, check_scope, resolve_focus
    from service.scope import Scope

    _check_model(model)
    truth = _truth(paths, namespaces[0] if namespaces else "default", strict, deps_path, flows_path)
    from service.budgets import BudgetError, budget_for
    from service.scoping import ScopeError

    scope = Scope(tuple(dict.fromkeys(namespaces)), resolve_focus(truth, focus) if focus else None)
    try:
        check_scope(truth, scope)
        budget_for(model, budget)
        _check_map_namespace(truth, map_namespace)
    except (ScopeError, BudgetError) as e:
        raise click.UsageError(str(e)) from None
    if model or dry_run:
        result = _with_model(truth, model, prompt, scope, anonymize, timeout_s, budget, concurrency, max_cost,
                             dry_run, progress, fmt, output_file)
        if result is None:
            return
    else:
        # The ground truth alone, as `pipeline.run_analysis` returns it without a model: no event loop, and
        # none of the pipeline's model machinery imported.
        from service.analysis_doc import NO_MODEL_HINT, Analysis

        result = Analysis(truth, prompt, hint=NO_MODEL_HINT, scope=scope)
    from service.analysis_doc import analysis_json

    with gc_paused():  # the document and its text: many young objects, no cycles (see verifier.gcpause)
        doc = apply_scope(analysis_json(result), truth, scope)
        _emit(doc, fmt, output_file, map_namespace)
    _exit_after_model(doc)


def _with_model(truth: Truth, model: str | None, prompt: str, scope: Scope, anonymize: bool, timeout_s: float,
                budget: str | None, concurrency: int, max_cost: float | None, dry_run: bool, progress: bool | None,
                fmt: str, output_file: str | None) -> Analysis | None:
    """The model's answer checked against `truth` (None after a dry run, which prints its plan)."""
    import asyncio

    from service import pipeline

    show = sys.stderr.isatty() if progress is None else progress
    options = pipeline.SliceOptions(budget=budget, concurrency=concurrency, max_cost_usd=max_cost, scope=scope,
                                    on_progress=_progress_printer() if show else None)
    if dry_run:
        _dry_run(truth, model, prompt, options, anonymize, fmt, output_file)
        return None
    return asyncio.run(pipeline.run_analysis(truth.bundle, model=model or None, prompt=prompt, anonymize=anonymize,
                                             timeout_s=timeout_s, truth=truth, options=options))


def _check_map_namespace(truth: Truth, namespace: str | None) -> None:
    from service.scoping import ScopeError

    have = sorted({w.namespace for w in truth.bundle.workloads})
    if namespace is not None and namespace not in have:
        raise ScopeError(f"--map-namespace {namespace!r}: no workload in that namespace (namespaces with workloads: "
                         f"{', '.join(have[:20])}{' ...' if len(have) > 20 else ''})")


def _progress_printer() -> Progress:
    def report(done: int, total: int, outcome: SliceOutcome) -> None:
        s = outcome.slice
        what = outcome.error or outcome.skipped or f"{outcome.claims} claim(s)"
        click.echo(f"slice {done}/{total} (#{s.index}: {len(s.focus)} workload(s), {s.prompt_tokens:,} tokens): {what}",
                   err=True)
    return report


def _dry_run(truth: Truth, model: str | None, prompt: str, options: SliceOptions, anonymize: bool, fmt: str,
            output_file: str | None) -> None:
    """The slices the model would be asked, their tokens and estimated cost; no model is called."""
    from service import pipeline
    from service.sliced import slice_cost

    if not model:
        raise click.UsageError("--dry-run plans the model's slices: pass --model (or set NETREASON_MODEL)")
    budget, slices = pipeline.plan(truth, model=model, prompt=prompt, options=options, anonymize=anonymize)
    prices = pipeline._prices(model)
    rows = [{**s.to_json(budget), "estimated_cost_usd": slice_cost(prices, s.prompt_tokens, s.output_tokens)}
            for s in slices]
    costs = [r["estimated_cost_usd"] for r in rows]
    doc = {"schema": "netreason.slices/v1", "model": model, "prompt": prompt, "budget": budget.to_json(),
           "scope": options.scope.to_json(), "slices": rows,
           "totals": {"slices": len(rows), "prompt_tokens": sum(r["prompt_tokens"] for r in rows),
                      "estimated_output_tokens": sum(r["estimated_output_tokens"] for r in rows),
                      "estimated_cost_usd": None if None in costs else round(sum(costs), 4),
                      "over_budget": sum(1 for r in rows if r["over_budget"])}}
    text = json.dumps(doc, indent=2) if fmt == "json" else _dry_run_text(doc)
    emit(text, fmt, output_file)


def _dry_run_text(doc: dict[str, Any]) -> str:
    b, t = doc["budget"], doc["totals"]
    cost = ("n/a (no price in service/prices.yaml)" if t["estimated_cost_usd"] is None
            else f"${t['estimated_cost_usd']:.4f}")
    lines = [f"{doc['model']} with {doc['prompt']}: budget {b['input_tokens_per_slice']:,} prompt tokens and "
             f"{b['output_tokens']:,} output tokens per slice ({b['source']})",
             f"{t['slices']} slice(s), {t['prompt_tokens']:,} prompt tokens, about {t['estimated_output_tokens']:,} "
             f"output tokens, estimated cost {cost}", ""]
    for r in doc["slices"][:200]:
        ns = ", ".join(r["namespaces"]) + (f" (+{r['namespaces_total'] - len(r['namespaces'])})"
                                           if r["namespaces_total"] > len(r["namespaces"]) else "")
        c = "" if r["estimated_cost_usd"] is None else f", ${r['estimated_cost_usd']:.4f}"
        over = ", OVER BUDGET" if r["over_budget"] else ""
        lines.append(f"  #{r['index']} [{r['split']}] {r['workloads']} workload(s), {r['prompt_tokens']:,} "
                     f"tokens{c}{over}: {ns}")
    if len(doc["slices"]) > 200:
        lines.append(f"  ... {len(doc['slices']) - 200} more")
    return "\n".join(lines)


@click.command(epilog=EXIT_CODES_HELP)
@bundle_options
@click.argument("question")
@deps_options
@_model_option
@click.option("--base", metavar="OLD", help="What the manifests were before the change (a path or REV:PATH), for "
                                           "\"what does this change break?\".")
def ask(paths: tuple[str, ...], question: str, default_namespace: str, strict: bool, deps_path: str | None,
        flows_path: str | None, fmt: str, output_file: str | None, model: str | None, anonymize: bool,
        timeout_s: float, base: str | None) -> None:
    """Answer one QUESTION about the manifests in PATH..., checked by the verifier.

    The verifier answers first: reachability ("can api reach postgres:5432?") and the rollout's
    questions ("what breaks?", "which dependencies are broken?", "who lost DNS?", "who can reach
    carts?", "what can carts reach?", "what does this change break?" with --base). With a model,
    its answer and claims come beside it, every claim checked.

    \b
    Examples:
      netreason ask examples/shop "can shop/api reach payments/payments-api:8443?"
      netreason ask examples/shop "who lost DNS?"
      netreason ask k8s --base origin/main:k8s "what does this change break?"
    """
    import asyncio

    from service import pipeline
    from service.questions import answer, parse_question  # here: `analyze` never asks one

    _check_model(model)
    truth = _truth(paths, default_namespace, strict, deps_path, flows_path)
    q = parse_question(question)
    verdicts = answer(truth.bundle, q) if q else []
    rollout = None if q else _rollout_answer(truth, question, base, default_namespace, strict)
    if rollout is not None and fmt == "text":
        click.echo(rollout.headline)
        from service.renderers.chat import rollout_item_text

        click.echo("".join(f"  {rollout_item_text(i)}\n" for i in rollout.items), nl=False)
    result = asyncio.run(pipeline.run_analysis(truth.bundle, model=model or None, prompt="ask@1", anonymize=anonymize,
                                               timeout_s=timeout_s, truth=truth, variables={"question": question}))
    doc = pipeline.analysis_json(result)
    doc["question"] = question
    doc["rollout"] = rollout.to_json() if rollout else None
    doc["answer"] = [{"from": v.src, "to": v.dst, "port": v.port, "protocol": v.protocol, "allowed": v.allowed,
                      "explanation": v.explain(), "via": v.via or None} for v in verdicts]
    if fmt == "text" and verdicts:
        for v in verdicts:
            click.echo(v.explain())
    _emit(doc, fmt, output_file)
    _exit_after_model(doc)
    if verdicts:
        sys.exit(0 if all(v.allowed for v in verdicts) else 1)


def _rollout_answer(truth: Truth, question: str, base: str | None, default_namespace: str,
                    strict: bool) -> RolloutAnswer | None:
    """The verifier's answer to a rollout question (None when `question` is none); --base loads the old side."""
    from service.rollout import answer_rollout, parse_rollout_question

    rq = parse_rollout_question(question)
    if rq is None:
        return None
    base_truth = None
    if base and rq.kind == "change":
        from service.commands.diff_cmd import load_side
        from service.truth import compute_truth

        side = load_side(base, default_namespace, strict)
        base_truth = compute_truth(side.bundle, deps=side.deps_text or _deps_of(truth), deps_origin=side.deps_origin,
                                   texts=side.texts, label=side.label)
    return answer_rollout(truth, rq, base_truth)


def _deps_of(truth: Truth) -> list[dict[str, Any]] | None:
    """The new side's declared dependencies, for a base without its own deps file (what the app needs)."""
    from verifier.deps.declared import as_entry

    return [as_entry(r.dependency) for r in truth.dependencies if r.dependency.source == "declared"] or None
