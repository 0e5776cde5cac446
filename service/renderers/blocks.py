"""Slack Block Kit rendering of a chat reply (`netreason.chat/v1`), kept within Slack's limits.

Slack refuses a message with more than 50 blocks, a section text over 3,000 characters, a header over 150
or a context block over 10 elements. A long answer (a namespace-wide question checks hundreds of connections)
is summarised instead: the first lines are shown and the rest is a link to the full report the service keeps.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .untrusted import MAX_SUMMARY_CHARS, UNCHECKED
from .sentences import VERDICT_MARK, claim_text
from .chat import rollout_lines

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
#: Fallback `text` of a message (notifications, screen readers); Slack truncates past 40,000.
MAX_FALLBACK_TEXT = 3000
#: Lines of verdicts and of model claims shown before the rest is left to the full report.
MAX_VERDICT_LINES = 15
MAX_CLAIM_LINES = 10

Block = dict[str, Any]


def escape(text: str) -> str:
    """Text safe inside mrkdwn: Slack reads `&`, `<` and `>` as control characters."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def link(url: str | None, label: str) -> str:
    """A mrkdwn link; Slack links absolute URLs only, so a relative one (no NETREASON_PUBLIC_URL) is shown as text."""
    if url and url.startswith(("https://", "http://")):
        return f"<{url}|{escape(label)}>"
    return f"{escape(label)} (`{escape(url)}`)" if url else escape(label)


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}}


def sections(lines: Iterable[str]) -> list[Block]:
    """Lines packed into as few sections as fit MAX_SECTION_TEXT each (a line longer than that is clipped)."""
    out: list[Block] = []
    current = ""
    for line in lines:
        line = clip(line, MAX_SECTION_TEXT)
        if current and len(current) + 1 + len(line) > MAX_SECTION_TEXT:
            out.append(section(current))
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        out.append(section(current))
    return out


def verdict_line(v: dict[str, Any]) -> str:
    mark = ":white_check_mark:" if v["allowed"] else ":x:"
    return f"{mark} `{escape(v['from'])} → {escape(v['to'])} {v['protocol']}/{v['port']}` {escape(v['reason'])}"


def _verdict_blocks(reply: dict[str, Any]) -> list[Block]:
    verdicts = reply["answer"]["verdicts"]
    lines = [verdict_line(v) for v in verdicts[:MAX_VERDICT_LINES]]
    hidden = len(verdicts) - len(lines)
    skipped = reply["answer"].get("skipped_pairs") or 0
    if hidden or skipped:
        more = f"{hidden} more connection(s)" + (f" and {skipped} unchecked workload pair(s)" if skipped else "")
        lines.append(f"_…and {more}: {link(reply.get('report_url'), 'see the full report')}_")
    return sections(lines)


def claim_line(c: dict[str, Any]) -> str:
    """A checked model claim: its verdict, what it says, and the verifier's truth when not confirmed."""
    why = f" — {escape(c['explanation'])}" if c.get("explanation") and c["verdict"] != "confirmed" else ""
    return f"{VERDICT_MARK.get(c['verdict'], c['verdict'])}: {escape(claim_text(c['claim']))}{why}"


def _model_blocks(reply: dict[str, Any]) -> list[Block]:
    model = reply.get("model")
    if not model:
        return []
    label = " (simulated, not a real model)" if model.get("simulated") else ""
    head = f"*Model* `{escape(model['name'])}`{label}"
    lines = [head]
    if model.get("error"):
        lines.append(f":warning: the model failed ({escape(model.get('error_kind') or 'error')}): "
                     f"{escape(clip(model['error'], 500))}. The verifier's answer above stands.")
    if model.get("summary"):
        lines.append(f"_Summary: {UNCHECKED}:_")
        lines.append("> " + escape(clip(model["summary"], MAX_SUMMARY_CHARS)).replace("\n", "\n> "))
    claims = model.get("claims") or []
    lines += [claim_line(c) for c in claims[:MAX_CLAIM_LINES]]
    if len(claims) > MAX_CLAIM_LINES:
        more = len(claims) - MAX_CLAIM_LINES
        lines.append(f"_…and {more} more claim(s): {link(reply.get('report_url'), 'full report')}_")
    return [{"type": "divider"}, *sections(lines)]


def _context_block(reply: dict[str, Any]) -> Block:
    snap = reply.get("snapshot") or {}
    where = f"{snap['cluster']}@{snap['revision']}" if snap.get("cluster") else "inline manifests"
    elements = [f"snapshot {escape(where)}", f"turn {reply.get('turn', 1)}"]
    if reply.get("report_url"):
        elements.append(link(reply["report_url"], "full report"))
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(e, MAX_SECTION_TEXT)}
                                            for e in elements[:MAX_CONTEXT_ELEMENTS]]}


def reply_blocks(reply: dict[str, Any]) -> list[Block]:
    """The blocks of a chat reply: the question, the verifier's answer, the model's checked claims, a link.

    Always within MAX_BLOCKS blocks and each text within its limit.
    """
    blocks: list[Block] = []
    if reply.get("interpreted_as"):
        blocks.append({"type": "header", "text": {"type": "plain_text", "emoji": True,
                                                  "text": clip(reply["interpreted_as"], MAX_HEADER_TEXT)}})
    answer = reply["answer"]
    blocks.append(section(f"*{escape(answer['headline'])}*"))
    blocks += _verdict_blocks(reply)
    rollout = rollout_lines(reply, 20)
    if rollout:
        blocks.append(section(escape("\n".join(line.removeprefix("- ") for line in rollout))))
    blocks += _model_blocks(reply)
    return fit(blocks, _context_block(reply), reply.get("report_url"))


def fit(blocks: list[Block], footer: Block, report_url: str | None) -> list[Block]:
    """`blocks` then `footer`, cut to MAX_BLOCKS with a note linking the full report when too many."""
    if len(blocks) + 1 <= MAX_BLOCKS:
        return [*blocks, footer]
    keep = blocks[: MAX_BLOCKS - 2]
    dropped = len(blocks) - len(keep)
    note = section(f"_…{dropped} more part(s) of this answer: {link(report_url, 'see the full report')}_")
    return [*keep, note, footer]


def fallback_text(reply: dict[str, Any]) -> str:
    """The message's plain `text`: what notifications show (the blocks carry the rest)."""
    parts = [reply.get("interpreted_as") or "", reply["answer"]["headline"]]
    return clip(" ".join(p for p in parts if p), MAX_FALLBACK_TEXT)
