"""Sentences every renderer shares: what a claim says, what the model missed, what a change does.

Plain text, no markup: each format (Markdown, HTML, Slack blocks, the terminal) escapes them its own way.
The report pages (`report/`) and the Markdown/text renderers both use them, so they live below both.
"""

from __future__ import annotations

import json
from typing import Any

VERDICT_MARK = {"confirmed": "✅ confirmed", "contradicted": "❌ contradicted", "unverifiable": "❓ unverifiable",
                "unparseable": "⚠️ unparseable"}


def claim_text(claim: dict[str, Any]) -> str:
    """One line that says what a claim claims, whatever its type (an unparseable claim as compact JSON)."""
    try:
        return _claim_sentence(claim)
    except (KeyError, TypeError, AttributeError):
        return json.dumps(claim, default=str)[:300]


def _claim_sentence(claim: dict[str, Any]) -> str:
    t = claim.get("type")
    if t == "flow":
        verb = "can reach" if claim.get("allowed") else "cannot reach"
        return f"{claim['from']} {verb} {claim['to']} on {claim.get('protocol', 'TCP')}/{claim['port']}"
    if t == "dependency_broken":
        return f"dependency {claim['from']} -> {claim['to']}:{claim['port']}/{claim.get('protocol', 'TCP')} is broken"
    if t == "dns_egress_missing":
        return f"{claim['workload']} cannot reach cluster DNS"
    if t == "finding":
        return f"{claim['rule']} on {claim['object']}"
    if t == "policy_selects":
        return f"{claim['policy']} selects {', '.join(claim.get('workloads') or []) or 'nothing'}"
    return str(claim)


def missed_text(m: dict[str, Any]) -> str:
    item = dict(m["item"])
    item.setdefault("type", m["type"])
    if m["type"] == "flow":
        item["allowed"] = item.get("allowed")
    return claim_text(item)


def status_sentence(doc: dict[str, Any]) -> str:
    """A review's verdict in one sentence: the dependencies it breaks, else the findings it introduces."""
    s = doc["diff"]["summary"]
    if s["dependencies_broken"]:
        n = s["dependencies_broken"]
        return f"This change breaks {n} dependenc{'y' if n == 1 else 'ies'}."
    if s["findings_introduced"]:
        return f"This change breaks no dependency and introduces {s['findings_introduced']} finding(s)."
    return "This change breaks no dependency and introduces no finding."
