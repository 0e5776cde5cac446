"""The eval tiers (300, 1,000, 5,000 workloads) through `netreason eval run`: time, memory, accuracy and cost per tier.

    .venv/bin/python benchmarks/bench_eval_tiers.py --workdir /tmp/nr-tiers [--tiers 300,1000,5000]
        [--models simulated:oracle] [--prompts flows@2,breakage@1,dns@1] [--budget CONTEXT:OUTPUT]

Each tier is run in a fresh interpreter (`eval run --tiers N --fresh`, one SQLite file for all), timed (wall and
CPU seconds) and measured (peak resident memory of that process, from `wait4`). Then one run over all the tiers
reuses those answers from a shared store (cached: no model is asked again) and writes the report with accuracy
and cost against size as Markdown, HTML and JSON under the workdir. Simulated models' figures are labelled
simulated. Times depend on the machine and its load: read the ratios between tiers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NETREASON = [sys.executable, "-c", "from service.cli import main; main()"]


def measured(args: list[str]) -> tuple[dict[str, float], str, str, int]:
    """Run netreason with `args`: ({wall_s, cpu_s, max_rss_mb} of that process alone, stdout, stderr, exit code)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([*NETREASON, *args], cwd=ROOT, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage (peak RSS included)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    figures = {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
               "max_rss_mb": round(usage.ru_maxrss / 1024, 1)}
    return figures, stdout, stderr, proc.returncode


def eval_run_args(args: argparse.Namespace, tiers: list[int], db: str, *extra: str) -> list[str]:
    cmd = ["eval", "run", "--models", args.models, "--prompts", args.prompts, "--tiers", ",".join(map(str, tiers)),
           "--db", db, "--format", "json", *extra]
    return cmd + (["--budget", args.budget] if args.budget else [])


def run_tier(tier: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    db = f"sqlite:///{workdir / 'tiers.db'}"  # shared: the all-tier run below reuses these answers
    figures, out, err, code = measured(eval_run_args(args, [tier], db, "--fresh"))
    if code != 0:
        raise SystemExit(f"tier {tier} failed ({code}): {err[-2000:]}")
    doc = json.loads(out)
    entries = [{"model": e["model"], "prompt": e["prompt"], "simulated": e["simulated"],
                "claim_precision": e["claim_precision"], "claim_recall": e["claim_recall"],
                **e["size_costs"][str(tier)]} for e in doc["leaderboard"]]
    return {"tier": tier, **figures, "responses": doc["responses"], "errors": doc["errors"], "entries": entries}


def write_report(tiers: list[int], args: argparse.Namespace, workdir: Path) -> list[Path]:
    """One run over every tier in a shared store (answers cached after the first time), and its reports."""
    db = f"sqlite:///{workdir / 'tiers.db'}"
    _, out, err, code = measured(eval_run_args(args, tiers, db))
    if code != 0:
        raise SystemExit(f"the all-tier run failed ({code}): {err[-2000:]}")
    run_id = json.loads(out)["run_id"]
    paths = []
    for fmt, ext in (("markdown", "md"), ("html", "html"), ("json", "json")):
        path = workdir / f"eval-tiers.{ext}"
        done = subprocess.run([*NETREASON, "eval", "report", run_id, "--db", db, "--format", fmt,
                               "--output-file", str(path)], cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"eval report failed: {done.stderr[-2000:]}")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--tiers", default="300,1000,5000")
    parser.add_argument("--models", default="simulated:oracle")
    parser.add_argument("--prompts", default="flows@2,breakage@1,dns@1")
    parser.add_argument("--budget", default=None)
    parser.add_argument("--no-report", action="store_true", help="Skip the all-tier run and its report.")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    tiers = [int(t) for t in args.tiers.split(",")]
    results = []
    for tier in tiers:
        result = run_tier(tier, args, args.workdir)
        results.append(result)
        print(json.dumps(result), flush=True)
    base = results[0]
    for r in results:
        r["vs_first"] = {k: round(r[k] / base[k], 2) if base[k] else None for k in ("wall_s", "cpu_s", "max_rss_mb")}
    summary = {"schema": "netreason.bench-eval-tiers/v1", "models": args.models, "prompts": args.prompts,
               "simulated": args.models.startswith("simulated:"), "tiers": results}
    (args.workdir / "bench-eval-tiers.json").write_text(json.dumps(summary, indent=2))
    if not args.no_report:
        for path in write_report(tiers, args, args.workdir):
            print(f"wrote {path}")
    print(json.dumps([{"tier": r["tier"], **{k: r[k] for k in ("wall_s", "cpu_s", "max_rss_mb")},
                       "vs_first": r["vs_first"]} for r in results], indent=2))


if __name__ == "__main__":
    main()
