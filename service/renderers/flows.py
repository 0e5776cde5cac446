"""Text renderings of a flows document (see `verifier.engine.export.flows_json`)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from .outside import legend, outside_flows


PROTOCOLS = ("TCP", "UDP", "SCTP")


def port_text(ranges: list[list[int]]) -> str:
    if ranges == [[1, 65535]]:
        return "all"
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


def _by_pair(doc: dict[str, Any], outside: bool = False) -> dict[tuple[str, str], dict[str, str]]:
    pairs: dict[tuple[str, str], dict[str, str]] = {}
    for f in [*doc["flows"], *(outside_flows(doc) if outside else ())]:
        pairs.setdefault((f["from"], f["to"]), {})[f["protocol"]] = port_text(f["ports"])
    return pairs


def csv_row(f: dict[str, Any]) -> list[str]:
    return [f["from"], f["to"], f["protocol"], ";".join(f"{lo}-{hi}" for lo, hi in f["ports"])]


def render_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2)


def render_csv(doc: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["from", "to", "protocol", "ports"])
    for f in [*doc["flows"], *outside_flows(doc)]:
        writer.writerow(csv_row(f))
    return out.getvalue()


def render_dot(doc: dict[str, Any]) -> str:
    lines = ["digraph netreason {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
    for ns in sorted({w["namespace"] for w in doc["workloads"]}):
        lines.append(f'  subgraph "cluster_{ns}" {{ label="{ns}";')
        lines += [f'    "{w["id"]}" [label="{w["name"]}"];' for w in doc["workloads"] if w["namespace"] == ns]
        lines.append("  }")
    peers = sorted({f[end] for f in outside_flows(doc) for end in ("from", "to") if f[end] != f["workload"]})
    lines += [f'  "{p}" [shape=ellipse, style=dashed];' for p in peers]
    for (src, dst), protos in sorted(_by_pair(doc, outside=True).items()):
        label = " ".join(f"{p}/{t}" for p, t in protos.items())
        lines.append(f'  "{src}" -> "{dst}" [label="{label}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_table(doc: dict[str, Any], width: int | None = None, plain: bool = False, footer: Sequence[str] = ()) -> str:
    """The flows as a table; `plain` (TERM=dumb) draws no box, only aligned columns; `footer` lines follow it."""
    from rich.console import Console  # rich costs ~50 ms to import; only the table needs it
    from rich.table import Table

    table = Table(title="Allowed flows", show_lines=False, **box_options(plain))
    table.add_column("from")
    table.add_column("to")
    for proto in PROTOCOLS:
        table.add_column(proto)
    for (src, dst), protos in [*sorted(_by_pair(doc).items()), *_by_pair({"flows": outside_flows(doc)}).items()]:
        table.add_row(src, dst, *(protos.get(p, "-") for p in PROTOCOLS))
    out = io.StringIO()
    console = Console(file=out, width=width or 160, force_terminal=False)
    console.print(table)
    for line in footer:
        console.print(line, markup=False)
    console.print(legend(doc), soft_wrap=True)
    for note in doc.get("notes", []):
        console.print(f"note: {note}")
    return out.getvalue()


def box_options(plain: bool) -> dict[str, Any]:
    """Table options: TERM=dumb gets no box (rich draws its default box otherwise)."""
    return {"box": None} if plain else {}


def render_summary(doc: dict[str, Any], timings: dict[str, float]) -> str:
    s = doc["summary"]
    lines = [f"{k.replace('_', ' ')}: {v}" for k, v in s.items()]
    lines += [f"time {phase}: {sec:.3f} s" for phase, sec in timings.items()]
    return "\n".join(lines) + "\n"
