"""`netreason plan` outputs: DIR/NN-<namespace>/*.yaml per step, DIR/RUNBOOK.md and DIR/plan.json."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from verifier.model.errors import InputError
from verifier.review.exposure import backend_services
from verifier.model.bundle import SourceRef
from verifier.rollout.plan import Plan

from .plancommands import step_commands

if TYPE_CHECKING:
    from .truth import Truth

MAX_STEP_FLOWS = 20


def routed_backends(texts: Mapping[str, str], default_namespace: str) -> list[tuple[str, str]]:
    """Services that Ingress or Gateway routes in the inputs send to (only texts that mention them are parsed)."""
    docs: list[Any] = []
    for text in texts.values():
        if "Ingress" in text or "Route" in text:
            try:
                docs += [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
            except yaml.YAMLError:
                continue
    items = [i for d in docs for i in (d.get("items") or [d])]
    return backend_services(items, default_namespace)


def policy_file_name(index: int, manifest: Mapping[str, Any]) -> str:
    return f"{index:02d}-{manifest['metadata']['name']}.yaml"


def write_plan(doc: dict[str, Any], out_dir: str) -> list[str]:
    """Write every step's policies, RUNBOOK.md and plan.json; returns the paths written (relative).

    Raises:
        InputError: `out_dir` exists and is not an empty directory.
    """
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError("the output folder exists and is not empty; give a new or empty folder", SourceRef(out_dir))
    written = []
    for step in doc["steps"]:
        for i, manifest in enumerate(step["policies"], 1):
            rel = f"{step['directory']}/{policy_file_name(i, manifest)}"
            _write(out / rel, yaml.safe_dump(manifest, sort_keys=False, default_flow_style=False, width=100))
            written.append(rel)
    _write(out / "RUNBOOK.md", render_runbook(doc, out_dir))
    _write(out / "plan.json", json.dumps(doc, indent=2) + "\n")
    return [*written, "RUNBOOK.md", "plan.json"]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def render_runbook(doc: dict[str, Any], out_dir: str = "DIR") -> str:
    """The runbook: per step, the apply command, what to watch and the rollback command."""
    lines = ["# NetworkPolicy rollout runbook", "",
             f"{len(doc['steps'])} step(s), one namespace each, lowest risk first. "
             + ("Every step is verified by netreason's evaluator." if doc["verified"]
                else "**Some steps failed verification: read their checks before applying.**"), "",
             "Before each step: `netreason probe plan` the step and keep the rollback command at hand. "
             "After it: the probes of the dependencies must connect; the probes that must fail must time out "
             "(a timeout is success; a connection means a policy does not select what you think, or the CNI "
             "does not enforce).", ""]
    for ns in doc["skipped"]:
        lines.append(f"- skipped `{ns['namespace']}`: {ns['why']}")
    for step in doc["steps"]:
        lines += _step_lines(step, out_dir)
    if doc.get("explanation"):
        lines += explanation_lines(doc["explanation"])
    return "\n".join(lines).rstrip() + "\n"


def explanation_lines(explanation: dict[str, Any]) -> list[str]:
    """The model's explanation (prompt plan@1) under the steps: every claim beside the verifier's verdict."""
    from .renderers.analysis import model_markdown

    return ["", "## The model's explanation (every claim checked against the manifests after the plan)", "",
            *model_markdown(explanation, heading="###")]


def _step_lines(step: dict[str, Any], out_dir: str) -> list[str]:
    check = step["check"]
    state = "verified" if check["verified"] else "NOT verified"
    out = ["", f"## Step {step['step']}: namespace `{step['namespace']}` ({state})", "",
           f"Policies ({len(step['policies'])}): " + ", ".join(f"`{m['metadata']['name']}`" for m in step["policies"]),
           "",
           "Apply (files apply in name order: DNS and allows before the default deny):", "", "```sh",
           *step_commands(step, out_dir)[0]]
    out += ["```", "", "Watch:", "",
            f"- {check['dependencies_allowed']}/{check['dependencies_total']} dependencies stay allowed: "
            + ", ".join(f"`{d['from']} -> {d['to']} {d['protocol']}/{d['port']}`" for d in step["dependencies"][:12])
            + (" ..." if len(step["dependencies"]) > 12 else ""),
            "- DNS lookups from every pod of the namespace (53/UDP and 53/TCP to kube-dns)",
            *(f"- outside ingress to `{e['workload']}` on {', '.join(e['ports'])} ({e['why']})"
              for e in step["exposed"]),
            "- connection timeouts and DNS errors in the namespace's logs; NetworkPolicy drops are silent",
            ""]
    out += _problems(check)
    out += ["Rollback:", "", "```sh", *step_commands(step, out_dir)[1], "```"]
    return out


def _problems(check: dict[str, Any]) -> list[str]:
    out = []
    for key, what in (("denied", "dependency denied"), ("unexpected_flows", "flow nothing needs"),
                      ("dns_missing", "no DNS")):
        for item in check[key][:MAX_STEP_FLOWS]:
            out.append(f"- **{what}**: `{item}`")
        if len(check[key]) > MAX_STEP_FLOWS:
            out.append(f"- ... and {len(check[key]) - MAX_STEP_FLOWS} more ({what})")
    return ["Verification problems:", "", *out, ""] if out else []


def parse_controllers(values: Iterable[str]) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """`NS` or `NS/key=value,key=value` -> (namespace, labels) of ingress controller pods.

    Raises:
        InputError: a label is not key=value.
    """
    out = []
    for value in values:
        ns, _, labels = value.partition("/")
        pairs = []
        for item in filter(None, labels.split(",")):
            key, sep, val = item.partition("=")
            if not sep or not key:
                raise InputError(f"--ingress-controller {value!r}: labels are key=value, comma-separated "
                                 f"(e.g. ingress-nginx/app.kubernetes.io/name=ingress-nginx)")
            pairs.append((key, val))
        out.append((ns, tuple(pairs)))
    return tuple(out)


def with_after_state(doc: dict[str, Any], truth: Truth, plan: Plan, *, deps: Any, deps_origin: str | None,
                     observed: Any = None, infer: bool = True) -> dict[str, Any]:
    """`doc` plus `after`: the ground truth once every step is applied, for the HTML report's map."""
    from .plan_explain import after_truth
    from .truth import truth_json

    after = after_truth(truth, plan, deps=deps, deps_origin=deps_origin, observed=observed, infer=infer)
    return {**doc, "after": truth_json(after)}
