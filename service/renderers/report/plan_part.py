"""The plan page: the rollout's headline, the map after every step, then each step with its
policies as copyable YAML, the apply and rollback commands and the evaluator's check."""

from __future__ import annotations

from typing import Any

import yaml

from ...plancommands import step_commands
from . import truth_parts as tp
from .page import badge, code, esc, plural, section, table

#: Problems listed per step and kind before "… and N more".
MAX_STEP_PROBLEMS = 50


def plan_headline(doc: dict[str, Any]) -> list[str]:
    """Is the plan verified, how many steps, what it keeps, what it skips."""
    steps = doc["steps"]
    verified = sum(1 for s in steps if s["check"]["verified"])
    word = "verified" if doc["verified"] else "not verified"
    items = [f"{badge(word)} <b>{plural(len(steps), 'step')}, one namespace "
             f"each; {verified} of {len(steps)} verified by the evaluator.</b>"]
    total = sum(s["check"]["dependencies_total"] for s in steps)
    allowed = sum(s["check"]["dependencies_allowed"] for s in steps)
    items.append(f"Dependency checks across the steps: {allowed} of {total} stay allowed.")
    policies = sum(len(s["policies"]) for s in steps)
    items.append(f"{plural(policies, 'new policy', 'new policies')}; "
                 + ("existing policies are replaced in each step." if doc.get("replace")
                    else "existing policies are kept."))
    for skipped in doc.get("skipped") or []:
        items.append(f"Skipped {code(skipped['namespace'])}: {esc(skipped['why'])}")
    return items


def steps_part(doc: dict[str, Any], out_dir: str = "DIR") -> str:
    """Every step: its check, the commands, the exposed workloads it keeps open, its policies."""
    body = "".join(_step(s, out_dir) for s in doc["steps"]) or "<p>No namespace to roll out.</p>"
    return section(f"Steps ({len(doc['steps'])})", body, ident="steps")


def _step(step: dict[str, Any], out_dir: str) -> str:
    check = step["check"]
    word = "verified" if check["verified"] else "not verified"
    apply_lines, rollback = step_commands(step, out_dir)
    parts = [f"<p class='step-check' data-verified='{'yes' if check['verified'] else 'no'}'>"
             f"{badge(word)} "
             f"{check['dependencies_allowed']} of {plural(check['dependencies_total'], 'dependency', 'dependencies')} "
             f"allowed after this step; {plural(len(check['dns_missing']), 'workload')} without DNS; "
             f"{plural(len(check['unexpected_flows']), 'flow')} nothing needs.</p>",
             _commands("Apply", apply_lines), _commands("Rollback", rollback), _problems(check),
             _dependencies(step), _exposed(step), _policies(step)]
    return section(f"Step {step['step']}: namespace {step['namespace']}", "".join(parts), level=3,
                   ident=f"step-{step['step']}")


def _commands(label: str, lines: list[str]) -> str:
    return f"<p class='muted'>{esc(label)}:</p><pre class='yaml'><code>{esc(chr(10).join(lines))}</code></pre>"


def _problems(check: dict[str, Any]) -> str:
    rows = []
    for key, what in (("denied", "dependency denied"), ("unexpected_flows", "flow nothing needs"),
                      ("dns_missing", "no DNS")):
        items = check[key]
        rows += [[badge("error"), esc(what), code(item)] for item in items[:MAX_STEP_PROBLEMS]]
        if len(items) > MAX_STEP_PROBLEMS:
            rows.append([badge("info"), esc(what),
                         esc(f"… and {len(items) - MAX_STEP_PROBLEMS} more (plan.json lists all)")])
    return table(["", "problem", "what"], rows, caption="Verification problems") if rows else ""


def _dependencies(step: dict[str, Any]) -> str:
    rows = [[badge("allowed"), code(d["from"]), code(d["to"]), f"{esc(d['protocol'])}/{esc(d['port'])}",
             esc(d["source"])]
            for d in step["dependencies"][:tp.MAX_ROWS]]
    if not rows:
        return ""
    return table(["must stay", "from", "to", "port", "source"], rows, caption="Dependencies this step keeps open")


def _exposed(step: dict[str, Any]) -> str:
    rows = [[code(e["workload"]), esc(", ".join(e["ports"])), esc(e["via"]), esc(e["why"])] for e in step["exposed"]]
    return table(["workload", "ports", "via", "why"], rows, caption="Reachable from outside, kept open") if rows else ""


def _policies(step: dict[str, Any]) -> str:
    blocks = "".join(
        f"<div class='fix'><span class='muted'>{code(m['metadata']['name'])}:</span><pre class='yaml'><code>"
        f"{esc(yaml.safe_dump(m, sort_keys=False, default_flow_style=False, width=100))}</code></pre></div>"
        for m in step["policies"])
    return (f"<details open><summary>{plural(len(step['policies']), 'policy', 'policies')} to "
            f"apply</summary>{blocks}</details>")
