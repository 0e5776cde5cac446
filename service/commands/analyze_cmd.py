"""`netreason analyze` and `netreason ask`: the model's answer beside the verifier's truth."""

from __future__ import annotations

import asyncio
import os
import sys

import click

from service.questions import answer, parse_question
from service.outputs import ANALYSIS_FORMATS, render_analysis

from service.terminal import plain_terminal

from .common import EXIT_CODES_HELP, bundle_options, cli_truth, deps_options
from .output import emit, output_file_option, output_option

FORMATS = list(ANALYSIS_FORMATS)


def _model_option(func):
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


def _enable_simulated(model: str | None) -> None:
    from service.pipeline import enable_simulated

    enable_simulated(model)


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


def _model_failed(doc: dict) -> bool:
    """A model was asked and gave no answer: the ground truth is out, but the run must not pass (exit 3)."""
    model = doc.get("model")
    return bool(model and model.get("error"))


def _exit_after_model(doc: dict) -> None:
    if _model_failed(doc):
        click.echo(f"error: the model failed ({doc['model'].get('error_kind')}): {doc['model']['error']}; "
                   "the ground truth above is the verifier's alone", err=True)
        sys.exit(3)


def _emit(doc: dict, fmt: str, output_file: str | None) -> None:
    if fmt == "text":  # TERM=dumb gets no rules or boxes
        from service.renderers.analysis import render_text

        text = render_text(doc, plain=plain_terminal())
    else:
        text = render_analysis(doc, fmt)
    emit(text, fmt, output_file)


def _truth(paths, default_namespace, strict, deps_path, flows_path):
    return cli_truth(paths, default_namespace, strict, deps_path, flows_path)


@click.command(epilog=EXIT_CODES_HELP)
@bundle_options
@deps_options
@_model_option
@click.option("-p", "--prompt", default="flows@1", show_default=True, help="Prompt NAME[@VERSION]: flows, breakage, dns, review, ask.")
def analyze(paths, default_namespace, strict, deps_path, flows_path, fmt, output_file, model, anonymize, timeout_s, prompt) -> None:
    """Which flows work, which dependencies break, who lost DNS — the model's answer beside the truth.

    The verifier computes the ground truth; when a model is configured, it is asked the
    same question and every claim it makes is marked confirmed, contradicted or
    unverifiable, with what it missed. With no model, the ground truth alone.

    \b
    Examples:
      netreason analyze examples/shop
      netreason analyze k8s/ --model openai:gpt-4.1-mini --prompt breakage -o markdown
      netreason analyze k8s/ -m openai-compatible:http://localhost:11434/v1#llama3.1 -o html --output-file report.html
    """
    from service import pipeline

    _enable_simulated(model)
    _check_model(model)
    truth = _truth(paths, default_namespace, strict, deps_path, flows_path)
    result = asyncio.run(pipeline.run_analysis(truth.bundle, model=model or None, prompt=prompt,
                                               anonymize=anonymize, timeout_s=timeout_s, truth=truth))
    doc = pipeline.analysis_json(result)
    _emit(doc, fmt, output_file)
    _exit_after_model(doc)


@click.command(epilog=EXIT_CODES_HELP)
@bundle_options
@click.argument("question")
@deps_options
@_model_option
def ask(paths, question, default_namespace, strict, deps_path, flows_path, fmt, output_file, model, anonymize, timeout_s) -> None:
    """Answer one QUESTION about the manifests in PATH..., checked by the verifier.

    Reachability questions ("can api reach postgres:5432?") are answered by the verifier
    itself; with a model, its answer and claims come beside it.

    \b
    Example:
      netreason ask examples/shop "can shop/api reach payments/payments-api:8443?"
    """
    from service import pipeline

    _enable_simulated(model)
    _check_model(model)
    truth = _truth(paths, default_namespace, strict, deps_path, flows_path)
    q = parse_question(question)
    verdicts = answer(truth.bundle, q) if q else []
    result = asyncio.run(pipeline.run_analysis(truth.bundle, model=model or None, prompt="ask@1", anonymize=anonymize,
                                               timeout_s=timeout_s, truth=truth, variables={"question": question}))
    doc = pipeline.analysis_json(result)
    doc["question"] = question
    doc["answer"] = [{"from": v.src, "to": v.dst, "port": v.port, "protocol": v.protocol, "allowed": v.allowed,
                      "explanation": v.explain()} for v in verdicts]
    if fmt == "text" and verdicts:
        for v in verdicts:
            click.echo(v.explain())
    _emit(doc, fmt, output_file)
    _exit_after_model(doc)
    if verdicts:
        sys.exit(0 if all(v.allowed for v in verdicts) else 1)
