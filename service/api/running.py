"""Running the pipeline for a request: the model it may use, ground truth off the event loop, the model under a
timeout."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Mapping
from typing import Any

from prompts.library import load_prompt

from fastapi.responses import Response

from .. import pipeline
from ..pipeline import Analysis, ModelRun
from ..providers.errors import ProviderError
from ..truth import Truth
from ..truth import compute_truth as compute_bundle_truth
from ..providers.specs import display_spec
from .deps import ServiceState
from .encoded import EncodedJson
from .errors import ApiProblem
from .manifests import LoadedSnapshot
from .workpool import offload

log = logging.getLogger("netreason.api")

#: Extra seconds the request waits beyond the provider's own timeout before giving up on it.
TIMEOUT_GRACE_S = 0.5


def choose_model(requested: str | None, state: ServiceState) -> str | None:
    """The model spec for a request: its own, else NETREASON_MODEL, else None (ground truth only).

    A spec can carry a URL, so a request may name only NETREASON_ALLOWED_MODELS (default: NETREASON_MODEL
    alone): no caller can aim the server at an address of its choosing.

    Raises:
        ApiProblem: 403 when the spec is not allowed (the refused spec is not echoed: it may hold a key).
    """
    spec = (requested or "").strip() or state.settings.model
    if spec and not state.settings.model_allowed(spec):
        allowed = ", ".join(display_spec(s) or "" for s in state.settings.allowed_model_specs()) or "none"
        raise ApiProblem(403, "model-not-allowed", "Model not allowed",
                         f"this server only uses the models in NETREASON_ALLOWED_MODELS (default: NETREASON_MODEL); "
                         f"allowed: {allowed}")
    return spec or None


def within_budget(state: ServiceState, *loaded: LoadedSnapshot) -> None:
    """Refuse bundles over NETREASON_MAX_WORKLOADS before any analysis: the work grows with the pairs.

    Raises:
        ApiProblem: 413 naming the count and the limit.
    """
    limit = state.settings.max_workloads
    for snap in loaded:
        count = len(snap.bundle.workloads)
        if count > limit:
            raise ApiProblem(413, "too-many-workloads", "Too many workloads",
                             f"{snap.label} holds {count:,} workloads, over the {limit:,} one request may analyze "
                             "(NETREASON_MAX_WORKLOADS); analyze fewer namespaces at a time")


def bounded_json_size(state: ServiceState, doc: Any, what: str) -> int:
    """The size of `doc` as JSON, refused when over NETREASON_MAX_RESPONSE_BYTES (run it with `offload`).

    Raises:
        ApiProblem: 422 naming the size and the limit; nothing was stored.
    """
    size = len(json.dumps(doc, separators=(",", ":")))
    _check_size(state, size, what)
    return size


def encode_bounded(state: ServiceState, doc: Any, what: str) -> EncodedJson:
    """`doc` encoded once for the response and the store, refused as `bounded_json_size` refuses it (the same
    size, the same limit; run it with `offload`).

    Raises:
        ApiProblem: 422 naming the size and the limit; nothing was stored.
        ValueError: `doc` holds NaN or an infinity (no JSON response can carry it).
    """
    encoded = EncodedJson.of(doc)
    _check_size(state, encoded.ascii_size, what)
    return encoded


def _check_size(state: ServiceState, size: int, what: str) -> None:
    limit = state.settings.max_response_bytes
    if size > limit:
        raise ApiProblem(422, "response-too-large", "Result too large",
                         f"the {what} is {size:,} bytes, over the {limit:,}-byte limit (NETREASON_MAX_RESPONSE_BYTES); "
                         "analyze fewer namespaces at a time")


def bounded(state: ServiceState, response: Response) -> Response:
    """`response`, unless its body is over NETREASON_MAX_RESPONSE_BYTES.

    Raises:
        ApiProblem: 422 naming the size and the limit.
    """
    size, limit = len(response.body), state.settings.max_response_bytes
    if size > limit:
        raise ApiProblem(422, "response-too-large", "Result too large",
                         f"the response is {size:,} bytes, over the {limit:,}-byte limit "
                         "(NETREASON_MAX_RESPONSE_BYTES); "
                         "ask for format=json, or analyze fewer namespaces at a time")
    return response


def prompt_ref(prompt: str) -> str:
    """`name@version` of a library prompt, checked before any work is done.

    Raises:
        UnknownPrompt: no such prompt.
    """
    return load_prompt(prompt).ref


async def compute_truth(loaded: LoadedSnapshot, *, observed: str | list[dict[str, Any]] | None = None,
                        infer: bool = True, fixes: bool = True) -> Truth:
    """The verifier's ground truth for a loaded snapshot, computed on a worker thread."""
    return await offload(lambda: compute_bundle_truth(
        loaded.bundle, deps=loaded.deps, deps_origin=loaded.deps_origin, observed=observed, infer=infer,
        texts=loaded.texts, label=loaded.label, observed_origin="observed", fixes=fixes))


async def run_model(truth: Truth, *, spec: str | None, state: ServiceState, prompt: str, timeout_s: float,
                    anonymize: bool = False, variables: Mapping[str, Any] | None = None,
                    options: pipeline.SliceOptions | None = None) -> Analysis:
    """The analysis of `truth` with model `spec` (none: ground truth alone), bounded by `timeout_s`.

    Never raises for model failures: a provider that cannot be built, fails or runs out of time comes
    back as `Analysis.model.error`, beside the full ground truth.
    """
    if spec is None:
        return await pipeline.run_analysis(truth.bundle, model=None, prompt=prompt, truth=truth)
    shown = display_spec(spec) or ""
    try:
        async with state.providers.lease(spec) as provider:
            call = pipeline.run_analysis(truth.bundle, model=provider, prompt=prompt, anonymize=anonymize,
                                         timeout_s=timeout_s, variables=variables, truth=truth, spec=shown,
                                         options=options or pipeline.SliceOptions())
            analysis = await asyncio.wait_for(call, timeout_s + TIMEOUT_GRACE_S)
    except ProviderError as e:
        return Analysis(truth, prompt, public_run(ModelRun(shown, prompt, error=str(e), error_kind=type(e).__name__)))
    except TimeoutError:
        run = ModelRun(shown, prompt, latency_ms=timeout_s * 1000, error_kind="ProviderTimeout",
                       error=f"the model did not answer within {timeout_s:g}s; raise timeout_s (at most "
                             f"{state.settings.max_model_timeout_s:g}s) or use a faster model")
        return Analysis(truth, prompt, run)
    # The run is labelled with the provider object's class name; the caller knows it by its spec.
    assert analysis.model is not None
    return dataclasses.replace(analysis, model=public_run(dataclasses.replace(analysis.model, spec=shown)))


#: What a caller is told about each model failure: fixed text, nothing from the model server's reply
#: (an error page, a status line, a connection error) and no difference between a closed port, an
#: HTTP error and a refused key. The details go to the server log.
_PUBLIC_ERRORS: dict[str, tuple[str, str]] = {
    "ProviderUnavailable": ("ProviderUnavailable",
                            "the model provider failed to answer; the server log has the details"),
    "ProviderRequestRejected": ("ProviderUnavailable",
                                "the model provider failed to answer; the server log has the details"),
    "ProviderAuthError": ("ProviderUnavailable", "the model provider failed to answer; the server log has the details"),
    "ProviderTimeout": ("ProviderTimeout", "the model did not answer in time"),
    "ProviderRateLimited": ("ProviderRateLimited", "the model provider is rate limiting this server; try again later"),
    "ProviderOutputInvalid": ("ProviderOutputInvalid", "the model's answer could not be used (not a JSON object "
                                                       "matching the answer schema, even after one repair round)"),
}


def _public_slice(s: dict[str, Any]) -> dict[str, Any]:
    kind = s.get("error_kind")
    if not s.get("error") or kind not in _PUBLIC_ERRORS:
        return s
    log.warning("model slice %s failed: %s: %s", s.get("index"), kind, display_spec(s["error"]))
    public_kind, text = _PUBLIC_ERRORS[kind]
    return {**s, "error": text, "error_kind": public_kind}


def public_run(run: ModelRun) -> ModelRun:
    """`run` with its error text replaced by what a caller may see (`_PUBLIC_ERRORS`); logged in full here.

    A run asked in slices gets each slice's error replaced the same way, and its own error said in our words.
    """
    if run.slices and any(s.get("error") for s in run.slices):
        slices = tuple(_public_slice(s) for s in run.slices)
        run = dataclasses.replace(run, slices=slices)
        if len(slices) > 1:
            failed = [s for s in slices if s.get("error") or s.get("skipped")]
            first = failed[0].get("error") or failed[0].get("skipped")
            return dataclasses.replace(run,
                                       error=f"{len(failed)} of {len(slices)} slices gave no answer; first: {first}",
                                       error_kind="SlicesFailed")
    if run.error is None or run.error_kind not in _PUBLIC_ERRORS:
        return run  # no error, or our own words (PromptTooLarge, a missing key, a timeout we measured)
    if run.error_kind == "ProviderTimeout" and run.error.startswith("the model did not answer within"):
        return run
    log.warning("model %s failed: %s: %s", run.spec, run.error_kind, display_spec(run.error))
    kind, text = _PUBLIC_ERRORS[run.error_kind]
    return dataclasses.replace(run, error=text, error_kind=kind)
