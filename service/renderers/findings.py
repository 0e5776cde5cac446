"""Text, markdown and JSON renderings of lint and diff documents (`verifier.findings.lint_json`, `verifier.diff.diff_json`)."""

from __future__ import annotations

import json
from typing import Any

ICONS = {"error": "✖", "warning": "▲", "info": "●"}


def render_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2)


def _where(f: dict[str, Any]) -> str:
    if not f.get("file"):
        return "-"
    return f"{f['file']}:{f['line']}" if f.get("line") else f["file"]


def _yes(n: int, total: int) -> str:
    return "yes" if total and n == total else ("no" if n == 0 else f"partly ({n}/{total})")


# --- text ------------------------------------------------------------------------------


def finding_text(f: dict[str, Any], fixes: bool = True) -> list[str]:
    lines = [f"{_where(f)}: {f['severity']} [{f['rule']}] {f['object']}", f"  {f['message']}"]
    if fixes and f.get("fix"):
        lines.append("  suggested fix:")
        lines += [f"    {line}" for line in f["fix"].rstrip().splitlines()]
    return lines


def render_text(doc: dict[str, Any]) -> str:
    """Findings, then dependencies, then the rollout coverage table, then a summary line."""
    lines: list[str] = []
    for f in doc["findings"]:
        lines += finding_text(f)
        lines.append("")
    if doc.get("dependencies"):
        lines.append("Dependencies:")
        for d in doc["dependencies"]:
            mark = "ok    " if d["allowed"] else "DENIED"
            lines.append(f"  {mark} {d['from']} -> {d['to']} {d['protocol']}/{d['port']} ({d['source']})")
        lines.append("")
    if doc.get("coverage"):
        lines.append("Rollout coverage (namespace: workloads, ingress isolated, egress isolated, default deny in/out):")
        for r in doc["coverage"]:
            lines.append(
                f"  {r['namespace']}: {r['workloads']}, {_yes(r['ingress_isolated'], r['workloads'])}, "
                f"{_yes(r['egress_isolated'], r['workloads'])}, "
                f"{'yes' if r['ingress_default_deny'] else 'no'}/{'yes' if r['egress_default_deny'] else 'no'}"
            )
        lines.append("")
    lines.append(_summary(doc))
    return "\n".join(lines) + "\n"


def _summary(doc: dict[str, Any]) -> str:
    s = doc["summary"]
    sev = s["by_severity"]
    deps = f", {s['dependencies_denied']} of {s['dependencies']} dependencies denied" if s.get("dependencies") else ""
    return f"{s['findings']} finding(s): {sev['error']} error, {sev['warning']} warning, {sev['info']} info{deps}"


# --- markdown --------------------------------------------------------------------------


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_findings(findings: list[dict[str, Any]]) -> list[str]:
    lines = ["| | rule | object | where | message |", "| --- | --- | --- | --- | --- |"]
    for f in findings:
        lines.append(f"| {ICONS[f['severity']]} {f['severity']} | `{f['rule']}` | `{f['object']}` | "
                     f"`{_cell(_where(f))}` | {_cell(f['message'])} |")
    fixes = [f for f in findings if f.get("fix")]
    if fixes:
        lines += ["", "<details><summary>Suggested fixes</summary>", ""]
        for f in fixes:
            lines += [f"**{f['rule']}** `{f['object']}`", "", "```yaml", f["fix"].rstrip(), "```", ""]
        lines.append("</details>")
    return lines


def render_markdown(doc: dict[str, Any]) -> str:
    """A PR-comment-sized report: findings table, dependencies, coverage."""
    lines = ["## netreason lint", "", _summary(doc), ""]
    if doc["findings"]:
        lines += markdown_findings(doc["findings"]) + [""]
    if doc.get("dependencies"):
        lines += ["### Dependencies", "", "| from | to | port | source | verdict |", "| --- | --- | --- | --- | --- |"]
        for d in doc["dependencies"]:
            verdict = "allowed" if d["allowed"] else "**denied**"
            lines.append(f"| `{d['from']}` | `{d['to']}` | {d['protocol']}/{d['port']} | {d['source']} | {verdict} |")
        lines.append("")
    if doc.get("coverage"):
        lines += ["### Rollout coverage", "", "| namespace | workloads | ingress isolated | egress isolated | default deny (in/out) |",
                  "| --- | --- | --- | --- | --- |"]
        for r in doc["coverage"]:
            lines.append(f"| `{r['namespace']}` | {r['workloads']} | {_yes(r['ingress_isolated'], r['workloads'])} | "
                         f"{_yes(r['egress_isolated'], r['workloads'])} | "
                         f"{'yes' if r['ingress_default_deny'] else 'no'} / {'yes' if r['egress_default_deny'] else 'no'} |")
        lines.append("")
    return "\n".join(lines)


# --- diff ------------------------------------------------------------------------------


def _flow_text(f: dict[str, Any]) -> str:
    ports = ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in f["ports"])
    return f"{f['from']} -> {f['to']} {f['protocol']}/{ports}"


def _external_text(e: dict[str, Any]) -> str:
    ports = ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in e["ports"])
    return f"{e['workload']} -> {e['cidr']} (outside) {e['protocol']}/{ports}"


def _breaks(f: dict[str, Any]) -> str:
    return "".join(f"  (breaks {b['from']} -> {b['to']} {b['protocol']}/{b['port']})" for b in f.get("breaks", []))


def render_diff_text(doc: dict[str, Any]) -> str:
    """Flows added and removed, dependencies broken and fixed, findings introduced and resolved."""
    lines = [f"netreason diff {doc['old']} -> {doc['new']}", ""]
    sections = [
        ("Flows added", [f"  + {_flow_text(f)}" for f in doc["flows_added"]]),
        ("Flows removed", [f"  - {_flow_text(f)}{_breaks(f)}" for f in doc["flows_removed"]]),
        ("External egress added", [f"  + {_external_text(e)}" for e in doc.get("external_added", [])]),
        ("External egress removed", [f"  - {_external_text(e)}" for e in doc.get("external_removed", [])]),
        ("Dependencies broken", [f"  ✖ {d['from']} -> {d['to']} {d['protocol']}/{d['port']}: {d['explanation']}"
                                 for d in doc["dependencies_broken"]]),
        ("Dependencies fixed", [f"  ✔ {d['from']} -> {d['to']} {d['protocol']}/{d['port']}" for d in doc["dependencies_fixed"]]),
    ]
    for title, body in sections:
        lines += [f"{title} ({len(body)}):", *(body or ["  none"]), ""]
    lines.append(f"Findings introduced ({len(doc['findings_introduced'])}):")
    for f in doc["findings_introduced"]:
        lines += ["  " + line for line in finding_text(f, fixes=True)]
    lines += ["", f"Findings resolved ({len(doc['findings_resolved'])}):"]
    lines += [f"  {f['severity']} [{f['rule']}] {f['object']}: {f['message']}" for f in doc["findings_resolved"]]
    return "\n".join(lines) + "\n"


def render_diff_markdown(doc: dict[str, Any]) -> str:
    s = doc["summary"]
    lines = [
        "## netreason diff", "",
        f"`{doc['old']}` → `{doc['new']}`: {s['flows_added']} flow(s) added, {s['flows_removed']} removed, "
        f"{s['dependencies_broken']} dependency(ies) broken, {s['findings_introduced']} finding(s) introduced, "
        f"{s['findings_resolved']} resolved.", "",
    ]
    if doc["dependencies_broken"]:
        lines += ["### Dependencies broken", ""]
        lines += [f"- **`{d['from']}` → `{d['to']}` {d['protocol']}/{d['port']}**: {_cell(d['explanation'])}" for d in doc["dependencies_broken"]]
        lines.append("")
    for title, key, sign in (("Flows added", "flows_added", "+"), ("Flows removed", "flows_removed", "-")):
        if doc[key]:
            lines += [f"### {title}", "", "```diff", *(f"{sign} {_flow_text(f)}{_breaks(f)}" for f in doc[key]), "```", ""]
    for title, key, sign in (("External egress added", "external_added", "+"),
                             ("External egress removed", "external_removed", "-")):
        if doc.get(key):
            lines += [f"### {title}", "", "```diff", *(f"{sign} {_external_text(e)}" for e in doc[key]), "```", ""]
    if doc["findings_introduced"]:
        lines += ["### Findings introduced", "", *markdown_findings(doc["findings_introduced"]), ""]
    if doc["findings_resolved"]:
        lines += ["### Findings resolved", ""]
        lines += [f"- ~~`{f['rule']}` `{f['object']}`~~ {_cell(f['message'])}" for f in doc["findings_resolved"]]
        lines.append("")
    return "\n".join(lines)
