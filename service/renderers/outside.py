"""Traffic with addresses outside the input as flow rows: `outside:…` peers beside workload pairs.

A flows document lists outside traffic per block (`external_egress`, `external_ingress`, see
`verifier.engine.export.external_json`). Rendered, one row per workload, direction, rule and protocol
joins its blocks into one peer label, so a workload no policy isolates reads
`outside:anywhere` (0.0.0.0/0 and ::/0) instead of two rows.
"""

from __future__ import annotations

from typing import Any

#: Prefix of a peer that stands for addresses outside the input.
PREFIX = "outside:"
#: Both address families whole: what `from`/`to` peers left out, or no isolation, admit.
ANYWHERE = frozenset({"0.0.0.0/0", "::/0"})

#: Said under every rendering that lists pairs: what a missing row means, truthfully.
LEGEND = ("Workload pairs not listed are denied. outside:… rows are traffic with addresses outside the "
          "input (ipBlocks; outside:anywhere = 0.0.0.0/0 and ::/0); pods not in the input that a pod or "
          "namespace selector admits are not listed.")


def legend(doc: dict[str, Any]) -> str:
    """LEGEND, preceded by what a filter kept when the document was filtered (`filter` key)."""
    f = doc.get("filter")
    if not f:
        return LEGEND
    terms = " ".join(f"{flag} {f[key]}" for flag, key in (("--from", "from"), ("--to", "to"), ("-n", "namespace"),
                                                          ("-l", "selector")) if f.get(key) is not None)
    return (f"Filtered by {terms}: {f['flows_shown']} of {f['flows_total']} workload-pair flows shown; among pairs "
            f"the filter matches, those not listed are denied. " + LEGEND.partition(". ")[2])


def block_text(cidr: str, excepts: list[str]) -> str:
    return f"{cidr} except {','.join(excepts)}" if excepts else cidr


def peer_label(blocks: list[tuple[str, list[str]]]) -> str:
    """`outside:anywhere`, `outside:10.0.0.0/8`, `outside:0.0.0.0/0 except 10.0.0.0/8`, ...; blocks joined by `;`."""
    if {c for c, ex in blocks if not ex} >= ANYWHERE and len(blocks) == 2:
        return PREFIX + "anywhere"
    return PREFIX + ";".join(block_text(c, ex) for c, ex in blocks)


def outside_flows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Flow-shaped entries (`from`, `to`, `protocol`, `ports`, `rules`) for the document's outside traffic.

    Egress rows go from the workload to an `outside:` peer, ingress rows the other way. Rules
    admitting the same peer and protocol are merged (ports united). Sorted by workload,
    direction (egress first), peer and protocol.
    """
    per_rule: dict[tuple[str, str, str, str, str], list[tuple[str, list[str]]]] = {}
    ports_of: dict[tuple[str, str, str, str, str], list[list[int]]] = {}
    for direction, entries, end in (("egress", doc.get("external_egress", []), "from"),
                                    ("ingress", doc.get("external_ingress", []), "to")):
        for e in entries:
            key = (e[end], direction, e["rule"], e["protocol"], repr(e["ports"]))
            per_rule.setdefault(key, []).append((e["cidr"], list(e["except"])))
            ports_of[key] = e["ports"]
    merged: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for key, blocks in per_rule.items():
        workload, direction, rule, proto, _ = key
        peer = peer_label(blocks)
        src, dst = (workload, peer) if direction == "egress" else (peer, workload)
        row = merged.setdefault((workload, direction, peer, proto), {
            "from": src, "to": dst, "protocol": proto, "ports": [], "rules": [],
            "workload": workload, "direction": direction})
        row["ports"] = union(row["ports"] + ports_of[key])
        row["rules"].append(rule)
    return [merged[k] for k in sorted(merged)]


def union(ranges: list[list[int]]) -> list[list[int]]:
    """Sorted, merged inclusive port ranges."""
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return out


def cap_outside(doc: dict[str, Any], rows: int | None) -> list[str]:
    """Keep at most `rows` rows of outside traffic (None: all), cutting whole workloads so no row shows
    fewer ports than it has; the lines to print saying what was left out."""
    per_workload: dict[str, int] = {}
    for r in outside_flows(doc):
        per_workload[r["workload"]] = per_workload.get(r["workload"], 0) + 1
    kept: set[str] = set()
    used = 0
    for name, n in sorted(per_workload.items()):
        if rows is not None and used + n > rows:
            break
        kept.add(name)
        used += n
    if len(kept) == len(per_workload):
        return []
    doc["external_egress"] = [e for e in doc.get("external_egress", []) if e["from"] in kept]
    doc["external_ingress"] = [e for e in doc.get("external_ingress", []) if e["to"] in kept]
    return [f"... outside traffic of {len(per_workload) - len(kept):,} workload(s) not shown (--limit); "
            "-o csv or -o json lists it all, --to outside / --from outside picks it."]
