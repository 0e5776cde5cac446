"""The rollout's questions, answered by the verifier: what breaks, who lost DNS, who can reach X, what X reaches.

    "what breaks?"                        broken dependencies and DNS gaps
    "which dependencies are broken?"      broken dependencies
    "who lost DNS?" / "which pods have no DNS?"
    "who can reach carts?" / "what can reach carts on 8080?"
    "what can carts reach?" / "where can shop/api connect to?"
    "what does this change break?"        (with a base to compare: the previous revision, or `ask --base`)

Each answer is a headline and bounded items, computed from the one truth; `ask`, `/v1/chat` and Slack show
it first, and a configured model's explanation comes after it with its claims checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from verifier.deps.declared import as_entry
from verifier.model.records import DEFAULT_DEPS_FILE
from verifier.model.errors import InputError

from .questions import resolve
from .truth import Truth, diff_doc

#: Items an answer lists at most (the headline gives the full count).
MAX_ITEMS = 50

_PORT = r"(?:\s*(?::|on\s+(?:port\s+)?|port\s+)(?P<port>\d{1,5}))?(?:\s*/\s*|\s+)?(?P<proto>tcp|udp|sctp)?"
_NAME = r"(?P<name>[\w.\-/]+?)"
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("change", re.compile(r"\bwhat\b.*\b(?:this|the)\s+(?:change|diff|rollout|pr|update)\b.*\bbreak", re.I)),
    ("change", re.compile(r"\b(?:does|will)\s+(?:this|the)\s+(?:change|diff|pr|update)\s+break\b", re.I)),
    ("dns",
     re.compile(r"\b(?:lost|lose|lack|without|no|missing|blocked?)\b.*\bdns\b"
                r"|\bdns\b.*\b(?:missing|blocked|broken|gaps?)\b", re.I)),
    ("dependencies",
     re.compile(r"\b(?:which|what|any)\b.*\bdependenc(?:y|ies)\b.*\b(?:broken|break|fail|denied|blocked)\b", re.I)),
    ("breaks",
     re.compile(r"^\s*(?:so\s+|and\s+)?what\s+(?:breaks|is\s+broken|will\s+break|would\s+break|broke)\b", re.I)),
    ("reach_to",
     re.compile(r"\b(?:who|what|which\s+(?:pods|workloads|services))\s+(?:can|could|may)\s+(?:reach|talk\s+to|connect\s+to|access|call)\s+"
                            + _NAME + _PORT + r"\s*[?.!]*\s*$", re.I)),
    ("reach_from", re.compile(r"\b(?:what|which\s+(?:pods|workloads|services)|where)\s+(?:can|could|may)\s+" + _NAME
                              + r"\s+(?:reach|talk\s+to|connect\s+to|access|call|connect)(?:\s+to)?" + _PORT
                              + r"\s*[?.!]*\s*$", re.I)),
)


@dataclass(frozen=True)
class RolloutQuestion:
    kind: str  # breaks, dependencies, dns, reach_to, reach_from, change
    name: str | None = None
    port: int | None = None
    protocol: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "port": self.port, "protocol": self.protocol}


@dataclass(frozen=True)
class RolloutAnswer:
    """The verifier's answer: a headline, the items behind it (bounded), their full count; `error` instead."""

    kind: str
    headline: str
    items: tuple[dict[str, Any], ...] = ()
    total: int = 0
    error: str | None = None
    lines: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "headline": self.headline, "items": list(self.items), "total": self.total,
                "truncated": self.total > len(self.items), "error": self.error}


def parse_rollout_question(text: str) -> RolloutQuestion | None:
    """The rollout question `text` asks, or None (reachability questions are `questions.parse_question`'s)."""
    for kind, pattern in PATTERNS:
        m = pattern.search(text.strip())
        if m:
            groups = m.groupdict()
            port = int(groups["port"]) if groups.get("port") else None
            proto = groups["proto"].upper() if groups.get("proto") else None
            return RolloutQuestion(kind, groups.get("name"), port, proto)
    return None


def answer_rollout(truth: Truth, q: RolloutQuestion, base: Truth | None = None) -> RolloutAnswer:
    """Answer `q` from `truth` (and `base`, the truth before the change, for "what does this change break?")."""
    try:
        return _ANSWERS[q.kind](truth, q, base)
    except InputError as e:
        return RolloutAnswer(q.kind, f"The verifier cannot answer that: {e}", error=str(e))


def _broken(truth: Truth) -> list[dict[str, Any]]:
    return [{**as_entry(r.dependency), "source": r.dependency.source, "why": r.explanation.splitlines()[0]}
            for r in truth.dependencies if not r.allowed]


def _dns_items(truth: Truth) -> list[dict[str, Any]]:
    return [{"workload": w} for w in truth.dns_gaps]


def _dependencies(truth: Truth, q: RolloutQuestion, base: Truth | None) -> RolloutAnswer:
    items = _broken(truth)
    total = len(truth.dependencies)
    head = (f"{len(items)} of {total} dependencies are broken." if items
            else f"No dependency is broken ({total} checked)." if total
            else f"No dependencies are known: declare them in {DEFAULT_DEPS_FILE} (or pass --deps or --flows).")
    return RolloutAnswer("dependencies", head, tuple(items[:MAX_ITEMS]), len(items))


def _dns(truth: Truth, q: RolloutQuestion, base: Truth | None) -> RolloutAnswer:
    items = _dns_items(truth)
    head = (f"{len(items)} workload(s) cannot reach cluster DNS: {_names([i['workload'] for i in items])}." if items
            else "Every workload can reach cluster DNS (UDP and TCP 53).")
    return RolloutAnswer("dns", head, tuple(items[:MAX_ITEMS]), len(items))


def _breaks(truth: Truth, q: RolloutQuestion, base: Truth | None) -> RolloutAnswer:
    deps = [{"type": "dependency_broken", **d} for d in _broken(truth)]
    dns = [{"type": "dns_egress_missing", **d} for d in _dns_items(truth)]
    items = deps + dns
    if not items:
        head = f"Nothing breaks: all {len(truth.dependencies)} dependencies are allowed and every workload reaches DNS."
    else:
        head = f"{len(deps)} dependenc{'y' if len(deps) == 1 else 'ies'} broken, {len(dns)} workload(s) without DNS."
    return RolloutAnswer("breaks", head, tuple(items[:MAX_ITEMS]), len(items))


def _reach(truth: Truth, q: RolloutQuestion, base: Truth | None) -> RolloutAnswer:
    if not q.name:
        raise InputError("say which workload, e.g. \"who can reach shop/api?\"")
    targets = [w.id for w in resolve(truth.bundle, q.name)]
    conn, inbound = truth.conn, q.kind == "reach_to"
    items = []
    for target in targets:
        for other in truth.bundle.workloads:
            src, dst = (other.id, target) if inbound else (target, other.id)
            if src == dst:
                continue
            ports = conn.allowed_ports(src, dst)
            text = _ports_text(ports, q)
            if text:
                items.append({"from": src, "to": dst, "ports": text})
    where = f" on {q.protocol or 'TCP'}/{q.port}" if q.port else ""
    who = ", ".join(targets)
    names = _names([i["from"] if inbound else i["to"] for i in items])
    if inbound:
        head = f"{len(items)} workload(s) can reach {who}{where}" + (f": {names}." if items else ".")
    else:
        head = f"{who} can reach {len(items)} workload(s){where}" + (f": {names}." if items else ".")
    return RolloutAnswer(q.kind, head, tuple(items[:MAX_ITEMS]), len(items))


def _ports_text(ports: Any, q: RolloutQuestion) -> str:
    """The allowed ports as text, or "" when none (or not the asked port) is allowed."""
    if q.port is not None:
        proto = q.protocol or "TCP"
        return f"{proto}/{q.port}" if ports.contains(proto, q.port) else ""
    return str(ports) if ports else ""


def _change(truth: Truth, q: RolloutQuestion, base: Truth | None) -> RolloutAnswer:
    if base is None:
        raise InputError("there is nothing to compare with: ask about a cluster with an earlier revision "
                         "(or pass --base to `netreason ask`)")
    doc = diff_doc(base, truth)
    broken = [{"type": "dependency_broken", "from": d.get("from"), "to": d.get("to"), "port": d.get("port"),
               "protocol": d.get("protocol")} for d in doc.get("dependencies_broken", [])]
    findings = [{"type": "finding", "rule": f.get("rule"), "object": f.get("object")}
                for f in doc.get("findings_introduced", []) if f.get("rule") == "dns-egress-missing"]
    removed = len(doc.get("flows_removed", []))
    items = broken + findings
    head = (f"This change breaks {len(broken)} dependenc{'y' if len(broken) == 1 else 'ies'}, takes DNS from "
            f"{len(findings)} workload(s) and removes {removed} flow(s)." if items or removed
            else "This change breaks nothing: no dependency broken, no DNS lost, no flow removed.")
    return RolloutAnswer("change", head, tuple(items[:MAX_ITEMS]), len(items))


def _names(ids: list[str], limit: int = 10) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


_ANSWERS = {"breaks": _breaks, "dependencies": _dependencies, "dns": _dns, "reach_to": _reach,
            "reach_from": _reach, "change": _change}
