"""Side-by-side renderings of an analysis document (`service.pipeline.analysis_json`).

Markdown fits a PR comment; HTML is one self-contained file (no CDN, no script);
text uses rich tables on a terminal.
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.table import Table

from .flows import box_options
from .sentences import VERDICT_MARK, claim_text, missed_text
from .untrusted import UNCHECKED, markdown_summary, markdown_text

__all__ = ["VERDICT_MARK", "claim_text", "missed_text", "render_html", "render_markdown", "render_text", "truth_lines"]

def truth_lines(doc: dict[str, Any]) -> list[str]:
    """The ground truth as short sentences: broken dependencies, DNS gaps, worst findings."""
    gt = doc["ground_truth"]
    lines = []
    for d in gt["dependencies_broken"]:
        lines.append(f"BROKEN {d['from']} -> {d['to']}:{d['port']}/{d['protocol']} ({d['source']}): {d['explanation']}")
    for w in gt["dns_egress_missing"]:
        lines.append(f"NO DNS {w}")
    ok = [d for d in gt["dependencies"] if d["allowed"]]
    lines.append(f"{len(ok)} of {len(gt['dependencies'])} dependencies allowed; "
                 f"{gt['summary']['allowed_pairs']} of {gt['summary']['total_pairs']} workload pairs can talk")
    lines += exposure_summary(gt.get("exposure"))
    lines += [f"note: {n}" for n in gt.get("notes", [])]
    return lines


#: Entry points listed in the ground truth before the rest are counted only.
MAX_EXPOSURE_LINES = 20


def exposure_summary(doc: dict[str, Any] | None) -> list[str]:
    """Entry points from outside (Ingress, Route, Gateway, LoadBalancer, NodePort) and what reaches whom."""
    if not doc:
        return []
    verdicts = {True: "REACHABLE", False: "BLOCKED", None: "UNCHECKED"}
    lines = [f"EXPOSED {w['id']} via {p['kind']} {p['object']} on {p['target_port']}/{p['protocol']}: "
             f"{verdicts[p['allowed']]} ({p['explanation']})" for w in doc["workloads"] for p in w["entry_points"]]
    anywhere = sum(any(e["cidr"] == "anywhere" for e in w["external_ingress"]) for w in doc["workloads"])
    more = len(lines) - MAX_EXPOSURE_LINES
    out = lines[:MAX_EXPOSURE_LINES] + ([f"... and {more} more entry points (netreason flows --exposure)"] if more > 0
                                        else [])
    return [*out, f"{anywhere} of {len(doc['workloads'])} workloads accept ingress from anywhere outside the cluster"]


def _findings_counts(doc: dict[str, Any]) -> str:
    counts: dict[str, int] = {}
    for f in doc["ground_truth"]["findings"]:
        counts[f["rule"]] = counts.get(f["rule"], 0) + 1
    return ", ".join(f"{rule} ×{n}" for rule, n in sorted(counts.items())) or "none"


def _totals_line(doc: dict[str, Any]) -> str:
    t = doc.get("totals") or {}
    if not t:
        return ""
    acc = t.get("accuracy")
    acc_text = f"{acc:.0%}" if isinstance(acc, float) else "n/a"
    return (f"{t.get('confirmed', 0)} confirmed, {t.get('contradicted', 0)} contradicted, "
            f"{t.get('unverifiable', 0)} unverifiable, "
            + (f"{t['unparseable']} unparseable, " if t.get("unparseable") else "")
            + f"{t.get('missed', 0)} missed — accuracy {acc_text}")


def _model_header(doc: dict[str, Any]) -> str:
    m = doc["model"]
    label = " (simulated, not a real model)" if m["simulated"] else ""
    return f"{m['name']}{label} with prompt {m['prompt']}"


# --- markdown --------------------------------------------------------------------
def render_markdown(doc: dict[str, Any]) -> str:
    out = ["## netreason analysis", ""]
    out += ["### Ground truth (verifier)", ""] + [f"- {_md(line)}" for line in truth_lines(doc)]
    out += [f"- findings: {_findings_counts(doc)}", ""]
    if doc.get("model") is None:
        out += [f"> {doc.get('hint', '')}", ""]
        return "\n".join(out)
    return "\n".join(out + model_markdown(doc))


def model_markdown(doc: dict[str, Any], heading: str = "###") -> list[str]:
    """The model's side of an analysis document (it has a `model`): header, failure, its own words marked
    unchecked, each claim beside the verifier's truth, what it missed, the totals."""
    m = doc["model"]
    out = [f"{heading} Model: {_md(_model_header(doc))}", ""]
    if m.get("error"):
        out += [f"> **The model failed** ({m.get('error_kind')}): {markdown_text(m['error'], 500)}. "
                "The ground truth above stands.", ""]
    if m.get("summary"):
        out += [*markdown_summary(m["summary"]), ""]
    if m["claims"]:
        out += ["| verdict | claim | ground truth |", "| --- | --- | --- |"]
        for c in m["claims"]:
            out.append(f"| {VERDICT_MARK[c['verdict']]} | {markdown_text(claim_text(c['claim']))} "
                       f"| {markdown_text(c['explanation'])} |")
        out.append("")
    if doc["missed"]:
        out += ["**Missed by the model:**", ""] + [f"- {_md(missed_text(x))}" for x in doc["missed"]] + [""]
    if _totals_line(doc):
        out += [f"**Totals:** {_totals_line(doc)}", ""]
    return out


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# --- html ------------------------------------------------------------------------
def render_html(doc: dict[str, Any]) -> str:
    """The report page (`service.renderers.report`): headline, map, the model beside the truth, details."""
    from .report import render_report

    return render_report(doc)


# --- text ------------------------------------------------------------------------
def render_text(doc: dict[str, Any], width: int = 140, plain: bool = False) -> str:
    """The report for a terminal; `plain` (TERM=dumb) draws no rules or table boxes."""
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=False)
    rule = (lambda title: console.print(f"== {title} ==", markup=False)) if plain else console.rule
    rule("Ground truth (verifier)")
    for line in truth_lines(doc):
        console.print(line, markup=False)
    console.print(f"findings: {_findings_counts(doc)}", markup=False)
    m = doc.get("model")
    if m is None:
        console.print(doc.get("hint", ""), markup=False)
        return out.getvalue()
    rule(f"Model: {_model_header(doc)}")
    if m.get("error"):
        console.print(f"the model failed ({m.get('error_kind')}): {m['error']}", markup=False)
    if m.get("summary"):
        console.print(f"summary ({UNCHECKED}):", markup=False)
        console.print(m["summary"], markup=False)
    table = Table("verdict", "claim", "ground truth", show_lines=False, **box_options(plain))
    for c in m["claims"]:
        table.add_row(c["verdict"], claim_text(c["claim"]), c["explanation"])
    console.print(table)
    for x in doc["missed"]:
        console.print(f"missed: {missed_text(x)}", markup=False)
    if _totals_line(doc):
        console.print(f"totals: {_totals_line(doc)}", markup=False)
    return out.getvalue()
