"""Text renderings of an exposure document (see `verifier.engine.exposure_report.exposure_json`)."""

from __future__ import annotations

import json
from typing import Any

from .flows import port_text


def render_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2)


def exposure_lines(doc: dict[str, Any]) -> list[str]:
    """One block per workload reachable from outside (by policy or through an entry point)."""
    lines = []
    for w in doc["workloads"]:
        outside = _outside(w["external_ingress"])
        points = [_point(p) for p in w["entry_points"]]
        if not outside and not points:
            continue
        lines.append(f"{w['id']}")
        lines += [f"  from outside: {text}" for text in outside] or ["  from outside: nothing (ingress isolated)"]
        lines += [f"  {text}" for text in points]
    return lines


def render_table(doc: dict[str, Any]) -> str:
    controllers = ", ".join(doc["controllers"]) or "none found (use --ingress-controller)"
    return "\n".join([f"ingress controllers (external actors): {controllers}", *exposure_lines(doc)]) + "\n"


def _outside(rows: list[dict[str, Any]]) -> list[str]:
    """One line per source and rule, its protocols joined: `anywhere TCP/all UDP/all (...)`."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for e in rows:
        grouped.setdefault((_cidr(e), e["rule"]), []).append(f"{e['protocol']}/{port_text(e['ports'])}")
    return [f"{cidr} {' '.join(ports)} ({rule})" for (cidr, rule), ports in grouped.items()]


def _cidr(e: dict[str, Any]) -> str:
    if e["cidr"] == "anywhere":
        return "anywhere"
    return str(e["cidr"]) + (f" except {', '.join(e['except'])}" if e["except"] else "")


def _point(p: dict[str, Any]) -> str:
    verdict = {True: "REACHABLE", False: "BLOCKED", None: "UNKNOWN"}[p["allowed"]]
    port = f"{p['service']}:{p['service_port']}" if p["service_port"] else p["service"]
    return (f"{verdict} via {p['kind']} {p['object']} -> {port} -> {p['target_port']}/{p['protocol']}: "
            f"{p['explanation']}")
