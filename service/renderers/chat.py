"""Markdown of a chat reply (`netreason.chat/v1`): the verifier's answer first, then the model's checked claims."""

from __future__ import annotations

from typing import Any

from .untrusted import markdown_summary
from .sentences import VERDICT_MARK, claim_text

#: Verdict lines written out before the rest is left to the full report.
MAX_VERDICT_LINES = 25


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _verdict_lines(reply: dict[str, Any], limit: int | None) -> list[str]:
    verdicts = reply["answer"]["verdicts"]
    lines = [f"- {'✅ allowed' if v['allowed'] else '❌ denied'}: "
             f"`{v['from']} → {v['to']} {v['protocol']}/{v['port']}` — {_md(v['reason'])}"
             for v in verdicts[:limit]]
    hidden = len(verdicts) - len(lines) + (reply["answer"].get("skipped_pairs") or 0)
    if hidden:
        url = reply.get("report_url")
        lines.append(f"- …and {hidden} more" + (f": [full report]({url})" if url else ""))
    return lines


def rollout_lines(reply: dict[str, Any], limit: int | None = MAX_VERDICT_LINES) -> list[str]:
    """The items of a rollout answer ("what breaks?", "who can reach carts?") as Markdown bullets."""
    rollout = reply.get("rollout") or {}
    items = rollout.get("items") or []
    lines = [f"- {_md(rollout_item_text(i))}" for i in items[:limit]]
    hidden = (rollout.get("total") or 0) - len(lines)
    if hidden > 0:
        lines.append(f"- …and {hidden} more")
    return lines


def rollout_item_text(item: dict[str, Any]) -> str:
    """One rollout item in words."""
    if "ports" in item:
        return f"{item['from']} → {item['to']} {item['ports']}"
    if "workload" in item:
        return f"no DNS: {item['workload']}"
    if item.get("type") == "finding":
        return f"{item['rule']} on {item['object']}"
    return f"broken: {item['from']} → {item['to']}:{item['port']}/{item['protocol']}"


def _model_lines(reply: dict[str, Any]) -> list[str]:
    m = reply.get("model")
    if not m:
        return [f"_{reply['hint']}_"] if reply.get("hint") else []
    label = " (simulated, not a real model)" if m.get("simulated") else ""
    out = [f"**Model** `{m['name']}`{label}:", ""]
    if m.get("error"):
        out += [f"> **The model failed** ({m.get('error_kind')}): {_md(m['error'])}. The verifier's answer stands.", ""]
    if m.get("summary"):
        out += [*markdown_summary(m["summary"]), ""]
    if m.get("claims"):
        out += ["| verdict | claim | ground truth |", "| --- | --- | --- |"]
        out += [f"| {VERDICT_MARK.get(c['verdict'], c['verdict'])} | {_md(claim_text(c['claim']))} "
                f"| {_md(c['explanation'])} |" for c in m["claims"]]
    return out


def render_reply_markdown(reply: dict[str, Any], max_verdicts: int | None = MAX_VERDICT_LINES) -> str:
    """The reply as Markdown: headline, the question as read, each checked connection (the first
    `max_verdicts`; None = all), the model's checked claims, a link to the full report."""
    out = [f"**{_md(reply['answer']['headline'])}**", ""]
    if reply.get("interpreted_as"):
        out += [f"_{reply['interpreted_as']}_" + (" (follow-up)" if reply.get("followup") else ""), ""]
    verdicts = _verdict_lines(reply, max_verdicts) + rollout_lines(reply, max_verdicts)
    out += [*verdicts, ""] if verdicts else []
    model = _model_lines(reply)
    out += [*model, ""] if model else []
    snap = reply.get("snapshot") or {}
    where = f"cluster {snap['cluster']}@{snap['revision']}" if snap.get("cluster") else "inline manifests"
    report = f" · [full report]({reply['report_url']})" if reply.get("report_url") else ""
    out.append(f"Snapshot: {where}{report}")
    return "\n".join(out) + "\n"
