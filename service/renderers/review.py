"""Renderings of a review document (`POST /v1/review`): the pull-request comment and the HTML page.

Both show the verifier's diff first, then the model's summary with every claim checked. Pure: functions
of the review JSON. The comment's first line is a hidden marker, so a CI job can find and update its
earlier comment instead of adding a new one on every push. The page is one self-contained file (inline
CSS, no script, no external resource) with every piece of text HTML-escaped.
"""

from __future__ import annotations

import html
from typing import Any

from .analysis import PAGE_CSS, VERDICT_MARK, claim_text, missed_text, model_html
from .findings import render_diff_markdown

COMMENT_MARKER = "<!-- netreason-review -->"
#: Missed items listed in the comment before "and N more".
MAX_MISSED = 10


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.strip().splitlines())


def _status_sentence(doc: dict[str, Any]) -> str:
    s = doc["diff"]["summary"]
    if s["dependencies_broken"]:
        n = s["dependencies_broken"]
        return f"This change breaks {n} dependenc{'y' if n == 1 else 'ies'}."
    if s["findings_introduced"]:
        return f"This change breaks no dependency and introduces {s['findings_introduced']} finding(s)."
    return "This change breaks no dependency and introduces no finding."


def _status_line(doc: dict[str, Any]) -> str:
    text = _status_sentence(doc)
    return f"**{text}**" if doc["diff"]["summary"]["dependencies_broken"] else text


def _model_section(analysis: dict[str, Any]) -> list[str]:
    m = analysis.get("model")
    if m is None:
        return ["### Model", "", "_No model configured: the verifier's diff above is the whole review._", ""]
    label = " (simulated)" if m.get("simulated") else ""
    out = [f"### Model summary: `{m['name']}`{label}, every claim checked by the verifier", ""]
    if m.get("error"):
        out += [f"> The model failed ({m.get('error_kind')}): {m['error']}. The verifier's diff above stands.", ""]
    if m.get("summary"):
        out += [_quote(m["summary"]), ""]
    for c in m.get("claims") or []:
        why = f" — {c['explanation']}" if c.get("explanation") and c["verdict"] != "confirmed" else ""
        out.append(f"- {VERDICT_MARK.get(c['verdict'], c['verdict'])}: {claim_text(c['claim'])}{why}")
    missed = analysis.get("missed") or []
    if missed:
        out += ["", f"Missed by the model ({len(missed)}):"]
        out += [f"- {missed_text(x)}" for x in missed[:MAX_MISSED]]
        if len(missed) > MAX_MISSED:
            out.append(f"- … and {len(missed) - MAX_MISSED} more")
    return out + [""]


def render_review_comment(doc: dict[str, Any], report_url: str | None = None) -> str:
    """Markdown for a PR comment: status, diff (flows, dependencies, findings), model summary with verdicts."""
    out = [COMMENT_MARKER, "## netreason review", "", _status_line(doc), ""]
    diff_md = render_diff_markdown(doc["diff"]).split("\n", 2)[-1]  # drop its own "## netreason diff" title
    out += [diff_md.strip(), ""]
    out += _model_section(doc["analysis"])
    if report_url:
        out += [f"[Full report]({report_url})", ""]
    return "\n".join(out)


# --- html ------------------------------------------------------------------------------------------------

_REVIEW_CSS = PAGE_CSS + """
.status{display:inline-block;padding:.2rem .6rem;border-radius:1rem;font-weight:600}
.breaks-dependencies{background:#ffebe9;color:#cf222e}.introduces-findings{background:#fff8c5;color:#9a6700}
.clean{background:#dafbe1;color:#1a7f37} .added{color:#1a7f37} .removed,.broken{color:#cf222e}
pre{background:#f6f8fa;padding:.5rem;border-radius:4px;overflow-x:auto} .why{white-space:pre-wrap}
"""

_STATUS_TEXT = {"breaks-dependencies": "breaks dependencies", "introduces-findings": "introduces findings",
                "clean": "clean"}


def _ports(flow: dict[str, Any]) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in flow["ports"])


def _table(headers: list[str], rows: list[list[str]]) -> str:
    """A table of already-escaped cells."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _part(title: str, items: list[Any], body: str) -> str:
    """A titled part of the diff with its count; "none" when empty."""
    return f"<h3>{html.escape(title)} ({len(items)})</h3>" + (body if items else "<p>none</p>")


def _flows_html(flows: list[dict[str, Any]], css: str) -> str:
    e = html.escape
    rows = []
    for f in flows:
        breaks = "<br>".join(f"<span class='broken'>breaks {e(b['from'])} → {e(b['to'])} "
                             f"{e(b['protocol'])}/{e(str(b['port']))} ({e(b['source'])})</span>"
                             for b in f.get("breaks", []))
        rows.append([f"<span class='{css}'>{e(f['from'])}</span>", f"<span class='{css}'>{e(f['to'])}</span>",
                     f"{e(f['protocol'])}/{e(_ports(f))}", breaks])
    return _table(["from", "to", "ports", "dependencies"], rows)


def _dependencies_html(deps: list[dict[str, Any]], *, explain: bool) -> str:
    e = html.escape
    rows = []
    for d in deps:
        row = [e(d["from"]), e(d["to"]), f"{e(d['protocol'])}/{e(str(d['port']))}", e(d["source"])]
        rows.append(row + [f"<div class='why'>{e(d['explanation'])}</div>"] if explain else row)
    return _table(["from", "to", "port", "source"] + (["why"] if explain else []), rows)


def _where(f: dict[str, Any]) -> str:
    if not f.get("file"):
        return ""
    return f"{f['file']}:{f['line']}" if f.get("line") else str(f["file"])


def _findings_html(findings: list[dict[str, Any]], *, fixes: bool) -> str:
    e = html.escape
    rows = []
    for f in findings:
        fix = (f"<details><summary>suggested fix</summary><pre>{e(f['fix'])}</pre></details>"
               if fixes and f.get("fix") else "")
        rows.append([e(f["severity"]), f"<code>{e(f['rule'])}</code>", f"<code>{e(f['object'])}</code>",
                     f"<code>{e(_where(f))}</code>", e(f["message"]) + fix])
    return _table(["severity", "rule", "object", "where", "message"], rows)


def diff_html(diff: dict[str, Any]) -> str:
    """The verifier's column of a review page: dependencies broken and fixed, flows removed and added
    (each removed flow with the dependencies it breaks), findings introduced and resolved."""
    e = html.escape
    s = diff["summary"]
    counts = (f"{s['flows_added']} flow(s) added, {s['flows_removed']} removed, {s['dependencies_broken']} "
              f"dependenc{'y' if s['dependencies_broken'] == 1 else 'ies'} broken, {s['findings_introduced']} "
              f"finding(s) introduced, {s['findings_resolved']} resolved")
    introduced, resolved = diff["findings_introduced"], diff["findings_resolved"]
    parts = [
        "<h2>The change (verifier)</h2>", f"<p>{e(counts)}.</p>",
        _part("Dependencies broken", diff["dependencies_broken"],
              _dependencies_html(diff["dependencies_broken"], explain=True)),
        _part("Dependencies fixed", diff["dependencies_fixed"],
              _dependencies_html(diff["dependencies_fixed"], explain=False)),
        _part("Flows removed", diff["flows_removed"], _flows_html(diff["flows_removed"], "removed")),
        _part("Flows added", diff["flows_added"], _flows_html(diff["flows_added"], "added")),
        _part("Findings introduced", introduced, _findings_html(introduced, fixes=True)),
        _part("Findings resolved", resolved, _findings_html(resolved, fixes=False)),
    ]
    for title, key in (("Workloads added", "workloads_added"), ("Workloads removed", "workloads_removed")):
        if diff.get(key):
            parts.append(_part(title, diff[key], "<ul>" + "".join(f"<li>{e(w)}</li>" for w in diff[key]) + "</ul>"))
    return "".join(parts)


def _review_model_html(analysis: dict[str, Any]) -> str:
    if analysis.get("model") is None:
        return ("<h2>Model</h2><p class='note'>No model configured: the verifier's diff is the whole review. "
                + html.escape(analysis.get("hint") or "") + "</p>")
    return (model_html(analysis) + "<p>Every claim is checked against the head's ground truth; <i>Missed</i> "
            "lists what the verifier found in the head, of the kinds the prompt asks about, that the model did "
            "not claim.</p>")


def render_review_html(doc: dict[str, Any]) -> str:
    """The review as one self-contained HTML page: status, the verifier's diff beside the model's checked summary.

    Inline CSS only, no script and no external resource; every text from the document is HTML-escaped.
    """
    e = html.escape
    status = str(doc["status"])
    title = f"netreason review: {doc['diff']['old']} → {doc['diff']['new']}"
    head = (f"<h1>{e(title)}</h1><p><span class='status {e(status)}'>{e(_STATUS_TEXT.get(status, status))}</span> "
            f"{e(_status_sentence(doc))}</p>")
    return ("<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{e(title)}</title><style>{_REVIEW_CSS}</style></head><body>{head}"
            f"<div class='cols'><section>{diff_html(doc['diff'])}</section>"
            f"<section>{_review_model_html(doc['analysis'])}</section></div></body></html>\n")
