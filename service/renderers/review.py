"""Renderings of a review document (`POST /v1/review`): the pull-request comment and the HTML page.

Both show the verifier's diff first, then the model's summary with every claim checked. Pure: functions
of the review JSON. The comment's first line is a hidden marker, so a CI job can find and update its
earlier comment instead of adding a new one on every push. The page is the report design of
`service.renderers.report`.
"""

from __future__ import annotations

from typing import Any

from .untrusted import markdown_summary, markdown_text
from .bounded import MARKDOWN_LIMIT, cap
from .findings import render_diff_markdown
from .sentences import VERDICT_MARK, claim_text, missed_text, status_sentence

COMMENT_MARKER = "<!-- netreason-review -->"
#: Missed items listed in the comment before "and N more".
MAX_MISSED = 10


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.strip().splitlines())


def _status_line(doc: dict[str, Any]) -> str:
    text = status_sentence(doc)
    return f"**{text}**" if doc["diff"]["summary"]["dependencies_broken"] else text


def _model_section(analysis: dict[str, Any]) -> list[str]:
    m = analysis.get("model")
    if m is None:
        return ["### Model", "", "_No model configured: the verifier's diff above is the whole review._", ""]
    label = " (simulated)" if m.get("simulated") else ""
    out = [f"### Model summary: `{m['name']}`{label}, every claim checked by the verifier", ""]
    if m.get("error"):
        out += [f"> The model failed ({m.get('error_kind')}): {markdown_text(m['error'], 500)}. "
                "The verifier's diff above stands.", ""]
    if m.get("summary"):
        out += [*markdown_summary(m["summary"]), ""]
    for c in m.get("claims") or []:
        why = f" — {c['explanation']}" if c.get("explanation") and c["verdict"] != "confirmed" else ""
        out.append(f"- {VERDICT_MARK.get(c['verdict'], c['verdict'])}: {markdown_text(claim_text(c['claim']))}"
                   f"{markdown_text(why)}")
    missed = analysis.get("missed") or []
    if missed:
        out += ["", f"Missed by the model ({len(missed)}):"]
        out += [f"- {missed_text(x)}" for x in missed[:MAX_MISSED]]
        if len(missed) > MAX_MISSED:
            out.append(f"- … and {len(missed) - MAX_MISSED} more")
    return [*out, ""]


def render_review_comment(doc: dict[str, Any], report_url: str | None = None) -> str:
    """Markdown for a PR comment: status, diff (flows, dependencies, findings), model summary with verdicts."""
    out = [COMMENT_MARKER, "## netreason review", "", _status_line(doc), ""]
    model = _model_section(doc["analysis"])
    link = [f"[Full report]({report_url})", ""] if report_url else []
    # The whole comment stays under GitHub's limit: the diff gets what the other parts leave.
    room = MARKDOWN_LIMIT - sum(len(line) + 1 for line in (*out, *model, *link)) - 100
    diff_md = render_diff_markdown(doc["diff"], limit=max(room, 4_000)).split("\n", 2)[-1]  # drop its own title
    out += [diff_md.strip(), ""]
    out += model + link
    return cap("\n".join(out), MARKDOWN_LIMIT, "Open the full report, or ask for format json, for all of it.")


# --- html ------------------------------------------------------------------------------------------------

def render_review_html(doc: dict[str, Any]) -> str:
    """The review as the report page (`service.renderers.report`): what the change does, the head's map,
    the model's claims beside the truth, the diff, then the head's ground truth.

    Inline CSS and SVG only, no script and no external resource; every text from the document is escaped.
    """
    from .report import render_report

    return render_report(doc)
