"""Running the pipeline for a request: the model it may use, ground truth off the event loop, the model under a timeout."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool

from prompts.library import load_prompt

from .. import pipeline
from ..pipeline import Analysis, ModelRun, Truth
from .deps import ServiceState
from .errors import ApiProblem
from .manifests import LoadedSnapshot

#: Extra seconds the request waits beyond the provider's own timeout before giving up on it.
TIMEOUT_GRACE_S = 0.5


def choose_model(requested: str | None, state: ServiceState) -> str | None:
    """The model spec for a request: its own, else NETREASON_MODEL, else None (ground truth only).

    Raises:
        ApiProblem: 403 when the spec is not in NETREASON_ALLOWED_MODELS.
    """
    spec = (requested or "").strip() or state.settings.model
    if spec and not state.settings.model_allowed(spec):
        allowed = ", ".join(state.settings.allowed_models)
        raise ApiProblem(403, "model-not-allowed", "Model not allowed",
                         f"model {spec!r} is not in NETREASON_ALLOWED_MODELS ({allowed})")
    pipeline.enable_simulated(spec)
    return spec or None


def prompt_ref(prompt: str) -> str:
    """`name@version` of a library prompt, checked before any work is done.

    Raises:
        UnknownPrompt: no such prompt.
    """
    return load_prompt(prompt).ref


async def compute_truth(loaded: LoadedSnapshot, *, observed: str | list[dict[str, Any]] | None = None,
                        infer: bool = True) -> Truth:
    """The verifier's ground truth for a loaded snapshot, computed on a worker thread."""
    return await run_in_threadpool(lambda: pipeline.compute_truth(
        loaded.bundle, deps=loaded.deps, deps_origin=loaded.deps_origin, observed=observed, infer=infer,
        texts=loaded.texts, label=loaded.label))


async def run_model(truth: Truth, *, spec: str | None, state: ServiceState, prompt: str, timeout_s: float,
                    anonymize: bool = False, variables: Mapping[str, Any] | None = None) -> Analysis:
    """The analysis of `truth` with model `spec` (none: ground truth alone), bounded by `timeout_s`.

    Never raises for model failures: a provider that cannot be built, fails or runs out of time comes
    back as `Analysis.model.error`, beside the full ground truth.
    """
    if spec is None:
        return await pipeline.run_analysis(truth.bundle, model=None, prompt=prompt, truth=truth)
    try:
        provider = state.provider(spec)
    except pipeline.ProviderError as e:
        return Analysis(truth, prompt, ModelRun(spec, prompt, error=str(e), error_kind=type(e).__name__))
    call = pipeline.run_analysis(truth.bundle, model=provider, prompt=prompt, anonymize=anonymize,
                                 timeout_s=timeout_s, variables=variables, truth=truth)
    try:
        analysis = await asyncio.wait_for(call, timeout_s + TIMEOUT_GRACE_S)
    except TimeoutError:
        run = ModelRun(spec, prompt, latency_ms=timeout_s * 1000, error_kind="ProviderTimeout",
                       error=f"the model did not answer within {timeout_s:g}s; raise timeout_s (at most "
                             f"{state.settings.max_model_timeout_s:g}s) or use a faster model")
        return Analysis(truth, prompt, run)
    # The run is labelled with the provider object's class name; the caller knows it by its spec.
    assert analysis.model is not None
    return dataclasses.replace(analysis, model=dataclasses.replace(analysis.model, spec=spec))
