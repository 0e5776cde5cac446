"""The analysis pipeline: ground truth from the verifier, an optional model answer, every claim checked.

    bundle ─► verifier (connectivity, dependencies, findings) ─► ground truth
       └────► brief ─► prompt ─► provider ─► answer ─► claims checked against the truth

The model is an assistant; when it fails (timeout, rate limit, garbage) the user still
gets the ground truth, with the failure stated.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from verifier.model.bundle import Bundle

# The no-model document lives apart so that `analyze` without a model can build it without this module.
from .analysis_doc import NO_MODEL_HINT as NO_MODEL_HINT
from .analysis_doc import Analysis as Analysis
from .analysis_doc import ModelRun as ModelRun
from .analysis_doc import analysis_json as analysis_json
from .budgets import Budget, budget_for
from .cpu import run_cpu
from .scope import Scope
from .slices import Slice, SliceContext, plan_slices
from .truth import Truth, compute_truth

# The prompt library (LangChain), the providers and the claims (pydantic) are imported where a model is asked:
# an analysis without a model needs none of them.
if TYPE_CHECKING:
    from verifier.claims.check import ClaimReport

    from .prompting import PreparedPrompt
    from .providers.base import Provider, ProviderRequest

#: The CPU steps only a model needs, imported on first use: (module, name). Kept as this module's attributes
#: once imported, so they are looked up here at each call (and can be replaced here, as tests do).
_ON_FIRST_USE = {"prepare_prompt": ("service.prompting", "prepare_prompt"),
                 "check_answer": ("verifier.claims.check", "check_answer")}


def _step(name: str) -> Any:
    """One of `_ON_FIRST_USE`, imported the first time it is asked for."""
    found = globals().get(name)
    if found is None:
        module, attr = _ON_FIRST_USE[name]
        found = globals()[name] = getattr(importlib.import_module(module), attr)
    return found


def __getattr__(name: str) -> Any:
    if name in _ON_FIRST_USE:
        return _step(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: About 100k tokens: beyond this the brief is too large to send in one prompt.
MAX_PROMPT_CHARS = 400_000

def scope_for(prompt_ref: str) -> tuple[str, ...]:
    """The claim types prompt `prompt_ref` asks for (its file's `claim_types`); none for a prompt not in the library."""
    from prompts.library import PromptError, load_prompt

    try:
        return load_prompt(prompt_ref).claim_types
    except PromptError:
        return ()


def build_request(prepared: PreparedPrompt, timeout_s: float) -> ProviderRequest:
    from .providers.base import Message, ProviderRequest

    r = prepared.rendered
    # the prompt library admits only "user" and "assistant" turns; its rendered messages are typed as plain str
    messages = tuple(Message(m["role"], m["content"]) for m in r.messages)  # type: ignore[arg-type]
    return ProviderRequest(system=r.system, messages=messages, json_schema=r.json_schema,
                           schema_name=r.schema_name, timeout_s=timeout_s)


async def ask_model(
    truth: Truth, *, model: str | Provider, prompt: str = "flows@1", anonymize: bool = False,
    timeout_s: float = 60.0, variables: Mapping[str, Any] | None = None,
    max_prompt_chars: int = MAX_PROMPT_CHARS,
) -> ModelRun:
    """Render `prompt` for the bundle, ask the model, parse its answer (one repair round).

    Never raises for model failures: they come back in `ModelRun.error`.
    """
    from .providers.answers import complete_answer
    from .providers.errors import MALFORMED_BODY_ERRORS, ProviderError, malformed_reply
    from .providers.registry import get_provider

    spec_name = model if isinstance(model, str) else getattr(model, "name", type(model).__name__)
    deps = [r.dependency for r in truth.dependencies]
    # Rendering the brief is CPU work (~180 ms at 200 workloads): keep it off the event loop.
    prepared = await run_cpu(_step("prepare_prompt"), prompt, truth.bundle, deps, anonymize=anonymize,
                             **dict(variables or {}))
    ref = prepared.rendered.ref
    size = prompt_chars(prepared)
    if size > max_prompt_chars:
        # A brief this large would overflow most context windows or cost a fortune: say so, call nothing.
        return ModelRun(spec_name, ref, error=(
            f"the prompt is {size:,} characters (about {size // 4:,} tokens), over the limit of {max_prompt_chars:,}; "
            "analyze fewer namespaces at a time (pass only their manifests) or raise max_prompt_chars"),
            error_kind="PromptTooLarge")
    owned = isinstance(model, str)
    provider: Provider | None = None
    try:
        provider = get_provider(model) if isinstance(model, str) else model
        result = await complete_answer(provider, build_request(prepared, timeout_s), prepared.deanonymize)
    except ProviderError as e:
        return ModelRun(spec_name, ref, error=str(e), error_kind=type(e).__name__)
    except MALFORMED_BODY_ERRORS as e:
        # A provider (a plug-in, a LangChain model) let a reply-parsing error through: still a model failure.
        bad = malformed_reply(e, spec_name)
        return ModelRun(spec_name, ref, error=str(bad), error_kind=type(bad).__name__)
    finally:
        if owned and provider is not None and hasattr(provider, "aclose"):
            await provider.aclose()  # the SDK's connection pool belongs to this event loop
    reply = result.reply
    usage = {"input_tokens": result.usage.input_tokens, "output_tokens": result.usage.output_tokens}
    base: dict[str, Any] = dict(spec=spec_name, prompt=ref, simulated=reply.simulated, raw_text=result.merged_text(),
                                usage=usage, latency_ms=sum(r.latency_ms for r in result.replies),
                                attempts=sum(r.attempts for r in result.replies))
    if result.error is not None:
        return ModelRun(**base, error=str(result.error), error_kind="ProviderOutputInvalid")
    parsed = result.parsed
    assert parsed is not None  # no error means an answer
    return ModelRun(**base, answer=parsed.answer, repaired=result.repaired, rejected=parsed.rejected)


def prompt_chars(prepared: PreparedPrompt) -> int:
    r = prepared.rendered
    return len(r.system) + sum(len(m["content"]) for m in r.messages)


@dataclass(frozen=True)
class SliceOptions:
    """How a whole cluster is asked: the prompt budget setting, concurrency, cost ceiling, scope, progress."""

    budget: str | None = None
    concurrency: int = 4
    max_cost_usd: float | None = None
    scope: Scope = Scope()
    on_progress: Any = None


def plan(truth: Truth, *, model: str | None, prompt: str, options: SliceOptions = SliceOptions(),
         anonymize: bool = False, variables: Mapping[str, Any] | None = None) -> tuple[Budget, list[Slice]]:
    """The budget for `model` and the slices `prompt` would be asked in (no model is called).

    Raises:
        BudgetError: an unreadable budget setting.
    """
    budget = budget_for(model, options.budget)
    slices = plan_slices(SliceContext(truth), prompt, budget, scope=options.scope, anonymize=anonymize,
                         variables=variables)
    return budget, slices


async def ask_model_sliced(
    truth: Truth, *, model: str | Provider, prompt: str = "flows@1", anonymize: bool = False,
    timeout_s: float = 60.0, variables: Mapping[str, Any] | None = None, options: SliceOptions = SliceOptions(),
    spec: str | None = None,
) -> ModelRun:
    """Ask `model` about the whole cluster (or the scope) in slices under its prompt budget; never refuses.

    `spec` names the model when `model` is a provider object (for its budget and prices). Never raises for
    model failures: they come back in `ModelRun.error` (and per slice in `slices`).
    """
    from .providers.errors import ProviderError
    from .providers.registry import get_provider
    from .sliced import ask_slices

    spec_name: str = model if isinstance(model, str) else spec or str(getattr(model, "name", type(model).__name__))
    ref = load_prompt_ref(prompt)
    budget, slices = await run_cpu(plan, truth, model=spec_name, prompt=prompt, options=options,
                                   anonymize=anonymize, variables=variables)
    owned = isinstance(model, str)
    provider: Provider | None = None
    try:
        provider = get_provider(model) if isinstance(model, str) else model
        sliced = await ask_slices(provider, slices, lambda sl: _slice_request(sl, timeout_s),
                                  prices=_prices(spec_name), concurrency=options.concurrency,
                                  max_cost_usd=options.max_cost_usd, on_progress=options.on_progress)
    except ProviderError as e:
        return ModelRun(spec_name, ref, error=str(e), error_kind=type(e).__name__)
    finally:
        if owned and provider is not None and hasattr(provider, "aclose"):
            await provider.aclose()  # the SDK's connection pool belongs to this event loop
    raw = json.dumps(sliced.answer.to_json_dict()) if sliced.answer is not None else ""
    return ModelRun(spec_name, ref, simulated=sliced.simulated, answer=sliced.answer, raw_text=raw,
                    usage=sliced.usage, latency_ms=sliced.latency_ms, attempts=sliced.attempts,
                    repaired=sliced.repaired, rejected=sliced.rejected, error=sliced.error,
                    error_kind=sliced.error_kind, slices=tuple(o.to_json(budget) for o in sliced.outcomes),
                    budget=budget.to_json())


def _slice_request(sl: Slice, timeout_s: float) -> ProviderRequest:
    assert sl.prepared is not None, "plan_slices renders every slice's prompt"
    return build_request(sl.prepared, timeout_s)


def load_prompt_ref(prompt: str) -> str:
    from prompts.library import load_prompt

    return load_prompt(prompt).ref


def _prices(spec: str) -> dict[str, float] | None:
    from .prices import price_for

    return None if spec.startswith("simulated:") else price_for(_price_table(), spec)


@functools.cache
def _price_table() -> dict[str, dict[str, float]]:
    """service/prices.yaml, read once: it is read for every model call, on the event loop."""
    from .prices import load_prices

    return load_prices()


async def run_analysis(
    bundle: Bundle, *, model: str | Provider | None = None, prompt: str = "flows@1",
    deps: list[dict[str, Any]] | None = None, deps_origin: str | None = None,
    observed: str | list[dict[str, Any]] | None = None,
    anonymize: bool = False, timeout_s: float = 60.0, variables: Mapping[str, Any] | None = None,
    truth: Truth | None = None, options: SliceOptions = SliceOptions(), spec: str | None = None,
) -> Analysis:
    """Ground truth, plus the model's answer with every claim checked against the whole truth when a model
    is given. The model is asked in slices when the cluster is over its prompt budget."""
    truth = truth or compute_truth(bundle, deps=deps, deps_origin=deps_origin, observed=observed)
    if model is None:
        return Analysis(truth, prompt, hint=NO_MODEL_HINT, scope=options.scope)
    run = await ask_model_sliced(truth, model=model, prompt=prompt, anonymize=anonymize, timeout_s=timeout_s,
                                 variables=variables, options=options, spec=spec)
    # Checking claims is CPU work: off the event loop, as rendering the brief is.
    report = (await run_cpu(_step("check_answer"), run.answer, truth.claims, scope_for(run.prompt), run.rejected)
              if run.answer else None)
    if report is not None and options.scope.workloads:
        report = _missed_within(report, set(options.scope.workloads))
    return Analysis(truth, run.prompt, run, report, scope=options.scope)


def _missed_within(report: ClaimReport, workloads: set[str]) -> ClaimReport:
    """Only the missed items about `workloads` (a blast radius): the model was asked about nothing else."""
    import dataclasses

    keys = ("from", "to", "workload", "object")
    missed = tuple(m for m in report.missed if any(m.item.get(k) in workloads for k in keys))
    return dataclasses.replace(report, missed=missed, totals={**report.totals, "missed": len(missed)})
