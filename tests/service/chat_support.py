"""Helpers shared by the chat and Slack tests: the example shop as upload text, and a chat reply to render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"


def shop_manifests() -> str:
    """Every manifest of examples/shop as one multi-document YAML text."""
    files = sorted(p for p in SHOP.rglob("*.yaml") if p.name != "netreason.deps.yaml")
    return "\n---\n".join(p.read_text() for p in files)


def shop_deps() -> str:
    return (SHOP / "netreason.deps.yaml").read_text()


def marketing_namespace(workloads: int = 2) -> str:
    """A `marketing` namespace with `workloads` Deployments (app=mkt-N), to append to the shop."""
    docs = ["apiVersion: v1\nkind: Namespace\nmetadata: {name: marketing, labels: {team: marketing}}\n"]
    for i in range(workloads):
        docs.append(
            "apiVersion: apps/v1\nkind: Deployment\n"
            f"metadata: {{name: mkt-{i}, namespace: marketing}}\n"
            f"spec:\n  selector: {{matchLabels: {{app: mkt-{i}}}}}\n"
            f"  template:\n    metadata: {{labels: {{app: mkt-{i}}}}}\n"
            "    spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}\n")
    return "\n---\n".join(docs)


def verdict(i: int, allowed: bool = False, reason: str = "ingress at x: denied") -> dict[str, Any]:
    return {"from": f"ns/src-{i}", "to": "ns/db", "port": 5432, "protocol": "TCP", "allowed": allowed,
            "reason": reason, "egress": {}, "ingress": {}}


def reply_doc(verdicts: list[dict[str, Any]], *, model: dict[str, Any] | None = None,
              report_url: str | None = "https://netreason.example/v1/analyses/abc?format=html") -> dict[str, Any]:
    """A `netreason.chat/v1` reply as `run_chat_turn` builds it, with the given verdicts."""
    allowed = sum(v["allowed"] for v in verdicts)
    return {
        "schema": "netreason.chat/v1", "thread_id": "t", "turn": 1, "text": "can x reach db?",
        "question": None, "interpreted_as": "can the workloads of namespace ns reach db on TCP/5432?",
        "followup": False,
        "snapshot": {"cluster": "prod", "revision": 3},
        "answer": {"headline": f"Partly: {allowed} of {len(verdicts)} connections are allowed.", "verdicts": verdicts,
                   "allowed": allowed, "skipped_pairs": 0, "error": None},
        "model": model, "totals": {}, "hint": None, "analysis_id": "abc", "report_url": report_url,
    }
