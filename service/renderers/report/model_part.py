"""The model's side of a report: its answer box, each claim beside the verifier's truth, what it missed.

Three states, read from an analysis document's `model`: absent (no model asked: nothing is drawn),
failed (`error` set and nothing to check: one line, and the truth takes the width), answered.
The model's free text is never checked by the verifier and says so wherever it is shown.
"""

from __future__ import annotations

from typing import Any

from ..sentences import claim_text, missed_text
from .page import badge, esc, plural, section, table, why_lines

#: Claims listed (a model's answer is bounded by its output tokens; this bounds the page too).
MAX_CLAIMS = 1000
#: Missed items listed before "and N more".
MAX_MISSED = 200


def model_state(doc: dict[str, Any]) -> str:
    """`absent`, `failed` or `answered`."""
    m = doc.get("model")
    if m is None:
        return "absent"
    if m.get("error") and not m.get("claims"):
        return "failed"
    return "answered"


def model_label(m: dict[str, Any]) -> str:
    """`name` with prompt, and a simulated badge for the eval suite's simulated models (HTML)."""
    sim = " " + badge("simulated") + " <span class='muted'>(not a real model)</span>" if m.get("simulated") else ""
    return f"<code>{esc(m['name'])}</code>{sim} <span class='muted'>with prompt {esc(m.get('prompt') or '')}</span>"


def failure_line(doc: dict[str, Any]) -> str:
    """The one line a failed model gets."""
    m = doc["model"]
    return (f"<p class='failed' data-model-state='failed'>{badge('error')} The model {model_label(m)} failed "
            f"({esc(m.get('error_kind') or 'error')}): {esc(m.get('error') or '')}. The verifier's ground truth "
            "below stands on its own.</p>")


def answer_box(doc: dict[str, Any]) -> str:
    """The model's answer beside the verifier's: who answered, the tallies, its own words (not checked)."""
    m = doc["model"]
    err = (f"<p class='failed'>{badge('error')} The model stopped early ({esc(m.get('error_kind') or 'error')}): "
           f"{esc(m['error'])}</p>" if m.get("error") else "")
    summary = m.get("summary")
    words = (f"<p class='unchecked-label'>{badge('not checked')} The model's own words: the verifier checks "
             f"only the claims below, not this text.</p><blockquote class='unchecked' data-unchecked='yes'>"
             f"{esc(summary)}</blockquote>" if summary else "<p class='muted'>The model wrote no summary.</p>")
    return (f"<div class='box' data-model-state='answered'><h2>The model's answer</h2><p>{model_label(m)}</p>"
            f"{err}<p class='headline'>{tallies(doc)}</p>{words}</div>")


def tallies(doc: dict[str, Any]) -> str:
    t = doc.get("totals") or {}
    acc = t.get("accuracy")
    acc_text = f"{acc:.0%}" if isinstance(acc, (int, float)) else "n/a"
    return (f"{badge('confirmed')} {t.get('confirmed', 0)} &nbsp; {badge('contradicted')} {t.get('contradicted', 0)} "
            f"&nbsp; {badge('unverifiable')} {t.get('unverifiable', 0)} &nbsp; "
            + (f"{badge('unparseable')} {t['unparseable']} &nbsp; " if t.get("unparseable") else "")
            + f"{badge('missed')} {t.get('missed', 0)}"
            f"<br><span class='muted'>accuracy of its claims: {esc(acc_text)}</span>")


def claims_part(doc: dict[str, Any]) -> str:
    """Every claim beside the verifier's ground truth for it, verdict as colour and word."""
    claims = (doc["model"].get("claims") or [])[:MAX_CLAIMS]
    if not claims:
        return section("The model's claims beside the truth", "<p>The model made no checkable claim.</p>",
                       ident="claims")
    rows = [[esc(i), esc(claim_text(c["claim"])), badge(c["verdict"]), why_lines(c.get("explanation") or "")]
            for i, c in enumerate(claims, 1)]
    body = table(["#", "the model claims", "verdict", "the verifier's ground truth"], rows, numeric=(0,),
                 caption=f"{plural(len(claims), 'claim')}, each checked against the verifier",
                 row_attrs=[{"class": "claim", "data-verdict": c["verdict"]} for c in claims])
    return section("The model's claims beside the truth", body, ident="claims")


def missed_part(doc: dict[str, Any]) -> str:
    """What the verifier found, of the kinds the prompt asked about, that the model did not claim."""
    missed = doc.get("missed") or []
    if not missed:
        return section("What the model missed", "<p>Nothing of what the prompt asked about.</p>", ident="missed")
    items = "".join(f"<li>{badge('missed')} {esc(missed_text(x))}</li>" for x in missed[:MAX_MISSED])
    more = f"<li class='muted'>… and {len(missed) - MAX_MISSED} more</li>" if len(missed) > MAX_MISSED else ""
    return section("What the model missed", f"<p>{plural(len(missed), 'item')} the verifier found, of the "
                   f"kinds the prompt asked about, that the model did not claim.</p><ul>{items}{more}</ul>",
                   ident="missed")
