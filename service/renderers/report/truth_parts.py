"""The verifier's parts of a report, from a ground-truth document (`analysis_json(...)["ground_truth"]`):
the headline, dependencies, findings with fixes, rollout coverage, flows by namespace pair, outside traffic.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .page import badge, code, esc, plural, section, table, why_lines

#: Flow rows listed in the report (all namespace pairs together); `netreason flows` lists every one.
MAX_FLOW_ROWS = 400
#: Dependencies and findings listed in the report; the JSON and `netreason lint` carry every one.
MAX_ROWS = 500
#: Broken dependencies named in the headline before "and N more".
HEADLINE_ITEMS = 6


def dep_text(d: dict[str, Any]) -> str:
    return f"{d['from']} → {d['to']} {d['protocol']}/{d['port']}"


def headline_items(gt: dict[str, Any]) -> list[str]:
    """The answer in a few sentences (escaped HTML list items): what breaks, who lost DNS, how many flows."""
    deps, broken, no_dns = gt["dependencies"], gt["dependencies_broken"], gt["dns_egress_missing"]
    s = gt["summary"]
    items = []
    if broken:
        names = ", ".join(esc(dep_text(d)) for d in broken[:HEADLINE_ITEMS])
        more = f" and {len(broken) - HEADLINE_ITEMS} more" if len(broken) > HEADLINE_ITEMS else ""
        items.append(f"{badge('broken')} <b>{len(broken)} of {plural(len(deps), 'dependency', 'dependencies')} "
                     f"break</b>: {names}{more}.")
    elif deps:
        items.append(f"{badge('allowed')} All {plural(len(deps), 'dependency', 'dependencies')} are allowed.")
    else:
        items.append("No dependencies were declared, observed or inferred: nothing to check them against.")
    if no_dns:
        names = ", ".join(esc(w) for w in no_dns[:HEADLINE_ITEMS])
        more = f" and {len(no_dns) - HEADLINE_ITEMS} more" if len(no_dns) > HEADLINE_ITEMS else ""
        items.append(f"{badge('broken')} <b>{plural(len(no_dns), 'workload')} lost cluster DNS</b>: {names}{more}.")
    else:
        items.append(f"{badge('allowed')} Every workload can reach cluster DNS.")
    items.append(f"{s['allowed_pairs']} of {plural(s['total_pairs'], 'workload pair')} can talk "
                 f"({plural(s['workloads'], 'workload')}, {plural(s['namespaces'], 'namespace')}, "
                 f"{plural(s['policies'], 'policy', 'policies')}).")
    items.append(f"Findings: {findings_counts(gt['findings'])}.")
    return items


def findings_counts(findings: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for f in findings:
        counts[f["severity"]] += 1
    parts = [f"{counts[s]} {s}{'s' if counts[s] != 1 else ''}" for s in ("error", "warning", "info") if counts[s]]
    return ", ".join(parts) or "none"


def dependencies_part(deps: list[dict[str, Any]], *, heading: str = "Dependencies", level: int = 2) -> str:
    """Every dependency: verdict word and colour, endpoints, where it came from, and the deciding rule
    or the closest miss as the verifier's own lines."""
    if not deps:
        return section(heading, "<p>None.</p>", level=level, ident="dependencies")
    ordered = sorted(deps, key=lambda d: (d["allowed"], d["from"], d["to"], d["port"]))[:MAX_ROWS]
    rows = [[badge("allowed" if d["allowed"] else "broken"), code(d["from"]), _target(d),
             f"{esc(d['protocol'])}/{esc(d['port'])}", _source(d), why_lines(_reasons(d["explanation"]))]
            for d in ordered]
    broken = sum(not d["allowed"] for d in deps)
    caption = f"{plural(len(deps), 'dependency', 'dependencies')}, {broken} broken; broken first" + (
        f"; the first {MAX_ROWS} listed (the JSON output has all)" if len(deps) > MAX_ROWS else "")
    body = table(["verdict", "from", "to", "port", "source", "deciding rule or closest miss"], rows, caption=caption)
    return section(heading, body.replace("<table>", "<table class='deps'>", 1), level=level, ident="dependencies")


def _target(d: dict[str, Any]) -> str:
    svc = d.get("service")
    via = f"<br><span class='muted'>via Service {esc(svc)}:{esc(d.get('service_port'))}</span>" if svc else ""
    return code(d["to"]) + via


def _source(d: dict[str, Any]) -> str:
    ev = d.get("evidence")
    return esc(d["source"]) + (f"<br><span class='muted'>{esc(ev)}</span>" if ev else "")


def _reasons(explanation: str) -> str:
    """The explanation without the lines the other columns already show: its first (verdict and endpoints)
    and the one saying where the dependency was declared."""
    lines = str(explanation).splitlines()
    if len(lines) <= 1:
        return str(explanation)
    return "\n".join(line for line in lines[1:] if not line.strip().startswith("dependency "))


def findings_part(findings: list[dict[str, Any]], *, heading: str = "Findings", level: int = 2) -> str:
    """Each finding with severity, rule, object, where, message, and its fix as YAML to copy."""
    if not findings:
        return section(heading, "<p>No findings.</p>", level=level, ident="findings")
    items = "".join(_finding(f) for f in findings[:MAX_ROWS])
    more = (f"<p class='muted'>… and {len(findings) - MAX_ROWS} more (<code>netreason lint</code> lists every one).</p>"
            if len(findings) > MAX_ROWS else "")
    return section(heading, f"<p>{esc(findings_counts(findings))}.</p>"
                   f"<ol class='findings'>{items}</ol>{more}", level=level, ident="findings")


def _finding(f: dict[str, Any]) -> str:
    where = f"{f['file']}:{f['line']}" if f.get("file") and f.get("line") else (f.get("file") or "")
    fix = ("<div class='fix'><span class='muted'>Fix (YAML):</span><pre "
           f"class='yaml'><code>{esc(f['fix'])}</code></pre></div>"
           if f.get("fix") else "")
    loc = f" <span class='muted'>at</span> {code(where)}" if where else ""
    return (f"<li class='finding' data-rule='{esc(f['rule'])}'><p>{badge(f['severity'])} {code(f['rule'])} "
            f"<span class='muted'>on</span> {code(f['object'])}{loc}</p><p>{esc(f['message'])}</p>{fix}</li>")


def coverage_part(rows: list[dict[str, Any]]) -> str:
    """Per namespace: how many workloads each direction isolates, and whether a default deny covers it."""
    if not rows:
        return ""
    body = [[code(r["namespace"]), esc(r["workloads"]), _share(r["ingress_isolated"], r["workloads"]),
             _share(r["egress_isolated"], r["workloads"]),
             _deny(r["ingress_default_deny"], r["default_deny_ingress_policies"]),
             _deny(r["egress_default_deny"], r["default_deny_egress_policies"])] for r in rows]
    return section("Rollout coverage", table(
        ["namespace", "workloads", "isolated for ingress", "isolated for egress", "default deny ingress",
         "default deny egress"], body, numeric=(1,)), ident="coverage")


def _share(n: int, total: int) -> str:
    pct = 100 * n / total if total else 0
    word = "yes" if total and n == total else ("no" if n == 0 else "partial")
    return (f"<span class='bar' aria-hidden='true'><span style='width:{pct:.0f}%'></span></span>"
            f"{n} of {total} {badge(word)}")


def _deny(on: bool, policies: list[str]) -> str:
    return badge("yes" if on else "no") + ("<br>" + ", ".join(code(p) for p in policies) if policies else "")


def flows_part(gt: dict[str, Any]) -> str:
    """Allowed workload pairs grouped by namespace pair, bounded to `MAX_FLOW_ROWS` rows."""
    g = gt.get("graph") or {}
    edges = g.get("edges") or []
    if not edges and not g.get("self_flows"):
        return section("Flows", "<p>No workload can reach another.</p>", ident="flows")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for e in edges:
        groups[(e["from"].split("/", 1)[0], e["to"].split("/", 1)[0])].append(e)
    totals = {(p["from"], p["to"]): p["flows"] for p in g.get("namespace_pairs") or []}
    parts, budget = [], MAX_FLOW_ROWS
    for (a, b), rows in sorted(groups.items()):
        shown = rows[:max(budget, 0)]
        budget -= len(shown)
        total = totals.get((a, b), len(rows))
        more = (f"<p class='muted'>… and {total - len(shown)} more pairs not listed here (<code>netreason flows</code> "
                "lists all).</p>")
        body = (table(["from", "to", "ports"], [[code(e["from"]), code(e["to"]), esc(e["ports"])] for e in shown])
                if shown else "") + (more if total > len(shown) else "")
        parts.append(f"<div class='pair' data-pair='{esc(a)} → {esc(b)}'>"
                     f"<h3>{esc(a)} → {esc(b)} ({plural(total, 'allowed pair')})</h3>{body}</div>")
    selfs = g.get("self_flows") or []
    note = (f"<p class='muted'>{plural(len(selfs), 'workload')} may also talk replica to replica "
            "(not listed).</p>" if selfs else "")
    return section("Flows by namespace pair", note + "".join(parts), ident="flows")


def outside_part(gt: dict[str, Any]) -> str:
    """Traffic to and from addresses outside the cluster."""
    out = (gt.get("graph") or {}).get("outside") or {}
    ins, outs = out.get("ingress") or [], out.get("egress") or []
    if not ins and not outs:
        return section("Outside the cluster", "<p>No workload talks to or accepts connections from outside "
                       "the cluster.</p>", ident="outside")
    rows = [[code(x["workload"]), "from outside", esc(x["why"])] for x in ins]
    rows += [[code(x["workload"]), "to outside", esc("; ".join(x["to"]))] for x in outs]
    more = (f"<p class='muted'>… and {len(rows) - MAX_ROWS} more (<code>netreason flows</code> lists every one).</p>"
            if len(rows) > MAX_ROWS else "")
    return section("Outside the cluster", table(["workload", "direction", "what"], rows[:MAX_ROWS]) + more,
                   ident="outside")


def issues_part(gt: dict[str, Any]) -> str:
    """Input problems and notes (hostNetwork and the like); empty when there are none."""
    issues, notes = gt.get("issues") or [], gt.get("notes") or []
    if not issues and not notes:
        return ""
    items = "".join(f"<li>{badge(i['severity'])} {esc(i['text'])}</li>" for i in issues)
    items += "".join(f"<li>{badge('info')} {esc(n)}</li>" for n in notes)
    return section("Input problems and notes", f"<ul>{items}</ul>", ident="issues")
