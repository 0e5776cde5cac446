"""Text, markdown and JSON renderings of lint and diff documents (`verifier.review.findings.lint_json`,
`verifier.review.diff.diff_json`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from . import bounded
from .jsontext import dumps_indented

ICONS = {"error": "✖", "warning": "▲", "info": "●"}


def render_json(doc: dict[str, Any]) -> str:
    return dumps_indented(doc)


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
    return bounded.cell(text)  # multi-line explanations keep their line breaks (<br>)


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


def render_markdown(doc: dict[str, Any], limit: int = bounded.MARKDOWN_LIMIT) -> str:
    """A PR-comment-sized report: findings table, dependencies, coverage; at most `limit` characters."""
    full = _full_markdown(doc)
    return full if len(full) <= limit else _compact_markdown(doc, limit)


def _compact_markdown(doc: dict[str, Any], limit: int) -> str:
    budget = bounded.Budget(limit - bounded.RESERVE)
    out = ["## netreason lint", "", _summary(doc), ""]
    budget.left -= sum(len(line) + 1 for line in out)
    out += bounded.findings_section(doc["findings"], budget, ICONS, _where, "Findings")
    deps = doc.get("dependencies") or []
    denied = [d for d in deps if not d["allowed"]]
    if deps:
        budget.add(["### Dependencies", "",
                    f"{len(denied)} of {len(deps)} denied; the allowed ones are not listed here.",
                    ""], out)
        rows = [f"| `{d['from']}` | `{d['to']}` | {d['protocol']}/{d['port']} | {d['source']} | **denied** |"
                for d in denied]
        listed: list[str] = []
        budget.take(rows, listed, "denied dependencies")
        if listed:
            budget.charge(["| from | to | port | source | verdict |", "| --- | --- | --- | --- | --- |", *listed, ""],
                          out)
    coverage = doc.get("coverage") or []
    if coverage:
        open_ns = [r for r in coverage if not r["ingress_default_deny"]]
        budget.add(["### Rollout coverage", "", f"{len(coverage)} namespace(s) with workloads; {len(open_ns)} without "
                    "an ingress default deny.", ""], out)
        rows = [f"| `{r['namespace']}` | {r['workloads']} | {_yes(r['ingress_isolated'], r['workloads'])} | "
                f"{_yes(r['egress_isolated'], r['workloads'])} |" for r in open_ns]
        listed = []
        shown = budget.take(rows, listed, "coverage rows")
        if shown:
            budget.charge(bounded.details(f"{shown} namespace(s) without an ingress default deny", [
                "| namespace | workloads | ingress isolated | egress isolated |", "| --- | --- | --- | --- |",
                *listed]), out)
    how = "Run `netreason lint -o json` for all of it, every finding with its fix."
    out += bounded.closing(budget, how)
    return bounded.cap("\n".join(out) + "\n", limit, how)


def _full_markdown(doc: dict[str, Any]) -> str:
    lines = ["## netreason lint", "", _summary(doc), ""]
    if doc["findings"]:
        lines += [*markdown_findings(doc["findings"]), ""]
    if doc.get("dependencies"):
        lines += ["### Dependencies", "", "| from | to | port | source | verdict |", "| --- | --- | --- | --- | --- |"]
        for d in doc["dependencies"]:
            verdict = "allowed" if d["allowed"] else "**denied**"
            lines.append(f"| `{d['from']}` | `{d['to']}` | {d['protocol']}/{d['port']} | {d['source']} | {verdict} |")
        lines.append("")
    if doc.get("coverage"):
        lines += ["### Rollout coverage", "",
                  "| namespace | workloads | ingress isolated | egress isolated | default deny (in/out) |",
                  "| --- | --- | --- | --- | --- |"]
        for r in doc["coverage"]:
            lines.append(f"| `{r['namespace']}` | {r['workloads']} | {_yes(r['ingress_isolated'], r['workloads'])} | "
                         f"{_yes(r['egress_isolated'], r['workloads'])} | "
                         f"{'yes' if r['ingress_default_deny'] else 'no'} / "
                         f"{'yes' if r['egress_default_deny'] else 'no'} |")
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
        ("Dependencies fixed",
         [f"  ✔ {d['from']} -> {d['to']} {d['protocol']}/{d['port']}" for d in doc["dependencies_fixed"]]),
    ]
    for title, body in sections:
        lines += [f"{title} ({len(body)}):", *(body or ["  none"]), ""]
    lines.append(f"Findings introduced ({len(doc['findings_introduced'])}):")
    for f in doc["findings_introduced"]:
        lines += ["  " + line for line in finding_text(f, fixes=True)]
    lines += ["", f"Findings resolved ({len(doc['findings_resolved'])}):"]
    lines += [f"  {f['severity']} [{f['rule']}] {f['object']}: {f['message']}" for f in doc["findings_resolved"]]
    return "\n".join(lines) + "\n"


def render_diff_markdown(doc: dict[str, Any], limit: int = bounded.MARKDOWN_LIMIT) -> str:
    """The diff for a PR comment, at most `limit` characters (see `bounded` for what a long diff keeps)."""
    full = _full_diff_markdown(doc)
    return full if len(full) <= limit else _compact_diff_markdown(doc, limit)


def _diff_head(doc: dict[str, Any]) -> list[str]:
    s = doc["summary"]
    return [
        "## netreason diff", "",
        f"`{doc['old']}` → `{doc['new']}`: {s['flows_added']} flow(s) added, {s['flows_removed']} removed, "
        f"{s['dependencies_broken']} dependency(ies) broken, {s['findings_introduced']} finding(s) introduced, "
        f"{s['findings_resolved']} resolved.", "",
    ]


def _compact_diff_markdown(doc: dict[str, Any], limit: int) -> str:
    budget = bounded.Budget(limit - bounded.RESERVE)
    out = _diff_head(doc)
    if doc["dependencies_broken"]:  # error items: all kept
        out += ["### Dependencies broken", ""]
        out += [f"- **`{d['from']}` → `{d['to']}` {d['protocol']}/{d['port']}**:<br>{_cell(d['explanation'])}"
                for d in doc["dependencies_broken"]]
        out.append("")
    budget.left -= sum(len(line) + 1 for line in out)
    added = bounded.pair_counts(doc["flows_added"], "from", "to")
    removed = bounded.pair_counts(doc["flows_removed"], "from", "to")
    if added or removed:
        pairs = sorted(added.keys() | removed.keys(), key=lambda k: (-(added[k] + removed[k]), k))
        cut = doc.get("truncated") or {}
        partial = "".join(f" (counted over the {t['listed']:,} of {t['total']:,} {k.replace('_', ' ')} the JSON lists)"
                          for k, t in sorted(cut.items()) if k in ("flows_added", "flows_removed"))
        budget.add(["### Flows by namespace pair", "",
                    f"{sum(added.values())} added and {sum(removed.values())} removed "
                    f"across {len(pairs)} namespace pair(s){partial}.", ""], out)
        rows = [f"| `{a}` | `{b}` | {added[(a, b)]} | {removed[(a, b)]} |" for a, b in pairs]
        listed: list[str] = []
        shown = budget.take(rows, listed, "namespace pairs")
        if shown:
            budget.charge(bounded.details(f"{shown} of {len(pairs)} namespace pairs", [
                "| from namespace | to namespace | flows added | flows removed |", "| --- | --- | --- | --- |",
                *listed]), out)
    ext = Counter(("added", str(e["workload"]).split("/", 1)[0]) for e in doc.get("external_added", []))
    ext.update(("removed", str(e["workload"]).split("/", 1)[0]) for e in doc.get("external_removed", []))
    if ext:
        rows = [f"| `{ns}` | {what} | {n} |" for (what, ns), n in sorted(ext.items())]
        listed = []
        budget.take(rows, listed, "outside-egress rows")
        budget.charge(["### External egress by namespace", "", "| namespace | change | address ranges |",
                    "| --- | --- | --- |", *listed, ""], out)
    out += bounded.findings_section(doc["findings_introduced"], budget, ICONS, _where, "Findings introduced")
    resolved = Counter(f["rule"] for f in doc["findings_resolved"])
    if resolved:
        budget.add(["### Findings resolved", "", *(f"- `{rule}`: {n}" for rule, n in sorted(resolved.items())), ""],
                   out)
    how = "Run `netreason diff OLD NEW -o json` (or open the full report) for all of it."
    out += bounded.closing(budget, how)
    return bounded.cap("\n".join(out) + "\n", limit, how)


def _full_diff_markdown(doc: dict[str, Any]) -> str:
    s = doc["summary"]
    lines = [
        "## netreason diff", "",
        f"`{doc['old']}` → `{doc['new']}`: {s['flows_added']} flow(s) added, {s['flows_removed']} removed, "
        f"{s['dependencies_broken']} dependency(ies) broken, {s['findings_introduced']} finding(s) introduced, "
        f"{s['findings_resolved']} resolved.", "",
    ]
    if doc["dependencies_broken"]:
        lines += ["### Dependencies broken", ""]
        lines += [f"- **`{d['from']}` → `{d['to']}` {d['protocol']}/{d['port']}**: {_cell(d['explanation'])}"
                  for d in doc["dependencies_broken"]]
        lines.append("")
    for title, key, sign in (("Flows added", "flows_added", "+"), ("Flows removed", "flows_removed", "-")):
        if doc[key]:
            lines += [f"### {title}", "", "```diff", *(f"{sign} {_flow_text(f)}{_breaks(f)}" for f in doc[key]), "```",
                      ""]
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
