"""The kubectl commands of one rollout step, shared by the runbook (`planfiles`) and the HTML report (`plan_part`).

Kept apart from both so the report renderers do not import the module that writes plan folders (which
imports the renderers for the model's explanation): one place, no cycle.
"""

from __future__ import annotations

from typing import Any


def step_commands(step: dict[str, Any], out_dir: str) -> tuple[list[str], list[str]]:
    """A step's apply commands (its folder, then deleting the policies it replaces) and its rollback commands."""
    folder = f"{out_dir}/{step['directory']}"
    apply = [f"kubectl apply -f {folder}/"] + [
        f"kubectl delete networkpolicy -n {step['namespace']} {p['policy'].split('/', 1)[1]}" for p in step["removes"]]
    rollback = [f"kubectl delete -f {folder}/"] + [
        f"kubectl apply -f {p['file']}  # restores {p['policy']}" for p in step["removes"] if p.get("file")]
    return apply, rollback
