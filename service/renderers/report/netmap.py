"""The traffic map: an inline SVG of who can talk to whom, drawn from `ground_truth.graph`.

Pod level (up to `MAX_POD_NODES` workloads): one box per namespace with its workloads on a circle,
an arrow per allowed pair (one line, two heads, when both ways are allowed), a red dashed curve
marked ✗ per broken dependency, a dashed amber ring and "no DNS" under each workload that lost DNS,
and "outside the cluster" as its own node. Larger bundles get a namespace-level map (counts on nodes
and edges) and then the pod-level map of one namespace. Every node and edge carries `data-*` naming
what it stands for and a `<title>` (the tooltip), so the DOM can be checked and read without colour.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .page import esc, plural

#: Above this many workloads a pod-level map is unreadable: draw namespaces, then one namespace.
MAX_POD_NODES = 40
#: Namespaces drawn one node each in the namespace map; the rest share one node.
MAX_NS_NODES = 40
#: Workloads drawn in the one-namespace map of a large bundle (those with broken dependencies first).
MAX_FOCUS_NODES = 60
CANVAS_WIDTH = 1320
#: Workloads of one namespace talking to outside drawn one line each; more get one line to their namespace.
MAX_OUTSIDE_LINES = 4
OUTSIDE_W, OUTSIDE_H = 150, 46
NODE_R = 8
CHAR_W = 6.6  # average label glyph width at 12px, for sizing boxes

DEFS = ("<defs>"
        "<marker id='arrow' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='5' markerHeight='5' "
        "orient='auto-start-reverse'><path d='M0,0L10,5L0,10z' fill='#8c959f'/></marker>"
        "<marker id='arrow-bad' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='8' markerHeight='8' "
        "orient='auto-start-reverse'><path d='M0,0L10,5L0,10z' fill='#cf222e'/></marker>"
        "<marker id='arrow-out' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='6' markerHeight='6' "
        "orient='auto-start-reverse'><path d='M0,0L10,5L0,10z' fill='#54aeff'/></marker></defs>")
#: The map's style; the page puts it in its one style element (inline SVG takes the document's CSS).
MAP_CSS = (".workload circle{fill:#fff;stroke:#0969da;stroke-width:2}.workload.isolated circle{fill:#ddf4ff}"
         ".workload.no-dns .ring{fill:none;stroke:#bf8700;stroke-width:2.5;stroke-dasharray:3 2}"
         ".workload.has-broken circle{stroke:#cf222e}"
         "svg text{font:12px system-ui,sans-serif;fill:#1b1f24;paint-order:stroke;stroke:#fff;stroke-width:3px;"
         "stroke-linejoin:round}svg .small{font-size:10px;fill:#57606a}"
         ".dns-label{font-size:10px;font-weight:600;fill:#9a6700}.nsbox{fill:#f6f8fa;stroke:#d0d7de}"
         ".nstitle{font-weight:600}.edge.allowed{stroke:#8c959f;stroke-width:1.2;fill:none}"
         ".edge.outside{stroke:#54aeff;stroke-width:1;stroke-dasharray:2 3;fill:none}"
         ".edge.broken{stroke:#cf222e;stroke-width:2.2;stroke-dasharray:6 3;fill:none}"
         ".broken-label{fill:#cf222e;font-weight:700;font-size:11px}"
         ".outside rect{fill:#fff;stroke:#54aeff;stroke-width:2;stroke-dasharray:5 3}"
         ".ns-node rect{fill:#f6f8fa;stroke:#0969da;stroke-width:1.5}.ns-node.has-broken rect{stroke:#cf222e}"
         ".count{font-size:11px;fill:#57606a}")


@dataclass
class Canvas:
    """Where things were placed; the SVG text is assembled from the parts at the end."""

    pos: dict[str, tuple[float, float]] = field(default_factory=dict)
    boxes: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)  # namespace: x, y, w, h
    back: list[str] = field(default_factory=list)    # namespace boxes
    edges: list[str] = field(default_factory=list)
    front: list[str] = field(default_factory=list)   # nodes and labels
    width: float = 0.0
    height: float = 0.0


@dataclass(frozen=True)
class MapFacts:
    """What the map marks, read once from a ground-truth document."""

    workloads: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    broken: list[dict[str, Any]]
    no_dns: frozenset[str]
    outside: dict[str, Any]

    @classmethod
    def of(cls, gt: dict[str, Any]) -> MapFacts:
        g = gt.get("graph") or {}
        return cls(list(g.get("workloads") or []), list(g.get("edges") or []),
                   list(gt.get("dependencies_broken") or []),
                   frozenset(gt.get("dns_egress_missing") or []), dict(g.get("outside") or {}))


def map_html(gt: dict[str, Any], *, focus: str | None = None) -> str:
    """The map part of a report for a ground-truth document: the SVG(s), a legend and what was left out."""
    facts = MapFacts.of(gt)
    if not facts.workloads:
        return "<p class='muted'>No workloads in the inputs: nothing to draw.</p>"
    if len(facts.workloads) <= MAX_POD_NODES and not (gt.get("graph") or {}).get("truncated"):
        return _figure(pod_map(facts, title="Traffic map: every workload")) + legend()
    ns = focus if focus and focus in {w["namespace"] for w in facts.workloads} else choose_namespace(facts)
    shown = _focus_workloads(facts, ns)
    note = ""
    if len(shown) < sum(w["namespace"] == ns for w in facts.workloads):
        note = (f"<p class='muted'>{plural(len(shown), 'workload')} of namespace {esc(ns)} drawn "
                "(those with broken dependencies or lost DNS first).</p>")
    sub = MapFacts(shown, facts.edges, facts.broken, facts.no_dns, facts.outside)
    return (f"<p>{plural(len(facts.workloads), 'workload')} are too many for one readable map: first the namespaces, "
            f"then the workloads of namespace <b>{esc(ns)}</b>.</p>"
            + _figure(namespace_map(gt, facts), kind="namespaces") + legend(namespaces=True)
            + f"<h3>Namespace {esc(ns)}</h3>" + note
            + _figure(pod_map(sub, title=f"Traffic map: namespace {ns}"), kind="namespace-detail") + legend())


def _figure(svg: str, kind: str = "workloads") -> str:
    return f"<figure class='map' data-map='{kind}'>{svg}</figure>"


def choose_namespace(facts: MapFacts) -> str:
    """The namespace most worth a closer look: most broken dependencies, then DNS gaps, then size."""
    score: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for w in facts.workloads:
        score[w["namespace"]][2] += 1
        score[w["namespace"]][1] += w["id"] in facts.no_dns
    for d in facts.broken:
        score[d["to"].split("/", 1)[0]][0] += 1
    return max(sorted(score), key=lambda ns: score[ns])


def _focus_workloads(facts: MapFacts, ns: str) -> list[dict[str, Any]]:
    members = [w for w in facts.workloads if w["namespace"] == ns]
    hot = {d["from"] for d in facts.broken} | {d["to"] for d in facts.broken} | facts.no_dns
    members.sort(key=lambda w: (w["id"] not in hot, w["id"]))
    return sorted(members[:MAX_FOCUS_NODES], key=lambda w: w["id"])


# --- pod level ---------------------------------------------------------------------------------------------

def pod_map(facts: MapFacts, *, title: str) -> str:
    """The pod-level SVG of `facts.workloads` (edges touching other workloads are left out)."""
    c = Canvas()
    by_ns: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for w in facts.workloads:
        by_ns[w["namespace"]].append(w)
    broken_ids = {d["from"] for d in facts.broken} | {d["to"] for d in facts.broken}
    _place_namespaces(c, by_ns, facts.no_dns, broken_ids)
    _place_outside(c, facts)
    _allowed_edges(c, facts.edges)
    _outside_edges(c, facts.outside)
    _broken_edges(c, facts.broken)
    broken = sum(1 for d in facts.broken if d['from'] in c.pos and d['to'] in c.pos)
    desc = (f"{plural(len(facts.workloads), 'workload')} in {plural(len(by_ns), 'namespace')}; "
            f"{plural(broken, 'broken dependency', 'broken dependencies')} "
            "drawn as red dashed curves.")
    return _svg(c, title, desc)


def _place_namespaces(c: Canvas, by_ns: dict[str, list[dict[str, Any]]], no_dns: frozenset[str],
                      broken_ids: set[str]) -> None:
    x, y, row_h = OUTSIDE_W + 90.0, 10.0, 0.0
    for ns in sorted(by_ns):
        members = sorted(by_ns[ns], key=lambda w: w["id"])
        r = _radius(len(members))
        label_w = max(len(w["name"]) for w in members) * CHAR_W + 16
        w_box, h_box = 2 * (r + label_w) + 20, 2 * (r + 34) + 30
        if x + w_box > CANVAS_WIDTH and x > OUTSIDE_W + 90:
            x, y, row_h = OUTSIDE_W + 90.0, y + row_h + 20, 0.0
        c.back.append(f"<g class='namespace' data-namespace='{esc(ns)}'><rect class='nsbox' x='{x:.0f}' y='{y:.0f}' "
                      f"width='{w_box:.0f}' height='{h_box:.0f}' rx='8'/><text class='nstitle' x='{x + 10:.0f}' "
                      f"y='{y + 18:.0f}'>namespace {esc(ns)} · {plural(len(members), 'workload')}</text></g>")
        c.boxes[ns] = (x, y, w_box, h_box)
        cx, cy = x + w_box / 2, y + 30 + (h_box - 30) / 2
        for i, w in enumerate(members):
            _place_workload(c, w, _on_circle(cx, cy, r, i, len(members)), len(members) == 1, no_dns, broken_ids)
        x += w_box + 20
        row_h = max(row_h, h_box)
        c.width = max(c.width, x)
    c.height = y + row_h + 10


def _radius(n: int) -> float:
    if n == 1:
        return 0.0
    # About 120 px of arc per workload when few, tightening to 60 px as they grow (the box must fit the page).
    return max(70.0 if n <= 4 else 130.0, n * max(60.0, 130.0 - 2 * n) / (2 * math.pi))


def _on_circle(cx: float, cy: float, r: float, i: int, n: int) -> tuple[float, float, float]:
    angle = -math.pi / 2 + 2 * math.pi * i / n
    return cx + r * math.cos(angle), cy + r * math.sin(angle), angle


def _place_workload(c: Canvas, w: dict[str, Any], at: tuple[float, float, float], single: bool,
                    no_dns: frozenset[str], broken_ids: set[str]) -> None:
    x, y, angle = at
    c.pos[w["id"]] = (x, y)
    cos, sin = math.cos(angle), math.sin(angle)
    lx, ly = (x, y + NODE_R + 14) if single else (x + (NODE_R + 8) * cos, y + (NODE_R + 8) * sin + 4)
    anchor = "middle" if single or abs(cos) < 0.2 else ("start" if cos > 0 else "end")
    if not single and abs(cos) < 0.2:
        ly += 8 if sin > 0 else -4
    classes = ["node", "workload"]
    states = []
    if w.get("ingress_isolated") or w.get("egress_isolated"):
        classes.append("isolated")
    dns = w["id"] in no_dns
    if dns:
        classes.append("no-dns")
        states.append("lost cluster DNS")
    if w["id"] in broken_ids:
        classes.append("has-broken")
        states.append("has a broken dependency")
    states.append(_isolation(w))
    ring = f"<circle class='ring' cx='{x:.1f}' cy='{y:.1f}' r='{NODE_R + 5}'/>" if dns else ""
    # Under the name, or above it for names above their node (under would cover the node).
    dns_y = ly - 13 if not single and sin < -0.2 else ly + 12
    dns_label = (f"<text class='dns-label' x='{lx:.1f}' y='{dns_y:.1f}' text-anchor='{anchor}'>⚠ no DNS</text>"
                 if dns else "")
    c.front.append(
        f"<g class='{' '.join(classes)}' data-id='{esc(w['id'])}' data-no-dns='{'yes' if dns else 'no'}'>"
        f"<title>{esc(w['kind'])} {esc(w['id'])}: {esc('; '.join(states))}</title>{ring}"
        f"<circle cx='{x:.1f}' cy='{y:.1f}' r='{NODE_R}'/>"
        f"<text x='{lx:.1f}' y='{ly:.1f}' text-anchor='{anchor}'>{esc(w['name'])}</text>{dns_label}</g>")


def _isolation(w: dict[str, Any]) -> str:
    if w.get("host_network"):
        return "hostNetwork: outside policy"
    sides = [d for d in ("ingress", "egress") if w.get(f"{d}_isolated")]
    return f"isolated for {' and '.join(sides)}" if sides else "not isolated: open both ways"


def _place_outside(c: Canvas, facts: MapFacts) -> None:
    oid = facts.outside.get("id") or "(outside the cluster)"
    y = max(10.0, c.height / 2 - OUTSIDE_H / 2)
    c.pos[oid] = (10 + OUTSIDE_W / 2, y + OUTSIDE_H / 2)
    n_in, n_out = len(facts.outside.get("ingress") or []), len(facts.outside.get("egress") or [])
    c.front.append(
        f"<g class='node outside' data-id='{esc(oid)}'><title>Addresses outside the cluster: "
        f"{n_in} workload(s) accept connections from outside, {n_out} may connect out</title>"
        f"<rect x='10' y='{y:.0f}' width='{OUTSIDE_W}' height='{OUTSIDE_H}' rx='20'/>"
        f"<text x='{10 + OUTSIDE_W / 2:.0f}' y='{y + 19:.0f}' text-anchor='middle'>outside the cluster</text>"
        f"<text class='small' x='{10 + OUTSIDE_W / 2:.0f}' y='{y + 34:.0f}' text-anchor='middle'>"
        f"{n_in} in · {n_out} out</text></g>")
    c.height = max(c.height, y + OUTSIDE_H + 10)


def _pairs(edges: Iterable[dict[str, Any]], pos: dict[str, Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Allowed edges between drawn workloads, keyed by unordered pair."""
    pairs: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for e in edges:
        if e["from"] in pos and e["to"] in pos and e["from"] != e["to"]:
            a, b = sorted((e["from"], e["to"]))
            pairs[(a, b)].append(e)
    return pairs


def _allowed_edges(c: Canvas, edges: Sequence[dict[str, Any]]) -> None:
    for (a, b), both in sorted(_pairs(edges, c.pos).items()):
        fwd = next((e for e in both if e["from"] == a), None)
        back = next((e for e in both if e["from"] == b), None)
        x1, y1, x2, y2 = _shorten(c.pos[a], c.pos[b], NODE_R + 2)
        start = " marker-start='url(#arrow)'" if back else ""
        end = " marker-end='url(#arrow)'" if fwd else ""
        src, dst = (a, b) if fwd else (b, a)
        tip = "; ".join(f"{e['from']} → {e['to']} {e['ports']}" for e in both)
        c.edges.append(f"<line class='edge allowed' data-from='{esc(src)}' data-to='{esc(dst)}' "
                       f"data-both-ways='{'yes' if fwd and back else 'no'}' x1='{x1:.1f}' y1='{y1:.1f}' "
                       f"x2='{x2:.1f}' y2='{y2:.1f}'{start}{end}><title>allowed: {esc(tip)}</title></line>")


def _outside_edges(c: Canvas, outside: dict[str, Any]) -> None:
    """A dotted line per workload that talks to outside; one line to the namespace box (with counts) when
    more than `MAX_OUTSIDE_LINES` workloads of one namespace do, to keep the map readable."""
    oid = outside.get("id") or "(outside the cluster)"
    ins = {x["workload"]: x["why"] for x in outside.get("ingress") or []}
    outs = {x["workload"]: "; ".join(x["to"]) for x in outside.get("egress") or []}
    by_ns: dict[str, list[str]] = defaultdict(list)
    for wid in sorted(set(ins) | set(outs)):
        if wid in c.pos:
            by_ns[wid.split("/", 1)[0]].append(wid)
    for ns, wids in sorted(by_ns.items()):
        if len(wids) > MAX_OUTSIDE_LINES and ns in c.boxes:
            _outside_to_namespace(c, oid, ns, wids, ins, outs)
            continue
        for wid in wids:
            start = " marker-start='url(#arrow-out)'" if wid in outs else ""
            end = " marker-end='url(#arrow-out)'" if wid in ins else ""
            tip = "; ".join(t for t in (f"from outside: {ins[wid]}" if wid in ins else "",
                                         f"to outside: {outs[wid]}" if wid in outs else "") if t)
            x1, y1, x2, y2 = _from_outside(c, oid, c.pos[wid], NODE_R + 2)
            c.edges.insert(0,
                           f"<line class='edge outside' data-workload='{esc(wid)}' "
                           f"data-in='{'yes' if wid in ins else 'no'}' "
                              f"data-out='{'yes' if wid in outs else 'no'}' x1='{x1:.1f}' y1='{y1:.1f}' x2='{x2:.1f}' "
                              f"y2='{y2:.1f}'{start}{end}><title>{esc(wid)} {esc(tip)}</title></line>")


def _from_outside(c: Canvas, oid: str, to: tuple[float, float], shrink: float) -> tuple[float, float, float, float]:
    """A line from the right edge of the outside node to `to`, stopping `shrink` short of it."""
    ox, oy = c.pos[oid][0] + OUTSIDE_W / 2, c.pos[oid][1]
    _, _, x2, y2 = _shorten((ox, oy), to, shrink)
    return ox, oy, x2, y2


def _outside_to_namespace(c: Canvas, oid: str, ns: str, wids: list[str], ins: dict[str, str],
                          outs: dict[str, str]) -> None:
    x, y, _w, h = c.boxes[ns]
    n_in, n_out = sum(w in ins for w in wids), sum(w in outs for w in wids)
    x1, y1, _, _ = _from_outside(c, oid, (x, y + h / 2), 0)
    start = " marker-start='url(#arrow-out)'" if n_out else ""
    end = " marker-end='url(#arrow-out)'" if n_in else ""
    names = ", ".join(w.split("/", 1)[1] for w in wids)
    label = f"{n_in} in · {n_out} out"
    c.edges.insert(0, f"<g class='edge-group'><line class='edge outside to-namespace' data-namespace='{esc(ns)}' "
                      f"data-workloads='{len(wids)}' x1='{x1:.1f}' y1='{y1:.1f}' x2='{x - 2:.1f}' y2='{y + h / 2:.1f}'"
                      f"{start}{end}><title>outside ↔ namespace {esc(ns)}: {esc(label)} ({esc(names)})</title></line>"
                      f"<text class='small' x='{(x1 + x) / 2:.1f}' y='{(y1 + y + h / 2) / 2 - 6:.1f}' "
                      f"text-anchor='middle'>{esc(label)}</text></g>")


def _broken_edges(c: Canvas, broken: Sequence[dict[str, Any]]) -> None:
    seen: dict[tuple[str, str], int] = defaultdict(int)
    for d in broken:
        if d["from"] not in c.pos or d["to"] not in c.pos:
            continue
        k = seen[(d["from"], d["to"])]
        seen[(d["from"], d["to"])] += 1
        path, (mx, my) = _curve(c.pos[d["from"]], c.pos[d["to"]], 26 + 14 * k)
        port = f"{d['protocol']}/{d['port']}"
        c.edges.append(
            f"<g class='edge-group'><path class='edge broken' data-from='{esc(d['from'])}' data-to='{esc(d['to'])}' "
            f"data-port='{esc(port)}' d='{path}' marker-end='url(#arrow-bad)'><title>BROKEN dependency: "
            f"{esc(d['from'])} → {esc(d['to'])} {esc(port)} ({esc(d.get('source', ''))})</title></path>"
            f"<text class='broken-label' x='{mx:.1f}' y='{my:.1f}' text-anchor='middle'>✗ {esc(port)}</text></g>")


def _shorten(p: tuple[float, float], q: tuple[float, float], by: float) -> tuple[float, float, float, float]:
    dx, dy = q[0] - p[0], q[1] - p[1]
    n = math.hypot(dx, dy) or 1.0
    ux, uy = dx / n, dy / n
    return p[0] + ux * by, p[1] + uy * by, q[0] - ux * by, q[1] - uy * by


def _curve(p: tuple[float, float], q: tuple[float, float], bend: float) -> tuple[str, tuple[float, float]]:
    """A quadratic curve from p to q bent `bend` px to its left, and its midpoint (for the label)."""
    x1, y1, x2, y2 = _shorten(p, q, NODE_R + 3)
    dx, dy = x2 - x1, y2 - y1
    n = math.hypot(dx, dy) or 1.0
    cx, cy = (x1 + x2) / 2 - dy / n * bend, (y1 + y2) / 2 + dx / n * bend
    mid = ((x1 + 2 * cx + x2) / 4, (y1 + 2 * cy + y2) / 4)
    return f"M{x1:.1f},{y1:.1f} Q{cx:.1f},{cy:.1f} {x2:.1f},{y2:.1f}", mid


def _svg(c: Canvas, title: str, desc: str) -> str:
    w, h = max(c.width, 400), max(c.height, 120)
    # Small maps are drawn up to a third larger, so their labels read like the page's text.
    shown = min(max(w * 1.35, 400), 1340) if w < 1000 else w
    return (f"<svg viewBox='0 0 {w:.0f} {h:.0f}' width='{shown:.0f}' "
            f"role='img' aria-label='{esc(title)}'><title>{esc(title)}</title><desc>{esc(desc)}</desc>"
            f"{DEFS}{''.join(c.back)}{''.join(c.edges)}{''.join(c.front)}</svg>")


# --- namespace level ----------------------------------------------------------------------------------------

def namespace_map(gt: dict[str, Any], facts: MapFacts) -> str:
    """Namespaces on a circle, each with its counts; an edge per namespace pair with flows (their count)
    and a red dashed edge per namespace pair with broken dependencies (`data-count`: how many). Past
    `MAX_NS_NODES` namespaces, the quietest are drawn as one node standing for all of them."""
    ns_of = {w["id"]: w["namespace"] for w in facts.workloads}
    counts = _namespace_counts(facts, ns_of)
    node = _namespace_nodes(counts)
    merged: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for ns, (n, dns, broken) in counts.items():
        m = merged[node[ns]]
        m[0], m[1], m[2] = m[0] + n, m[1] + dns, m[2] + broken
    c = Canvas()
    _place_namespace_nodes(c, merged)
    _place_outside(c, facts)
    _outside_namespace_edges(c, facts, node)
    _namespace_flow_edges(c, (gt.get("graph") or {}).get("namespace_pairs") or [], node)
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    for d in facts.broken:
        pairs[(node[_ns(d["from"], ns_of)], node[_ns(d["to"], ns_of)])] += 1
    for (a, b), n in sorted(pairs.items()):
        _ns_broken_edge(c, a, b, n)
    desc = f"{plural(len(counts), 'namespace')}; red dashed edges carry broken dependencies between namespaces."
    return _svg(c, "Traffic map: namespaces", desc)


def _namespace_counts(facts: MapFacts, ns_of: dict[str, str]) -> dict[str, list[int]]:
    """Per namespace: [workloads, workloads without DNS, broken dependencies into it]."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for w in facts.workloads:
        counts[w["namespace"]][0] += 1
        counts[w["namespace"]][1] += w["id"] in facts.no_dns
    for d in facts.broken:
        counts[_ns(d["to"], ns_of)][2] += 1
    return counts


def _place_namespace_nodes(c: Canvas, merged: dict[str, list[int]]) -> None:
    names = sorted(merged, key=lambda n: (n.startswith("("), n))
    r = max(160.0, len(names) * 100 / (2 * math.pi))
    # An ellipse 1.5 times wider than high: the nodes are wide labels, crowded where the curve runs level.
    cx, cy = OUTSIDE_W + 60 + 1.5 * r + 110, r + 50
    for i, ns in enumerate(names):
        x, y, _ = _on_circle(cx, cy, r, i, len(names)) if len(names) > 1 else (cx, cy, 0.0)
        x = cx + 1.5 * (x - cx)
        c.pos[ns] = (x, y)
        _ns_node(c, ns, x, y, merged[ns])
    c.width, c.height = cx + 1.5 * r + 120, cy + r + 50


def _namespace_flow_edges(c: Canvas, namespace_pairs: list[dict[str, Any]], node: dict[str, str]) -> None:
    flows: dict[tuple[str, str], int] = defaultdict(int)
    for p in namespace_pairs:
        flows[(node.get(p["from"], p["from"]), node.get(p["to"], p["to"]))] += p["flows"]
    for (a, b), n in sorted(flows.items()):
        if a != b and a in c.pos and b in c.pos:
            x1, y1, x2, y2 = _shorten(c.pos[a], c.pos[b], 34)
            c.edges.append(f"<line class='edge allowed' data-from='{esc(a)}' data-to='{esc(b)}' "
                           f"data-count='{n}' x1='{x1:.1f}' y1='{y1:.1f}' x2='{x2:.1f}' y2='{y2:.1f}' "
                           f"marker-end='url(#arrow)'><title>{esc(a)} → {esc(b)}: "
                           f"{plural(n, 'allowed workload pair')}</title></line>")


def _outside_namespace_edges(c: Canvas, facts: MapFacts, node: dict[str, str]) -> None:
    """One dotted line from outside per namespace node that talks to outside, with the counts each way."""
    oid = facts.outside.get("id") or "(outside the cluster)"
    ins: dict[str, int] = defaultdict(int)
    outs: dict[str, int] = defaultdict(int)
    for x in facts.outside.get("ingress") or []:
        ins[node.get(x["workload"].split("/", 1)[0], "")] += 1
    for x in facts.outside.get("egress") or []:
        outs[node.get(x["workload"].split("/", 1)[0], "")] += 1
    for ns in sorted(set(ins) | set(outs)):
        if ns not in c.pos:
            continue
        x1, y1, x2, y2 = _from_outside(c, oid, c.pos[ns], 30)
        start = " marker-start='url(#arrow-out)'" if outs[ns] else ""
        end = " marker-end='url(#arrow-out)'" if ins[ns] else ""
        c.edges.insert(0, f"<line class='edge outside' data-namespace='{esc(ns)}' x1='{x1:.1f}' y1='{y1:.1f}' "
                          f"x2='{x2:.1f}' y2='{y2:.1f}'{start}{end}><title>outside ↔ {esc(ns)}: {ins[ns]} workload(s) "
                          f"accept connections from outside, {outs[ns]} may connect out</title></line>")


def _ns(workload: str, ns_of: dict[str, str]) -> str:
    return ns_of.get(workload, workload.split("/", 1)[0])


def _namespace_nodes(counts: dict[str, list[int]]) -> dict[str, str]:
    """Which node draws each namespace: itself, or for the quietest past `MAX_NS_NODES`, one shared node."""
    if len(counts) <= MAX_NS_NODES:
        return {ns: ns for ns in counts}
    ranked = sorted(counts, key=lambda ns: (-counts[ns][2], -counts[ns][1], -counts[ns][0], ns))
    keep = set(ranked[:MAX_NS_NODES - 1])
    other = f"({len(counts) - len(keep)} other namespaces)"
    return {ns: ns if ns in keep else other for ns in counts}


def _ns_node(c: Canvas, ns: str, x: float, y: float, count: list[int]) -> None:
    n, dns, broken = count
    cls = "node ns-node has-broken" if broken else "node ns-node"
    detail = f"{plural(n, 'workload')} · {broken} broken · {dns} no DNS"
    w = max(len(ns) * CHAR_W + 20, len(detail) * 5.8 + 14, 120)
    c.front.append(f"<g class='{cls}' data-namespace='{esc(ns)}'><title>namespace {esc(ns)}: {esc(detail)}</title>"
                   f"<rect x='{x - w / 2:.1f}' y='{y - 22:.1f}' width='{w:.0f}' height='44' rx='8'/>"
                   f"<text x='{x:.1f}' y='{y - 4:.1f}' text-anchor='middle' class='nstitle'>{esc(ns)}</text>"
                   f"<text x='{x:.1f}' y='{y + 12:.1f}' text-anchor='middle' class='count'>{esc(detail)}</text></g>")


def _ns_broken_edge(c: Canvas, a: str, b: str, n: int) -> None:
    if a not in c.pos or b not in c.pos:
        return
    if a == b:
        x, y = c.pos[a]
        path, mid = (f"M{x - 20:.1f},{y - 22:.1f} C{x - 40:.1f},{y - 70:.1f} {x + 40:.1f},{y - 70:.1f} "
                     f"{x + 20:.1f},{y - 22:.1f}"), (x, y - 60)
    else:
        path, mid = _curve(c.pos[a], c.pos[b], 30)
    label = f"✗ {n} broken"
    c.edges.append(f"<g class='edge-group'><path class='edge broken' data-from='{esc(a)}' data-to='{esc(b)}' "
                   f"data-count='{n}' d='{path}' marker-end='url(#arrow-bad)'><title>{esc(a)} → {esc(b)}: "
                   f"{plural(n, 'broken dependency', 'broken dependencies')}</title></path>"
                   f"<text class='broken-label' x='{mid[0]:.1f}' y='{mid[1]:.1f}' "
                   f"text-anchor='middle'>{label}</text></g>")


# --- legend ------------------------------------------------------------------------------------------------

def legend(*, namespaces: bool = False) -> str:
    """What the marks mean, in words beside a sample of each."""
    def sample(svg: str) -> str:
        return f"<svg width='34' height='16' aria-hidden='true'>{svg}</svg>"
    items = [
        (sample("<line x1='2' y1='8' x2='32' y2='8' stroke='#8c959f' stroke-width='1.5'/>"),
         "grey line: allowed (arrowhead at the receiving end)"),
        (sample("<line x1='2' y1='8' x2='32' y2='8' stroke='#cf222e' stroke-width='2.5' stroke-dasharray='6 3'/>"),
         "red dashed curve marked ✗: a broken dependency"),
    ]
    if not namespaces:
        items += [
            (sample("<circle cx='17' cy='8' r='6' fill='#fff' stroke='#bf8700' stroke-width='2' stroke-dasharray='3 "
                    "2'/>"),
             "dashed amber ring and “⚠ no DNS”: lost cluster DNS"),
            (sample("<circle cx='17' cy='8' r='6' fill='#ddf4ff' stroke='#0969da' stroke-width='2'/>"),
             "filled: isolated by a policy; white: open"),
            (sample("<line x1='2' y1='8' x2='32' y2='8' stroke='#54aeff' stroke-dasharray='2 3'/>"),
             "blue dotted: to or from outside the cluster"),
        ]
    return "<p class='legend'>" + "".join(f"<span>{s}{esc(t)}</span>" for s, t in items) + "</p>"
