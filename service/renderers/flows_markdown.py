"""`netreason flows -o markdown`: the flows table as GitHub Markdown, sized for a PR comment.

Rows are the workload pairs, then traffic with outside addresses (`outside:` peers, see
`service.renderers.outside`). Past `limit` characters the remaining rows are counted, not
listed, and the closing line says how to get them all.
"""

from __future__ import annotations

from typing import Any

from . import bounded
from .flows import PROTOCOLS, _by_pair
from .outside import legend, outside_flows


def render_markdown(doc: dict[str, Any], limit: int = bounded.MARKDOWN_LIMIT) -> str:
    pairs = sorted(_by_pair(doc).items())
    outside = list(_by_pair({"flows": outside_flows(doc)}).items())
    budget = bounded.Budget(limit - bounded.RESERVE)
    out = ["## Allowed flows", "", f"{len(pairs)} workload pair(s) and {len(outside)} row(s) of outside traffic.", "",
           "| from | to | " + " | ".join(PROTOCOLS) + " |", "| --- | --- |" + " --- |" * len(PROTOCOLS)]
    rows = [f"| {bounded.cell(src)} | {bounded.cell(dst)} | " + " | ".join(protos.get(p, "-") for p in PROTOCOLS) + " |"
            for (src, dst), protos in [*pairs, *outside]]
    budget.take(rows, out, "flow rows")
    out += ["", legend(doc), ""]
    budget.take([f"- note: {bounded.cell(note)}" for note in doc.get("notes", [])], out, "notes")
    if budget.dropped:
        out += ["", *bounded.closing(budget, "Run `netreason flows -o csv` or `-o json` for every row.")]
    return "\n".join(out) + "\n"
