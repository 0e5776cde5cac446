"""Time the verifier on synthetic clusters, tier by tier.

    .venv/bin/python benchmarks/bench_verifier.py --tier M
    .venv/bin/python benchmarks/bench_verifier.py --all

For each tier: generate the cluster (subprocess), parse the same files with bare
CSafeLoader / json (subprocess each), then run parse -> compile -> compute -> summary in a
fresh interpreter per input format, and, when network-config-analyzer is installed, time
its connectivity map on the same YAML. Prints a table and writes benchmarks/out/*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_report import evaluate, render  # noqa: E402
from benchmarks.gen_cluster import DEFAULT_SEED  # noqa: E402
from benchmarks.procs import ProcResult, find_nca, run  # noqa: E402
from benchmarks.tiers import TIER_ORDER, TIERS  # noqa: E402

OUT_DIR = ROOT / "benchmarks" / "out"


def _generate(tier: str, seed: int, dest: Path, timeout: float) -> dict[str, Any]:
    """Generate (or reuse) the tier's manifests under `dest`; returns stats.json plus timing."""
    stats_path = dest / "stats.json"
    if stats_path.exists():
        meta = json.loads(stats_path.read_text())
        if meta.get("seed") == seed and meta.get("tier", {}).get("name") == tier:
            meta["generate"] = {"reused": True}
            return meta
    cmd = [sys.executable, "-m", "benchmarks.gen_cluster", "--tier", tier, "--seed", str(seed), "--out", str(dest)]
    proc = run(cmd, timeout, cwd=ROOT, quiet_stdout=True)
    if not proc.ok:
        raise RuntimeError(f"generating tier {tier} failed: {proc.error}")
    meta = json.loads(stats_path.read_text())
    meta["generate"] = proc.as_dict()
    return meta


def _worker(mode: str, manifests: Path, timeout: float, traced: bool) -> dict[str, Any]:
    """Run one phase_worker measurement in a fresh interpreter."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        result_path = Path(fh.name)
    cmd = [sys.executable, "-m", "benchmarks.phase_worker", mode, str(manifests), str(result_path)]
    proc = run(cmd + (["--tracemalloc"] if traced else []), timeout, cwd=ROOT)
    record: dict[str, Any] = {"process": proc.as_dict()}
    if proc.ok:
        record.update(json.loads(result_path.read_text()))
    result_path.unlink(missing_ok=True)
    return record


def _nca(nca: str, manifests: Path, timeout: float) -> dict[str, Any]:
    """Time NCA's connectivity map (CSV, written to a temp file) on the same YAML."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [nca, "--connectivity", str(manifests), "-r", str(manifests), "-o", "csv", "-f", f"{tmp}/out.csv"]
        proc: ProcResult = run(cmd, timeout, cwd=ROOT, quiet_stdout=True)
    return {"process": proc.as_dict(),
            "command": " ".join([*cmd[:1], "--connectivity", "<dir>", "-r", "<dir>", "-o", "csv"])}


def bench_tier(tier: str, args: argparse.Namespace, workdir: Path, nca: str | None) -> dict[str, Any]:
    dest = workdir / tier
    record: dict[str, Any] = {"tier": tier, "seed": args.seed}
    meta = _generate(tier, args.seed, dest, args.timeout)
    record.update(shape=meta["shape"], generate=meta["generate"])
    for fmt in args.formats:
        record[f"baseline_{fmt}"] = _worker(f"baseline-{fmt}", dest / fmt, args.timeout, False)
        record[f"netreason_{fmt}"] = _worker("netreason", dest / fmt, args.timeout, args.tracemalloc)
        print(f"  {tier} {fmt}: {_brief(record[f'netreason_{fmt}'])}", file=sys.stderr)
    if nca and tier in args.nca_tiers and "yaml" in args.formats:
        record["nca"] = _nca(nca, dest / "yaml", args.timeout)
    record["evaluation"] = evaluate(tier, record)
    return record


def _brief(run_record: dict[str, Any]) -> str:
    if "phases" not in run_record:
        return f"FAILED: {run_record['process'].get('error')}"
    return ", ".join(f"{p['phase']} {p['seconds']:.2f}s" for p in run_record["phases"])


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tier", action="append", choices=TIER_ORDER, default=[], help="repeatable")
    parser.add_argument("--all", action="store_true", help="every tier, S to XL")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--formats", default="yaml,json", help="comma list of yaml,json")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per subprocess")
    parser.add_argument("--workdir", type=Path, help="keep generated clusters here (reused on rerun)")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    parser.add_argument("--nca", default="auto", help="path to NCA's `nca`, `auto` to look for it, `none`")
    parser.add_argument("--nca-tiers", default="S,S2", help="tiers to time NCA on")
    args = parser.parse_args(argv)
    args.tiers = list(TIER_ORDER) if args.all else [t for t in TIER_ORDER if t in args.tier]
    if not args.tiers:
        parser.error("give --tier (repeatable) or --all")
    args.formats = [f for f in args.formats.split(",") if f]
    args.nca_tiers = set(args.nca_tiers.split(","))
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    nca = find_nca(ROOT) if args.nca == "auto" else (None if args.nca == "none" else args.nca)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="netreason-bench-"))
    records = []
    try:
        for tier in args.tiers:
            print(f"tier {tier}: {TIERS[tier]}", file=sys.stderr)
            records.append(bench_tier(tier, args, workdir, nca))
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    report = {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "python": sys.version.split()[0],
              "cpus": os.cpu_count(), "nca": nca, "tiers": records}
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2))
    print(render(records))
    print(f"\nwrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
