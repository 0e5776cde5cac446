"""The pages: one design, assembled per document kind (analysis, review, chat, plan).

Each page is: a title, the headline answer (the verifier's box, and the model's box beside it when a
model answered; one line when it failed), the map, the model's claims beside the truth, then the
verifier's details. A new kind of document registers a function in `REPORTS` under its `schema`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import model_part as mp
from . import plan_part as pp
from . import truth_parts as tp
from ..sentences import status_sentence
from .netmap import MAP_CSS, map_html
from .page import badge, code, esc, page, plural, section, table, why_lines

Renderer = Callable[[dict[str, Any]], str]


def render_report(doc: dict[str, Any], **options: Any) -> str:
    """The HTML page for any report document, chosen by its `schema`.

    Raises:
        ValueError: a document of a kind no report is registered for.
    """
    schema = str(doc.get("schema") or "")
    renderer = REPORTS.get(schema)
    if renderer is None:
        raise ValueError(f"no HTML report for documents of schema {schema!r}; known: {', '.join(sorted(REPORTS))}")
    return renderer(doc, **options)


# --- shared body ---------------------------------------------------------------------------------------------

def answer_block(analysis: dict[str, Any], verifier_box: str) -> str:
    """The verifier's answer, and the model's beside it (answered), under it as one line (failed), or alone."""
    state = mp.model_state(analysis)
    if state == "answered":
        return f"<div class='answer with-model'>{verifier_box}{mp.answer_box(analysis)}</div>"
    failed = mp.failure_line(analysis) if state == "failed" else ""
    return f"{failed}<div class='answer' data-model-state='{state}'>{verifier_box}</div>"


def verifier_box(items: list[str], heading: str = "The verifier's answer") -> str:
    lis = "".join(f"<li>{i}</li>" for i in items)
    return f"<div class='box' data-side='verifier'><h2>{esc(heading)}</h2><ul class='headline'>{lis}</ul></div>"


def model_sections(analysis: dict[str, Any]) -> str:
    """Claims beside the truth and what was missed; nothing without an answering model."""
    if mp.model_state(analysis) != "answered":
        return ""
    return mp.claims_part(analysis) + mp.missed_part(analysis)


def details(gt: dict[str, Any]) -> str:
    """The verifier's details, in the order people read them."""
    return (tp.dependencies_part(gt["dependencies"]) + tp.findings_part(gt["findings"])
            + tp.coverage_part(gt.get("coverage") or []) + tp.flows_part(gt) + tp.outside_part(gt)
            + tp.issues_part(gt))


def _meta(analysis: dict[str, Any]) -> str:
    gt = analysis["ground_truth"]
    s = gt["summary"]
    parts = [plural(s["workloads"], "workload"), plural(s["namespaces"], "namespace"),
             plural(s["policies"], "policy", "policies"), f"computed in {gt.get('seconds', 0)} s"]
    hint = ""
    if analysis.get("model") is None:
        hint = "<p class='meta'>No model was asked: this is the verifier's ground truth alone. " \
               "Pass <code>--model</code> (or set NETREASON_MODEL) to see a model's answer checked beside it.</p>"
    return f"<p class='meta'>{esc(' · '.join(parts))}</p>{hint}"


def _map(gt: dict[str, Any], focus: str | None) -> str:
    return section("Map", map_html(gt, focus=focus), ident="map")


FOOTER = ("netreason: the verifier's ground truth is computed from the manifests alone; a model's claims are "
          "checked against it and its free text is not.")


# --- analysis ------------------------------------------------------------------------------------------------

def render_analysis_report(doc: dict[str, Any], *, focus: str | None = None,
                           title: str = "netreason analysis") -> str:
    """An analysis document (`netreason analyze --format json`) as the report page."""
    gt = doc["ground_truth"]
    body = (f"<h1>{esc(title)}</h1>{_meta(doc)}"
            + answer_block(doc, verifier_box(tp.headline_items(gt)))
            + _map(gt, focus) + model_sections(doc) + details(gt))
    return page(title, body, footer=FOOTER, css=MAP_CSS)


# --- review --------------------------------------------------------------------------------------------------

_STATUS = {"breaks-dependencies": "breaks dependencies", "introduces-findings": "introduces findings", "clean": "clean"}


def review_headline(doc: dict[str, Any]) -> list[str]:
    """What the change does, then where the head stands."""
    diff = doc["diff"]
    s = diff["summary"]
    status = str(doc.get("status"))
    fixed = len(diff.get("dependencies_fixed") or [])
    items = [f"{badge(_STATUS.get(status, status))} <b>{esc(status_sentence(doc))}</b>"
             + (f" It fixes {plural(fixed, 'dependency', 'dependencies')}." if fixed else "")]
    broken = diff.get("dependencies_broken") or []
    if broken:
        items.append("Broken by the change: " + ", ".join(esc(tp.dep_text(d)) for d in broken[:tp.HEADLINE_ITEMS])
                     + (f" and {len(broken) - tp.HEADLINE_ITEMS} more" if len(broken) > tp.HEADLINE_ITEMS else "")
                     + ".")
    items.append(f"Flows: {s['flows_added']} added, {s['flows_removed']} removed. Findings: "
                 f"{s['findings_introduced']} introduced, {s['findings_resolved']} resolved.")
    head = doc["analysis"]["ground_truth"]
    items.append(f"With the change: {len(head['dependencies_broken'])} of "
                 f"{plural(len(head['dependencies']), 'dependency', 'dependencies')} broken, "
                 f"{plural(len(head['dns_egress_missing']), 'workload')} without DNS, "
                 f"{head['summary']['allowed_pairs']} of {head['summary']['total_pairs']} pairs can talk.")
    return items


def _flow_rows(flows: list[dict[str, Any]], word: str) -> list[list[str]]:
    rows = []
    for f in flows:
        ports = ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in f["ports"])
        breaks = "<br>".join(f"{badge('broken')} {esc(tp.dep_text(b))} ({esc(b.get('source', ''))})"
                             for b in f.get("breaks") or [])
        rows.append([badge(word), code(f["from"]), code(f["to"]), f"{esc(f['protocol'])}/{esc(ports)}", breaks])
    return rows


def change_part(diff: dict[str, Any]) -> str:
    """The verifier's diff: dependencies broken and fixed, flows removed and added, findings."""
    parts = [tp.dependencies_part(diff["dependencies_broken"],
                                  heading=f"Dependencies broken ({len(diff['dependencies_broken'])})", level=3),
             tp.dependencies_part(diff["dependencies_fixed"],
                                  heading=f"Dependencies fixed ({len(diff['dependencies_fixed'])})", level=3)]
    for key, word, title in (("flows_removed", "removed", "Flows removed"), ("flows_added", "added", "Flows added")):
        flows = diff.get(key) or []
        body = table(["change", "from", "to", "ports", "dependencies it breaks"],
                     _flow_rows(flows, word)) if flows else "<p>None.</p>"
        parts.append(section(f"{title} ({len(flows)})", body, level=3))
    parts.append(tp.findings_part(diff["findings_introduced"],
                                  heading=f"Findings introduced ({len(diff['findings_introduced'])})", level=3))
    resolved = diff.get("findings_resolved") or []
    rows = [[badge(f["severity"]), code(f["rule"]), code(f["object"]), esc(f["message"])] for f in resolved]
    parts.append(section(f"Findings resolved ({len(resolved)})",
                         table(["severity", "rule", "object", "message"], rows) if rows else "<p>None.</p>", level=3))
    for key, title in (("workloads_added", "Workloads added"), ("workloads_removed", "Workloads removed")):
        if diff.get(key):
            parts.append(section(title, "<ul>" + "".join(f"<li>{code(w)}</li>" for w in diff[key]) + "</ul>", level=3))
    return section(f"The change: {diff.get('old', 'base')} → {diff.get('new', 'head')}", "".join(parts), ident="change")


def render_review_report(doc: dict[str, Any], *, focus: str | None = None) -> str:
    """A review document (`POST /v1/review`) as the report page: the change, the head's map, the model."""
    analysis, diff = doc["analysis"], doc["diff"]
    gt = analysis["ground_truth"]
    title = f"netreason review: {diff.get('old', 'base')} → {diff.get('new', 'head')}"
    body = (f"<h1>{esc(title)}</h1>{_meta(analysis)}"
            + answer_block(analysis, verifier_box(review_headline(doc)))
            + _map(gt, focus) + model_sections(analysis) + change_part(diff)
            + section("After the change", "<p>The head's full ground truth follows.</p>", ident="after")
            + details(gt))
    return page(title, body, footer=FOOTER, css=MAP_CSS)


# --- chat ----------------------------------------------------------------------------------------------------

def chat_answer(doc: dict[str, Any]) -> str:
    """The verifier's answer to the question: its headline and each connection it checked, or, for a
    question that names no connection, the analysis headline."""
    ans = doc.get("answer") or {}
    gt = (doc.get("analysis") or {}).get("ground_truth")
    facts = "" if ans.get("verdicts") or not gt else (
        "<ul class='headline'>" + "".join(f"<li>{i}</li>" for i in tp.headline_items(gt)) + "</ul>")
    rows = [[badge("allowed" if v["allowed"] else "denied"), code(v["from"]), code(v["to"]),
             f"{esc(v['protocol'])}/{esc(v['port'])}", why_lines(str(v.get("reason") or "").replace("; ", "\n"))]
            for v in ans.get("verdicts") or []]
    verdicts = table(["verdict", "from", "to", "port", "why"], rows) if rows else ""
    err = f"<p>{badge('error')} {esc(ans['error'])}</p>" if ans.get("error") else ""
    return (f"<div class='box' data-side='verifier'><h2>The verifier's answer</h2>"
            f"<p class='headline'><b>{esc(ans.get('headline') or '')}</b></p>{err}{verdicts}{facts}</div>")


def render_chat_report(doc: dict[str, Any], *, focus: str | None = None) -> str:
    """A stored chat turn as the report page: the question, the verifier's verdicts, then the analysis."""
    analysis = doc.get("analysis") or {}
    question = str(doc.get("interpreted_as") or doc.get("text") or "")
    title = f"netreason chat: {question}"
    if not analysis:
        return page(title, f"<h1>{esc(question)}</h1>" + chat_answer(doc), footer=FOOTER, css=MAP_CSS)
    gt = analysis["ground_truth"]
    body = (f"<h1>{esc(question)}</h1><p class='meta'>asked as: {esc(doc.get('text') or '')}</p>{_meta(analysis)}"
            + answer_block(analysis, chat_answer(doc))
            + _map(gt, focus) + model_sections(analysis) + details(gt))
    return page(title, body, footer=FOOTER, css=MAP_CSS)


# --- plan ----------------------------------------------------------------------------------------------------

def render_plan_report(doc: dict[str, Any], *, focus: str | None = None, out_dir: str = "DIR") -> str:
    """A plan document (`netreason plan -o json`) as the report page. With `after` (the ground truth of
    the manifests once every step is applied, which `plan -o html` adds) it also draws the map and the
    dependencies after the rollout."""
    after = doc.get("after")
    explanation = doc.get("explanation") or {}  # the model's (prompt plan@1), its claims checked
    title = "netreason plan: the default-deny rollout"
    body = f"<h1>{esc(title)}</h1>" + answer_block(explanation, verifier_box(pp.plan_headline(doc)))
    if after:
        body += section("Map after the rollout", map_html(after, focus=focus), ident="map")
    body += model_sections(explanation) + pp.steps_part(doc, out_dir)
    if after:
        body += tp.dependencies_part(after["dependencies"], heading="Dependencies after the rollout")
    return page(title, body, footer=FOOTER, css=MAP_CSS)


REPORTS: dict[str, Callable[..., str]] = {
    "netreason.analysis/v1": render_analysis_report,
    "netreason.review/v1": render_review_report,
    "netreason.chat/v1": render_chat_report,
    "netreason.plan/v1": render_plan_report,
}
