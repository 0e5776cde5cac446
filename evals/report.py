"""Eval reports from a run's stored scoring pass only: JSON, Markdown, self-contained HTML.

`summarize(scores)` turns the score rows (`grading.score_run`) into the report document:
a leaderboard per (model, prompt) with bootstrap intervals, the per-family and per-scale
breakdowns, paired comparisons between models on the same prompt, and the worst cases with
the model's claim beside the ground truth. `compare(current, baseline, margin)` flags
regressions. Simulated models are labelled "simulated" everywhere they appear.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .scoring import (
    ResponseScore,
    TypeCounts,
    failure_rate,
    hallucination_rate,
    percentile,
    precision,
    recall,
    sum_counts,
    verdict_accuracy,
)
from .stats import Unit, bootstrap_ratio, paired_comparison

SIMULATED_NOTE = ("Rows marked simulated come from simulated models that test the eval suite itself; "
                  "they are not the accuracy of any real model.")
#: Metrics where higher is better, checked for regressions against a baseline.
GATED = ("claim_precision", "claim_recall", "flow_verdict_accuracy", "dependency_recall", "dns_recall")
WORST_CASES = 10

Row = Mapping[str, Any]


def _score(row: Row) -> ResponseScore:
    return ResponseScore({t: TypeCounts(**c) for t, c in row["by_type"].items()}, row["schema_failure"],
                         bool(row["error"]))


def _metric_units(rows: Sequence[Row], metric: str) -> list[Unit]:
    """One (numerator, denominator) per scenario, summed over its responses."""
    by_scenario: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_scenario[r["scenario"]].append(r)
    return [_unit([_score(r) for r in group], metric) for _, group in sorted(by_scenario.items())]


def _unit(scores: Sequence[ResponseScore], metric: str) -> Unit:
    kind, _, claim_type = metric.partition(":")
    c = sum_counts(scores, claim_type or None)
    if kind == "precision":
        return (c.confirmed, c.claims)
    if kind == "recall":
        return (c.covered, c.truth_items)
    if kind == "hallucination":
        return (c.unverifiable, c.claims)
    if kind == "verdict":
        return (c.confirmed, c.confirmed + c.contradicted)
    raise ValueError(f"unknown metric {metric!r}")


METRICS = {
    "claim_precision": "precision",
    "claim_recall": "recall",
    "hallucination_rate": "hallucination",
    "flow_verdict_accuracy": "verdict:flow",
    "dependency_precision": "precision:dependency_broken",
    "dependency_recall": "recall:dependency_broken",
    "dns_precision": "precision:dns_egress_missing",
    "dns_recall": "recall:dns_egress_missing",
}


def _core(rows: Sequence[Row], resamples: int) -> dict[str, Any]:
    """The headline metrics of a group of rows: values at the top level, intervals under `ci`."""
    out: dict[str, Any] = {"scenarios": len({r["scenario"] for r in rows}), "responses": len(rows), "ci": {}}
    for name, metric in METRICS.items():
        est = bootstrap_ratio(_metric_units(rows, metric), resamples=resamples)
        out[name] = None if est.value is None else round(est.value, 4)
        out["ci"][name] = est.to_json()
    return out


def _group_entry(rows: Sequence[Row], resamples: int) -> dict[str, Any]:
    scores = [_score(r) for r in rows]
    latencies = [float(r["latency_ms"]) for r in rows if not r["error"]]
    costs = [r["cost_usd"] for r in rows if r.get("cost_usd") is not None]
    entry = {"model": rows[0]["model"], "prompt": rows[0]["prompt"], "simulated": any(r["simulated"] for r in rows)}
    entry.update(_core(rows, resamples))
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    entry.update({
        "schema_failure_rate": failure_rate(scores),
        "error_rate": sum(1 for s in scores if s.error) / len(scores),
        "input_tokens_mean": round(sum(r["input_tokens"] for r in rows) / len(rows), 1),
        "output_tokens_mean": round(sum(r["output_tokens"] for r in rows) / len(rows), 1),
        "cost_usd": round(sum(costs), 6) if costs else None,
        "latency_p50_ms": None if p50 is None else round(p50, 1),
        "latency_p95_ms": None if p95 is None else round(p95, 1),
        "ci": {**entry["ci"], "latency_ms_mean": _latency_ci(latencies, resamples)},
        "per_type": _per_type(scores),
        "families": _breakdown(rows, "family", resamples),
        "scales": _breakdown(rows, "scale", resamples),
        "size_costs": _size_costs(rows),
    })
    return entry


def _mean(values: Sequence[Any]) -> float | int | None:
    present = [float(v) for v in values if v is not None]
    if not present:
        return None
    mean = round(sum(present) / len(present), 1)
    return int(mean) if mean.is_integer() else mean  # whole counts (workloads, calls) read as such


def _size_costs(rows: Sequence[Row]) -> dict[str, dict[str, Any]]:
    """Per scale: what asking cost (means per response: calls, prompt characters and tokens, wall time)."""
    groups: dict[int, list[Row]] = defaultdict(list)
    for r in rows:
        groups[int(r["scale"])].append(r)
    out = {}
    for scale, group in sorted(groups.items()):
        costs = [r["cost_usd"] for r in group if r.get("cost_usd") is not None]
        out[str(scale)] = {
            "workloads": _mean([r.get("workloads") for r in group]), "responses": len(group),
            "calls_mean": _mean([r.get("calls", 1) for r in group]),
            "prompt_chars_mean": _mean([r.get("prompt_chars") for r in group]),
            "input_tokens_mean": _mean([r["input_tokens"] for r in group]),
            "output_tokens_mean": _mean([r["output_tokens"] for r in group]),
            # A cached answer keeps the wall time it took when it was asked.
            "wall_ms_mean": _mean([r.get("wall_ms") for r in group if not r["error"]]),
            "cost_usd": round(sum(costs), 6) if costs else None,
        }
    return out


def _latency_ci(latencies: Sequence[float], resamples: int) -> dict[str, float | None]:
    return bootstrap_ratio([(v, 1.0) for v in latencies], resamples=resamples).to_json()


def _per_type(scores: Sequence[ResponseScore]) -> dict[str, dict[str, float | int | None]]:
    types = sorted({t for s in scores for t in s.by_type})
    out = {}
    for t in types:
        c = sum_counts(scores, t)
        out[t] = {"claims": c.claims, "truth_items": c.truth_items, "precision": precision(c), "recall": recall(c),
                  "hallucination_rate": hallucination_rate(c), "verdict_accuracy": verdict_accuracy(c)}
    return out


def _breakdown(rows: Sequence[Row], key: str, resamples: int) -> dict[str, dict[str, Any]]:
    groups: dict[Any, list[Row]] = defaultdict(list)
    for r in rows:
        groups[r[key]].append(r)
    return {str(k): _core(v, resamples) for k, v in sorted(groups.items())}


def _groups(rows: Iterable[Row]) -> dict[tuple[str, str], list[Row]]:
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in rows:
        groups[(r["model"], r["prompt"])].append(r)
    return dict(sorted(groups.items()))


def summarize(scores: Mapping[str, Any], *, resamples: int = 1000) -> dict[str, Any]:
    """The report document of a scoring pass (see the module docstring)."""
    rows = scores["responses"]
    groups = _groups(rows)
    return {
        "schema": "netreason.eval-report/v1",
        "run_id": scores["run_id"], "scorer": scores["scorer"],
        "simulated_note": SIMULATED_NOTE if any(r["simulated"] for r in rows) else None,
        "leaderboard": [_group_entry(g, resamples) for g in groups.values()],
        "comparisons": _comparisons(groups, resamples),
        "worst_cases": _worst(rows),
    }


def _comparisons(groups: Mapping[tuple[str, str], Sequence[Row]], resamples: int) -> list[dict[str, Any]]:
    out = []
    keys = list(groups)
    for i, (model_a, prompt) in enumerate(keys):
        for model_b, prompt_b in keys[i + 1:]:
            if prompt_b != prompt:
                continue
            for metric in ("claim_precision", "claim_recall"):
                ua, ub = (_per_scenario(groups[(m, prompt)], METRICS[metric]) for m in (model_a, model_b))
                comp = paired_comparison(metric, model_a, model_b, ua, ub, resamples=resamples)
                flags = {f"{side}_simulated": any(r["simulated"] for r in groups[(m, prompt)])
                         for side, m in (("a", model_a), ("b", model_b))}
                out.append({"prompt": prompt, **comp.to_json(), **flags})
    return out


def _per_scenario(rows: Sequence[Row], metric: str) -> dict[str, Unit]:
    by_scenario: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_scenario[r["scenario"]].append(r)
    return {sid: _unit([_score(r) for r in group], metric) for sid, group in by_scenario.items()}


def _worst(rows: Sequence[Row]) -> list[dict[str, Any]]:
    def badness(r: Row) -> tuple[float, float]:
        c = _score(r).total()
        found, right = recall(c), precision(c)  # None when there is nothing to measure: not bad at all
        return (1.0 if found is None else found, 1.0 if right is None else right)

    bad = [r for r in rows if r["cases"] or r["error"] or r["schema_failure"]]
    return [{"model": r["model"], "prompt": r["prompt"], "scenario": r["scenario"], "family": r["family"],
             "simulated": r["simulated"], "error": r["error"], "schema_failure": r["schema_failure"],
             "cases": r["cases"]} for r in sorted(bad, key=badness)[:WORST_CASES]]


def compare(current: Mapping[str, Any], baseline: Mapping[str, Any], margin: float) -> list[dict[str, Any]]:
    """Regressions: a gated metric of a (model, prompt) that dropped by more than `margin` vs the baseline
    (hallucination_rate: rose by more than `margin`)."""
    base = {(e["model"], e["prompt"]): e for e in baseline["leaderboard"]}
    out = []
    for entry in current["leaderboard"]:
        old = base.get((entry["model"], entry["prompt"]))
        if old is None:
            continue
        for metric in (*GATED, "hallucination_rate"):
            now, before = entry.get(metric), old.get(metric)
            if now is None or before is None:
                continue
            drop = (now - before) if metric == "hallucination_rate" else (before - now)
            if drop > margin:
                out.append({"model": entry["model"], "prompt": entry["prompt"], "metric": metric,
                            "baseline": before, "current": now, "change": round(now - before, 4),
                            "simulated": entry["simulated"]})
    return out


# --- rendering ------------------------------------------------------------------------------------------------


def _label(model: str, simulated: bool) -> str:
    return f"{model} (simulated)" if simulated else model


def _fmt(x: Any, ci: Mapping[str, Any] | None = None) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float) and ci and ci.get("ci_low") is not None:
        return f"{x:.3f} [{ci['ci_low']:.2f}, {ci['ci_high']:.2f}]"
    if isinstance(x, float):
        return f"{x:.3f}" if abs(x) < 10 else f"{x:.1f}" if abs(x) < 100 else f"{x:.0f}"
    return str(x)


LEADERBOARD_COLUMNS = (
    ("claim_precision", "precision"), ("claim_recall", "recall"), ("flow_verdict_accuracy", "flow acc."),
    ("dependency_recall", "dep. recall"), ("dns_recall", "DNS recall"), ("hallucination_rate", "halluc."),
    ("schema_failure_rate", "schema fail"), ("input_tokens_mean", "tokens in"), ("output_tokens_mean", "tokens out"),
    ("cost_usd", "cost $"), ("latency_p50_ms", "p50 ms"), ("latency_p95_ms", "p95 ms"),
)


def _leaderboard_rows(doc: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    head = ["model", "prompt", "scenarios", *(title for _, title in LEADERBOARD_COLUMNS)]
    rows = []
    for e in doc["leaderboard"]:
        rows.append([_label(e["model"], e["simulated"]), e["prompt"], str(e["scenarios"]),
                     *(_fmt(e.get(k), e["ci"].get(k)) for k, _ in LEADERBOARD_COLUMNS)])
    return head, rows


def _family_rows(doc: Mapping[str, Any], key: str) -> tuple[list[str], list[list[str]]]:
    """Rows of the per-family (`key="family"`) or per-scale (`key="scale"`) breakdown."""
    head = ["model", "prompt", key, "scenarios", "precision", "recall", "halluc."]
    section = "families" if key == "family" else "scales"
    rows = []
    for e in doc["leaderboard"]:
        for name, m in e[section].items():
            rows.append([_label(e["model"], e["simulated"]), e["prompt"], name, str(m["scenarios"]),
                         _fmt(m["claim_precision"]), _fmt(m["claim_recall"]), _fmt(m["hallucination_rate"])])
    return head, rows


def _md_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _case_text(case: Mapping[str, Any]) -> tuple[str, str]:
    import json

    claim = json.dumps(case["claim"], sort_keys=True) if case["claim"] else "(no claim)"
    truth = json.dumps(case["ground_truth"], sort_keys=True) if case["ground_truth"] is not None else ""
    explanation = " ".join(str(case["explanation"]).split())
    return claim, f"{case['kind']}: {truth} {explanation}".strip()


def render_markdown(doc: Mapping[str, Any], regressions: Sequence[Mapping[str, Any]] | None = None) -> str:
    """The report as Markdown (tables; the size chart as a table of recall per scale)."""
    parts = [f"# Eval report: run {doc['run_id']}", f"Scorer: {doc['scorer']}"]
    if doc["simulated_note"]:
        parts.append(f"> {doc['simulated_note']}")
    parts += ["## Leaderboard", _md_table(*_leaderboard_rows(doc)),
              "## By scenario family", _md_table(*_family_rows(doc, "family")),
              "## Accuracy against cluster size", _md_table(*_family_rows(doc, "scale")),
              "## Cost against cluster size", _md_table(*_size_cost_rows(doc))]
    parts += ["## Paired comparisons", _md_table(*_comparison_rows(doc))]
    if regressions is not None:
        parts += ["## Regressions against the baseline",
                  _md_table(*_regression_rows(regressions)) if regressions else "None."]
    parts.append("## Worst cases")
    for w in doc["worst_cases"]:
        parts.append(f"### {_label(w['model'], w['simulated'])} / {w['prompt']} / {w['scenario']}")
        if w["error"] or w["schema_failure"]:
            parts.append(f"- {'error: ' + w['error'] if w['error'] else 'schema failure: no valid answer'}")
        parts += [f"- model: `{c}`\n  - truth: {t}" for c, t in map(_case_text, w["cases"])]
    return "\n\n".join(parts) + "\n"


SIZE_COST_COLUMNS = (
    ("workloads", "workloads"), ("calls_mean", "calls"), ("prompt_chars_mean", "prompt chars"),
    ("input_tokens_mean", "tokens in"), ("output_tokens_mean", "tokens out"), ("wall_ms_mean", "wall ms"),
    ("cost_usd", "cost $"),
)


def _size_cost_rows(doc: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Per (model, prompt, scale): accuracy beside what it cost (means per response)."""
    head = ["model", "prompt", "scale", "precision", "recall", *(title for _, title in SIZE_COST_COLUMNS)]
    rows = []
    for e in doc["leaderboard"]:
        for scale, c in e.get("size_costs", {}).items():
            acc = e["scales"].get(scale, {})
            rows.append([_label(e["model"], e["simulated"]), e["prompt"], scale, _fmt(acc.get("claim_precision")),
                         _fmt(acc.get("claim_recall")), *(_fmt(c.get(k)) for k, _ in SIZE_COST_COLUMNS)])
    return head, rows


def _comparison_rows(doc: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    head = ["prompt", "metric", "A", "B", "scenarios", "B - A", "better", "significant"]
    rows = [[c["prompt"], c["metric"], _label(c["a"], c["a_simulated"]), _label(c["b"], c["b_simulated"]),
             str(c["scenarios"]),
             _fmt(c["difference_b_minus_a"]["value"], c["difference_b_minus_a"]), str(c["better"] or "-"),
             "yes" if c["significant"] else "no"] for c in doc["comparisons"]]
    return head, rows


def _regression_rows(regressions: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[list[str]]]:
    head = ["model", "prompt", "metric", "baseline", "current", "change"]
    return head, [[_label(r["model"], r["simulated"]), r["prompt"], r["metric"], _fmt(r["baseline"]),
                   _fmt(r["current"]), f"{r['change']:+.3f}"] for r in regressions]


def render_html(doc: Mapping[str, Any], regressions: Sequence[Mapping[str, Any]] | None = None) -> str:
    """The report as one self-contained HTML page with inline SVG charts of accuracy against cluster size."""
    esc = html.escape
    body = [f"<h1>Eval report: run {esc(doc['run_id'])}</h1>", f"<p>Scorer: {esc(doc['scorer'])}</p>"]
    if doc["simulated_note"]:
        body.append(f"<p class=note>{esc(doc['simulated_note'])}</p>")
    body += ["<h2>Leaderboard</h2>", _html_table(*_leaderboard_rows(doc)),
             "<h2>Accuracy against cluster size</h2>",
             svg_chart(doc, "claim_recall", "claim recall"), svg_chart(doc, "claim_precision", "claim precision"),
             "<h2>Cost against cluster size</h2>", _html_table(*_size_cost_rows(doc)),
             svg_cost_chart(doc, "input_tokens_mean", "prompt tokens per answer"),
             svg_cost_chart(doc, "calls_mean", "model calls per answer"),
             svg_cost_chart(doc, "wall_ms_mean", "wall time per answer (ms)"),
             "<h2>By scenario family</h2>", _html_table(*_family_rows(doc, "family")),
             "<h2>Paired comparisons</h2>", _html_table(*_comparison_rows(doc))]
    if regressions is not None:
        body += ["<h2>Regressions against the baseline</h2>",
                 _html_table(*_regression_rows(regressions)) if regressions else "<p>None.</p>"]
    body.append("<h2>Worst cases</h2>")
    for w in doc["worst_cases"]:
        body.append(f"<h3>{esc(_label(w['model'], w['simulated']))} / {esc(w['prompt'])} / {esc(w['scenario'])}</h3>")
        if w["error"] or w["schema_failure"]:
            body.append(f"<p>{esc(w['error'] or 'schema failure: no valid answer')}</p>")
        body.append(_html_table(["model's claim", "ground truth"], [list(_case_text(c)) for c in w["cases"]]))
    style = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;"
             "font-size:13px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}"
             ".note{background:#fff4ce;padding:.5em}code{font-size:12px}")
    return (f"<!doctype html><html><head><meta charset=utf-8><title>netreason eval {esc(doc['run_id'])}</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")


def _html_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    esc = html.escape
    th = "".join(f"<th>{esc(h)}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{th}</tr>{trs}</table>"


COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f")


def svg_chart(doc: Mapping[str, Any], metric: str, title: str, width: int = 640, height: int = 300) -> str:
    """A line chart (inline SVG) of `metric` per scale, one line per (model, prompt)."""
    return _line_chart(doc, lambda e, s: e["scales"].get(s, {}).get(metric), title, 1.0, width, height)


def svg_cost_chart(doc: Mapping[str, Any], key: str, title: str, width: int = 640, height: int = 300) -> str:
    """A line chart (inline SVG) of cost figure `key` (`size_costs`) per scale, from 0 to the largest value."""
    def value(e: Mapping[str, Any], s: str) -> Any:
        return e.get("size_costs", {}).get(s, {}).get(key)
    top = max((v for e in doc["leaderboard"] for s in e.get("size_costs", {}) if (v := value(e, s))), default=0)
    return _line_chart(doc, value, title, float(top) or 1.0, width, height)


def _line_chart(doc: Mapping[str, Any], value: Any, title: str, top_value: float, width: int, height: int) -> str:
    """Lines of `value(entry, scale)` against the scales, one per (model, prompt); y from 0 to `top_value`."""
    scales = sorted({int(s) for e in doc["leaderboard"] for s in e["scales"]})
    if not scales:
        return "<p>No data.</p>"
    left, top, plot_w, plot_h = 50, 30, width - 260, height - 70

    def x(i: int) -> float:
        return left + (plot_w * i / max(1, len(scales) - 1))

    def y(v: float) -> float:
        return top + plot_h * (1 - v / top_value)

    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img'>",
             f"<text x='{left}' y='18' font-size='14'>{html.escape(title)} against workloads</text>"]
    for v in (0, top_value / 2, top_value):
        parts.append(f"<line x1='{left}' x2='{left + plot_w}' y1='{y(v)}' y2='{y(v)}' stroke='#ddd'/>"
                     f"<text x='{left - 8}' y='{y(v) + 4}' font-size='11' text-anchor='end'>{v:g}</text>")
    for i, s in enumerate(scales):
        parts.append(f"<text x='{x(i)}' y='{top + plot_h + 18}' font-size='11' text-anchor='middle'>{s}</text>")
    for n, e in enumerate(doc["leaderboard"]):
        color = COLORS[n % len(COLORS)]
        points = [(x(i), y(float(v))) for i, s in enumerate(scales) if (v := value(e, str(s))) is not None]
        if points:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(f"<polyline fill='none' stroke='{color}' stroke-width='2' points='{path}'/>")
            parts += [f"<circle cx='{px:.1f}' cy='{py:.1f}' r='3' fill='{color}'/>" for px, py in points]
        label = html.escape(f"{_label(e['model'], e['simulated'])} {e['prompt']}")
        parts.append(f"<text x='{left + plot_w + 12}' y='{top + 14 * n + 8}' font-size='11' "
                     f"fill='{color}'>{label}</text>")
    parts.append("</svg>")
    return "".join(parts)
