"""Stored responses -> scores: the verifier's truth at scoring time, each claim checked, counted.

No model is called here: `score_run` reads a run's responses from the store, recomputes the
ground truth of each scenario with the verifier (never from the scenario file), checks the
parsed answer with `verifier.claims.check.check_answer`, turns the report into `scoring` inputs and
saves one scoring pass (`Store.save_eval_scores`). Reports read that pass only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from service.pipeline import scope_for
from service.providers.structured import parse_json_object
from service.store import EvalResponse, Store
from service.truth import Truth, compute_truth
from verifier.claims.check import ClaimReport, check_answer
from verifier.deps.declared import as_entry
from verifier.claims.answers import AnswerShapeError, ParsedAnswer
from verifier.claims.answers import parse_answer as parse_tolerant

from service.prices import load_prices, price_for
from .scenarios import Scenario, load_scenarios
from .scoring import ClaimOutcome, Key, TruthItems, cost_usd, score_response

SCORER_VERSION = "scoring@1"
#: How many wrong claims and missed items a response keeps for the report's worst cases.
KEEP_CASES = 5


def compute_scenario_truth(scenario: Scenario) -> Truth:
    """The verifier's ground truth for a scenario (bundle, deps, env inference)."""
    data = scenario.load()
    # No converged fixes: scoring never shows them, and on a large tier they are most of the verifier's time.
    return compute_truth(data.bundle, deps=data.deps, deps_origin=f"{scenario.id} deps", fixes=False)


def parse_answer(raw_text: str) -> ParsedAnswer | None:
    """The answer in a stored raw text, parsed as the runner parsed it (tolerantly, claim by claim);
    None when it holds no usable answer."""
    data = parse_json_object(raw_text)
    if data is None:
        return None
    try:
        return parse_tolerant(data)
    except AnswerShapeError:
        return None


def claim_key(claim: Mapping[str, Any]) -> Key:
    """The identity of a claim, as JSON (`from`/`to` aliases)."""
    t = claim.get("type")
    if t in ("flow", "dependency_broken"):
        return (str(claim["from"]), str(claim["to"]), str(claim["port"]), str(claim.get("protocol", "TCP")))
    if t == "dns_egress_missing":
        return (str(claim["workload"]),)
    if t == "finding":
        return (str(claim["rule"]), str(claim["object"]))
    return (str(claim.get("policy", "")),)


def truth_items(truth: Truth, scope: tuple[str, ...], report: ClaimReport | None) -> TruthItems:
    """Per scope type, the keys a complete answer covers, and those the report lists as missed."""
    gt = truth.claims
    items: dict[str, frozenset[Key]] = {}
    if "flow" in scope:
        flow_items, _ = gt.flow_items()
        items["flow"] = frozenset((s, d, str(p), proto) for s, d, p, proto in flow_items)
    if "dependency_broken" in scope:
        broken = [r.dependency for r in gt.dependencies if not r.allowed]
        items["dependency_broken"] = frozenset(
            claim_key({"type": "dependency_broken", **as_entry(d)}) for d in broken)
    if "dns_egress_missing" in scope:
        items["dns_egress_missing"] = frozenset((w,) for w in gt.dns_missing)
    if "finding" in scope:
        items["finding"] = frozenset(k for k, f in gt.findings.items() if f.severity != "info")
    if report is None:  # no valid answer: every item is missed
        return TruthItems(items, dict(items))
    missed: dict[str, set[Key]] = {t: set() for t in items}
    for m in report.missed:
        missed.setdefault(m.type, set()).add(claim_key({"type": m.type, **m.item}))
    return TruthItems(items, {t: frozenset(v) for t, v in missed.items()})


def grade(response: EvalResponse, truth: Truth, scenario: Scenario, prices: Mapping[str, Any]) -> dict[str, Any]:
    """The score row of one response: counts per claim type, usage, cost and its worst cases."""
    scope = scope_for(response.prompt_ref)
    parsed = None if response.error else parse_answer(response.raw_text)
    answer = parsed.answer if parsed else None
    report = check_answer(answer, truth.claims, scope, parsed.rejected) if parsed and answer else None
    checks = report.checks if report else ()
    # Unparseable claims have no trustworthy type or key: counted on their own, not per type.
    outcomes = [ClaimOutcome(c.claim["type"], claim_key(c.claim), c.verdict) for c in checks
                if c.verdict != "unparseable"]
    score = score_response(outcomes, truth_items(truth, scope, report),
                           schema_failure=answer is None and not response.error, error=bool(response.error))
    usage = response.usage
    tokens_in, tokens_out = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
    return {
        "model": response.model, "prompt": response.prompt_ref, "scenario": response.scenario_id,
        "family": scenario.family, "scale": scenario.scale, "workloads": len(truth.bundle.workloads),
        "repeat": response.repeat_index, "simulated": response.simulated, "error": response.error,
        "schema_failure": score.schema_failure,
        "unparseable": sum(1 for c in checks if c.verdict == "unparseable"),
        "by_type": {t: c.__dict__ for t, c in score.by_type.items()},
        "input_tokens": tokens_in, "output_tokens": tokens_out, "latency_ms": response.latency_ms,
        "cached": bool(usage.get("cached")),
        # What asking cost besides tokens: calls (slices asked), prompt characters and the job's wall time.
        "calls": int(usage.get("calls", 1)), "slices": int(usage.get("slices", 1)),
        "prompt_chars": usage.get("prompt_chars"), "wall_ms": usage.get("wall_ms"),
        "cost_usd": None if response.simulated else cost_usd(tokens_in, tokens_out, price_for(prices, response.model)),
        "cases": _cases(report),
    }


def _cases(report: ClaimReport | None) -> list[dict[str, Any]]:
    if report is None:
        return []
    wrong = [{"kind": c.verdict, "claim": c.claim, "ground_truth": c.truth, "explanation": c.explanation}
             for c in report.checks if c.verdict != "confirmed"]
    missed = [{"kind": "missed", "claim": None, "ground_truth": {"type": m.type, **m.item},
               "explanation": m.explanation}
              for m in report.missed]
    return (wrong + missed)[:KEEP_CASES]


def score_run(store: Store, run_id: str, *, scenario_dir: Path | None = None, prices_path: Path | None = None,
              on_scored: Callable[[], None] | None = None) -> dict[str, Any]:
    """Score every stored response of run `run_id` offline and save the pass; return it.

    Raises:
        NotFound: no such run.
        ScenarioError: a scenario of the run is no longer in the corpus.
    """
    config = store.get_eval_run(run_id)
    scenarios = {s.id: s for s in corpus(scenario_dir)}
    prices = load_prices(prices_path)
    truths: dict[str, Truth] = {}
    rows = []
    for response in store.eval_responses(run_id):
        scenario = _scenario(scenarios, response.scenario_id, run_id)
        if scenario.id not in truths:
            truths[scenario.id] = compute_scenario_truth(scenario)
        rows.append(grade(response, truths[scenario.id], scenario, prices))
        if on_scored:
            on_scored()
    result = {"schema": "netreason.eval-scores/v1", "scorer": SCORER_VERSION, "run_id": run_id,
              "config": config, "responses": rows}
    store.save_eval_scores(run_id, SCORER_VERSION, result)
    return result


def corpus(scenario_dir: Path | None) -> list[Scenario]:
    """The scenarios a run may have used: `scenario_dir`'s, else the corpus plus the tier stubs (`evals/tiers`)."""
    if scenario_dir is not None:
        return load_scenarios(scenario_dir)
    from .tiers import TIER_DIR

    return load_scenarios() + load_scenarios(TIER_DIR)


def _scenario(scenarios: Mapping[str, Scenario], scenario_id: str, run_id: str) -> Scenario:
    from .scenarios import ScenarioError

    if scenario_id not in scenarios:
        raise ScenarioError(f"run {run_id} used scenario {scenario_id!r}, which is no longer in the corpus")
    return scenarios[scenario_id]
