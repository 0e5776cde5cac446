"""Goals, ratios and the printed table for benchmark records (pure: dicts in, text out)."""

from __future__ import annotations

from typing import Any

#: (metric, limit) per tier; every metric is "less than" its limit.
GOALS: dict[str, list[tuple[str, float]]] = {
    "M": [("compute_s", 1.0), ("end_to_end_yaml_s", 10.0)],
    "L": [("compute_s", 5.0), ("peak_rss_mb", 2048.0)],
    "XL": [("peak_rss_mb", 8192.0)],  # and: finishes
}


def phase_seconds(run: dict[str, Any], phase: str) -> float | None:
    for row in run.get("phases", ()):
        if row["phase"] == phase:
            return float(row["seconds"])
    return None


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def metrics(record: dict[str, Any]) -> dict[str, Any]:
    """Headline figures of one tier: YAML path first, JSON fast path alongside."""
    yml, jsn = record.get("netreason_yaml", {}), record.get("netreason_json", {})
    main = yml if "phases" in yml else jsn
    summary = main.get("summary", {})
    compute = phase_seconds(main, "compute")
    n_w, n_c = summary.get("workloads"), summary.get("classes")
    out: dict[str, Any] = {
        "finished": "phases" in main,
        "compute_s": compute,
        "compute_json_s": phase_seconds(jsn, "compute"),
        "compile_s": phase_seconds(main, "compile"),
        "end_to_end_yaml_s": sum(r["seconds"] for r in yml["phases"]) if "phases" in yml else None,
        "end_to_end_json_s": sum(r["seconds"] for r in jsn["phases"]) if "phases" in jsn else None,
        "peak_rss_mb": max((r.get("process", {}).get("maxrss_mb", 0.0) for r in (yml, jsn)), default=0.0),
        "parse_vs_bare_yaml": _ratio(phase_seconds(yml, "parse"),
                                     phase_seconds(record.get("baseline_yaml", {}), "parse")),
        "parse_vs_bare_json": _ratio(phase_seconds(jsn, "parse"),
                                     phase_seconds(record.get("baseline_json", {}), "parse")),
        "compute_ns_per_workload_pair": round(compute * 1e9 / n_w**2, 2) if compute and n_w else None,
        "compute_ns_per_class_pair": round(compute * 1e9 / n_c**2, 2) if compute and n_c else None,
    }
    nca = record.get("nca", {}).get("process", {})
    if nca.get("returncode") == 0 and "phases" in yml:
        out["nca_wall_s"] = nca["wall_seconds"]
        out["nca_peak_mb"] = nca["maxrss_mb"]
        out["netreason_over_nca_wall"] = _ratio(yml["process"]["wall_seconds"], nca["wall_seconds"])
    return out


def evaluate(tier: str, record: dict[str, Any]) -> dict[str, Any]:
    """Metrics plus a pass/fail per goal of the tier (None when the figure is missing)."""
    m = metrics(record)
    goals = {f"{name} < {limit:g}": (m[name] < limit if m.get(name) is not None else None)
             for name, limit in GOALS.get(tier, ())}
    if tier == "XL":
        goals["finishes"] = m["finished"]
    return {"metrics": m, "goals": goals}


def _fmt(x: Any, digits: int = 2) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def _run_row(tier: str, fmt: str, run: dict[str, Any], base: dict[str, Any]) -> list[str]:
    cells = [tier, fmt]
    cells += [_fmt(phase_seconds(run, p)) for p in ("import", "parse", "compile", "compute", "summary")]
    gc = [r.get("gc_seconds", 0.0) for r in run.get("phases", ()) if r["phase"] in ("compile", "compute")]
    cells.append(_fmt(sum(gc) if gc else None))
    cells.append(_fmt(run.get("process", {}).get("wall_seconds")))
    cells.append(_fmt(run.get("process", {}).get("maxrss_mb"), 0))
    cells.append(_fmt(phase_seconds(base, "parse")))
    return cells


def render(records: list[dict[str, Any]]) -> str:
    """The shape, timing and goals tables as plain text."""
    shape_cols = ["tier", "pods", "namespaces", "workloads", "policies", "%select-nothing",
                  "median pods/policy", "median pods/peer", "%pod-peers-no-ports", "classes"]
    shape = [[r["tier"], *(str(r["shape"][k]) for k in ("pods", "namespaces", "workloads", "policies")),
              _fmt(100 * r["shape"]["fraction_policies_selecting_nothing"], 1),
              _fmt(r["shape"]["median_pods_selected_per_policy"], 1),
              _fmt(r["shape"]["median_pods_selected_per_peer"], 1),
              _fmt(100 * r["shape"]["fraction_pod_selector_peers_without_ports"], 1),
              str(r.get("netreason_yaml", r.get("netreason_json", {})).get("summary", {}).get("classes", "-"))]
             for r in records]
    time_cols = ["tier", "format", "import s", "parse s", "compile s", "compute s", "summary s",
                 "gc in compile+compute s", "wall s",
                 "peak MB", "bare parse s"]
    timing = [_run_row(r["tier"], fmt, r[f"netreason_{fmt}"], r.get(f"baseline_{fmt}", {}))
              for r in records for fmt in ("yaml", "json") if f"netreason_{fmt}" in r]
    ratio_cols = ["tier", "parse/bare yaml", "parse/bare json", "ns/workload pair", "ns/class pair",
                  "NCA wall s", "NCA peak MB", "netreason/NCA", "goals"]
    ratios = [[r["tier"], *(_fmt(r["evaluation"]["metrics"].get(k), 3) for k in (
        "parse_vs_bare_yaml", "parse_vs_bare_json", "compute_ns_per_workload_pair", "compute_ns_per_class_pair",
        "nca_wall_s", "nca_peak_mb", "netreason_over_nca_wall")), _goals(r["evaluation"]["goals"])] for r in records]
    tables = ((shape_cols, shape, 1), (time_cols, timing, 2), (ratio_cols, ratios, 1))
    return "\n\n".join(_table(c, rows, left) for c, rows, left in tables)


def _goals(goals: dict[str, bool | None]) -> str:
    mark = {True: "ok", False: "MISSED", None: "n/a"}
    return "; ".join(f"{k}: {mark[v]}" for k, v in goals.items()) or "-"


def _table(cols: list[str], rows: list[list[str]], left: int) -> str:
    """Fixed-width text table; the first `left` columns are labels (left-aligned)."""
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(cols)]
    def line(cells: list[str]) -> str:
        return "  ".join(x.rjust(w) if i >= left else x.ljust(w) for i, (x, w) in enumerate(zip(cells, widths)))

    return "\n".join([line(cols), line(["-" * w for w in widths]), *(line(r) for r in rows)])
