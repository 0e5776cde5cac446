"""`netreason flows -o csv|json` written row by row: memory bounded by the compiled classes, not the pair count.

The flows are produced in the documented order (source id, destination id, protocol) one source at a
time, from its class's reachable classes; the text is the same as rendering the whole document
(`verifier.engine.export.flows_json`) at once, which held every pair in memory (4.4 GB at 5,000 pods).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any, TextIO

from verifier.engine.connectivity import Connectivity
from verifier.engine.export import external_json, flows_json, ranges
from verifier.sets.selectors import iter_bits

from .renderers.flows import csv_row
from .renderers.outside import outside_flows


def sorted_flows(conn: Connectivity, *, explain: bool = False) -> Iterator[dict[str, Any]]:
    """Every flow entry of `flows_json(conn, explain=explain)["flows"]`, in its order, one source at a time."""
    c = conn.compiled
    workloads = c.bundle.workloads
    to_portset = c.atoms.to_portset
    for src in sorted(range(len(workloads)), key=lambda i: workloads[i].id):
        s = c.class_of[src]
        row: list[tuple[str, Any]] = []
        for d in iter_bits(conn.reachable[s]):
            mask = conn.class_ports(s, d)
            if mask:
                ports = to_portset(mask)
                row += [(workloads[wd].id, ports) for wd in c.classes[d].members]
        for dst, ports in sorted(row, key=lambda item: item[0]):
            why = conn.provenance(workloads[src].id, dst) if explain else []
            for proto, rs in sorted(ports.ranges):
                flow: dict[str, Any] = {"from": workloads[src].id, "to": dst, "protocol": proto,
                                        "ports": [[lo, hi] for lo, hi in rs]}
                if explain:  # the same entries as verifier.engine.export.flows_json(explain=True)
                    flow["allowed_by"] = [{"ports": ranges(part, proto), "egress": list(e), "ingress": list(i)}
                                          for part, e, i in why if part.for_protocol(proto)]
                yield flow


def pair_count(conn: Connectivity) -> int:
    """How many ordered workload pairs have a port open, counted by class (no pair is built)."""
    members = [len(cls.members) for cls in conn.compiled.classes]
    return sum(members[s] * members[d] for s, d, _ in conn.class_pairs())


def first_pairs(conn: Connectivity, limit: int) -> list[dict[str, Any]]:
    """The flow entries of the first `limit` workload pairs, in the documented order (for the table)."""
    out: list[dict[str, Any]] = []
    pairs: set[tuple[str, str]] = set()
    for f in sorted_flows(conn):
        if (f["from"], f["to"]) not in pairs:
            if len(pairs) == limit:
                break
            pairs.add((f["from"], f["to"]))
        out.append(f)
    return out


def write_csv(conn: Connectivity, out: TextIO) -> int:
    """The CSV of `render_csv`, row by row; returns the number of flows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["from", "to", "protocol", "ports"])
    n = 0
    for f in sorted_flows(conn):
        writer.writerow([f["from"], f["to"], f["protocol"], ";".join(f"{lo}-{hi}" for lo, hi in f["ports"])])
        n += 1
    outside = {"external_egress": external_json(conn), "external_ingress": external_json(conn, ingress=True)}
    for f in outside_flows(outside):  # traffic with outside addresses: one row per workload at most per side
        writer.writerow(csv_row(f))
    return n


_MARK = "__netreason_flows__"


def write_json(conn: Connectivity, out: TextIO, *, explain: bool = False) -> int:
    """`json.dumps(flows_json(conn, explain=explain), indent=2)`, the flows streamed; returns how many."""
    doc = _without_flows(conn)
    head, _, tail = json.dumps(doc, indent=2).partition(f'"{_MARK}"')
    out.write(head)
    n = 0
    for f in sorted_flows(conn, explain=explain):
        out.write(("[\n" if n == 0 else ",\n")
                  + "\n".join("    " + line for line in json.dumps(f, indent=2).splitlines()))
        n += 1
    out.write("\n  ]" if n else "[]")
    out.write(tail)
    return n


def _without_flows(conn: Connectivity) -> dict[str, Any]:
    """The flows document with a marker where the flows go (built without them: they are streamed)."""
    doc = flows_json(conn, flows=False)
    doc["flows"] = _MARK
    return doc
