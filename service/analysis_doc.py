"""The analysis document: what `analyze` found, with or without a model, and its JSON.

Kept apart from `service.pipeline` (which asks models: asyncio, the work pool, the brief) so that `analyze`
without a model builds and writes it without importing any of that. `service.pipeline` re-exports all of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .scope import Scope
from .truth import Truth, truth_json

if TYPE_CHECKING:
    from verifier.claims.answers import RejectedClaim
    from verifier.claims.check import ClaimReport
    from verifier.claims.schema import ModelAnswer

NO_MODEL_HINT = (
    "No model configured: showing the verifier's ground truth alone. To compare a model's answer, pass "
    "--model (or set NETREASON_MODEL), e.g. openai:gpt-4.1-mini (OPENAI_API_KEY), "
    "anthropic:claude-sonnet-5-5 (ANTHROPIC_API_KEY), or openai-compatible:http://localhost:11434/v1#llama3.1 "
    "for a local model with no key."
)


@dataclass(frozen=True)
class ModelRun:
    """One model's answer, as far as it got. `error` says why it stopped when it did."""

    spec: str
    prompt: str
    simulated: bool = False
    answer: ModelAnswer | None = None
    raw_text: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    latency_ms: float = 0.0
    attempts: int = 0
    repaired: bool = False
    rejected: tuple[RejectedClaim, ...] = ()
    error: str | None = None
    error_kind: str | None = None
    slices: tuple[dict[str, Any], ...] = ()
    budget: dict[str, Any] | None = None


@dataclass(frozen=True)
class Analysis:
    truth: Truth
    prompt: str
    model: ModelRun | None = None
    report: ClaimReport | None = None
    hint: str | None = None
    scope: Scope = Scope()


def analysis_json(a: Analysis) -> dict[str, Any]:
    """The `netreason analyze --format json` document (and the body of POST /v1/analyze)."""
    doc: dict[str, Any] = {"schema": "netreason.analysis/v1", "prompt": a.prompt, "ground_truth": truth_json(a.truth)}
    if a.model is None:
        doc["model"] = None
        doc["hint"] = a.hint
        doc["missed"] = []
        doc["totals"] = {}
        return doc
    m = a.model
    report = a.report.to_json() if a.report else {"claims": [], "missed": [], "totals": {}, "accuracy": None}
    doc["model"] = {
        "name": m.spec, "prompt": m.prompt, "simulated": m.simulated,
        "summary": m.answer.summary if m.answer else None,
        # The verifier checks claims, never this free text: every output labels it so.
        "summary_checked": False,
        "usage": {**m.usage, "latency_ms": round(m.latency_ms, 1), "attempts": m.attempts, "repaired": m.repaired},
        "claims": report["claims"], "error": m.error, "error_kind": m.error_kind,
        "budget": m.budget, "slices": list(m.slices),
    }
    doc["missed"] = report["missed"]
    doc["totals"] = {**report["totals"], "accuracy": report["accuracy"]}
    return doc
