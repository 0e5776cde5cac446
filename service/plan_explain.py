"""A model explains the verified rollout plan (prompt `plan@1`); every claim is checked after the rollout.

The plan is the verifier's: the model only explains it. It sees the cluster brief as it stands once every
step is applied (the plan's policies included, replaced ones gone) and the plan itself as text (steps in
order, the policies each adds and removes, the dependencies it keeps, the evaluator's check). Its claims
are checked against the ground truth of that after-state, through the same pipeline as `analyze`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verifier.rollout.plan import Plan, bundle_after

from .truth import Truth, compute_truth

PLAN_PROMPT = "plan@1"
#: Lines of plan text handed to the model; the rest is said as a count.
MAX_PLAN_LINES = 300
#: Items listed per line (dependencies kept, flows in a failed check) before "and N more".
MAX_LINE_ITEMS = 12


def after_truth(truth: Truth, plan: Plan, *, deps: Any, deps_origin: str | None, observed: Any = None,
                infer: bool = True) -> Truth:
    """The ground truth once every step of `plan` is applied: what the model's claims are checked against."""
    return compute_truth(bundle_after(truth.bundle, plan), deps=deps, deps_origin=deps_origin, observed=observed,
                         infer=infer, texts=truth.texts, label="after the plan")


def plan_variables(doc: dict[str, Any]) -> dict[str, str]:
    """The `plan@1` variables (besides the brief) from a plan document (`netreason.plan/v1`)."""
    return {"plan": plan_text(doc)}


def plan_text(doc: dict[str, Any]) -> str:
    """The plan as the model reads it: one block per step, in apply order. Deterministic."""
    steps = doc["steps"]
    state = "every step verified by the evaluator" if doc["verified"] else "NOT every step verified"
    lines = [f"{len(steps)} step(s), {state}; existing policies "
             + ("replaced" if doc["replace"] else "kept")]
    for step in steps:
        lines += _step_lines(step)
    for skipped in doc["skipped"]:
        lines.append(f"skipped {skipped['namespace']}: {skipped['why']}")
    if len(lines) > MAX_PLAN_LINES:
        lines = [*lines[:MAX_PLAN_LINES], f"... and {len(lines) - MAX_PLAN_LINES} more lines"]
    return "\n".join(lines)


def _step_lines(step: dict[str, Any]) -> list[str]:
    check = step["check"]
    ns = step["namespace"]
    verdict = "verified" if check["verified"] else "NOT verified"
    out = [f"step {step['step']}: namespace {ns} ({verdict}; {check['dependencies_allowed']}/"
           f"{check['dependencies_total']} dependencies allowed after it)",
           "  adds: " + ", ".join(f"{ns}/{m['metadata']['name']}" for m in step["policies"])]
    if step["removes"]:
        out.append("  removes: " + ", ".join(p["policy"] for p in step["removes"]))
    deps = [f"{d['from']} -> {d['to']} {d['protocol']}/{d['port']}" for d in step["dependencies"]]
    out.append("  keeps: " + (_items(deps) or "no dependency"))
    for e in step["exposed"]:
        out.append(f"  outside ingress: {e['workload']} on {', '.join(e['ports'])} ({e['why']})")
    for key, what in (("denied", "denied"), ("unexpected_flows", "also allowed"), ("dns_missing", "no DNS")):
        if check[key]:
            out.append(f"  check {what}: {_items(check[key])}")
    return out


def _items(items: Sequence[str]) -> str:
    shown = ", ".join(items[:MAX_LINE_ITEMS])
    return shown + (f" and {len(items) - MAX_LINE_ITEMS} more" if len(items) > MAX_LINE_ITEMS else "")


def with_explanation(doc: dict[str, Any], analysis: dict[str, Any]) -> dict[str, Any]:
    """`doc` plus `explanation`: the model's answer with every claim checked (an analysis document without
    its ground truth: that is the plan's after-state, which `after` carries when asked for)."""
    explanation = {k: v for k, v in analysis.items() if k != "ground_truth"}
    explanation["checked_against"] = "the manifests after every step of the plan"
    return {**doc, "explanation": explanation}


def model_failed(doc: dict[str, Any]) -> bool:
    """A model was asked to explain the plan and gave no answer."""
    model = (doc.get("explanation") or {}).get("model")
    return bool(model and model.get("error"))
