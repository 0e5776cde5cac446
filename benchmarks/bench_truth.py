"""The targets of "one truth, computed once, in seconds", as ratios measured in one run.

    .venv/bin/python -m benchmarks.bench_truth --tier M                 # CLI ratios + per-rule table
    .venv/bin/python -m benchmarks.bench_truth --tier M --tier L --api   # + tier L, + the HTTP API ratios
    .venv/bin/python -m benchmarks.bench_truth --api-c1                  # the API overhead ratio alone (quick)

Each figure is a ratio against a baseline measured in the same run on the same input, so a shared,
busy machine slows both sides alike (each command runs --repeat times, in turns, and medians are compared):
  * `lint` and `analyze` (no model) end to end ÷ `flows --format summary` (CPU seconds of the child,
    and wall), on the tier's YAML; `spread` has each turn's CPU ratio and that of the fastest runs, to
    show how far one run strays;
  * `flows -o csv` peak RSS ÷ `flows --format summary` peak RSS;
  * `check` on examples/shop ÷ `python -c "import yaml, pydantic, click"` (median wall of 5);
  * with --api: /v1/analyze service overhead p50 at concurrency 1 ÷ bare `yaml.load_all(CSafeLoader)`
    of the same text (bench_api's 200-workload bundle, instant model), and `serve --workers 2`
    throughput at concurrency 8 ÷ `--workers 1` throughput at concurrency 8, with the CPU seconds of
    each server process, the client and the fake model during each c8 run (`cpu_s`): the workers'
    shares show whether both took requests, the client's that it was not the bottleneck, and their
    sum over the wall time how many cores the server actually got on a shared machine;
  * per review rule, seconds at each tier (in process, after load and connectivity).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from .gen_cluster import main as gen_main
from .procs import run

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "service"]


def tier_dir(workdir: Path, tier: str) -> Path:
    """The tier's YAML directory, generated once per workdir."""
    out = workdir / f"tier-{tier}"
    if not (out / "yaml").is_dir():
        gen_main(["--tier", tier, "--out", str(out), "--format", "yaml"])
    return out / "yaml"


def cpu_run(cmd: list[str], timeout: float) -> dict[str, Any]:
    """Wall, child CPU seconds and peak RSS (MB) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = run(cmd, timeout, cwd=ROOT, quiet_stdout=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    ok = res.returncode in (0, 1) and (res.error is None or res.returncode == 1)
    return {"wall_s": round(res.wall_seconds, 2), "cpu_s": round(cpu, 2), "maxrss_mb": round(res.maxrss_mb, 1),
            "ok": ok, "error": None if ok else res.error}


def cli_ratios(directory: Path, timeout: float, repeat: int = 1) -> dict[str, Any]:
    """Each command `repeat` times, in turns (a load that drifts falls on every command alike); medians."""
    d = str(directory)
    commands = {
        "flows_summary": [*CLI, "flows", d, "--format", "summary"],
        "lint": [*CLI, "lint", d, "-o", "json", "--fail-on", "never"],
        "analyze": [*CLI, "analyze", d, "-o", "json"],
        "flows_csv": [*CLI, "flows", d, "-o", "csv"],
    }
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, cmd in commands.items():
            samples[name].append(cpu_run(cmd, timeout))
    runs = {name: _median_run(got) for name, got in samples.items()}
    base = runs["flows_summary"]
    ratio = lambda a, k: round(runs[a][k] / base[k], 2) if base[k] and runs[a]["ok"] else None  # noqa: E731
    return {"runs": runs, "ratios": {
        "lint_cpu": ratio("lint", "cpu_s"), "lint_wall": ratio("lint", "wall_s"),
        "analyze_cpu": ratio("analyze", "cpu_s"), "analyze_wall": ratio("analyze", "wall_s"),
        "flows_csv_rss": ratio("flows_csv", "maxrss_mb")}, "spread": _spread(samples)}


def _spread(samples: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """How far one run's ratio can stray: each turn's CPU ratio (the commands of a turn ran back to back,
    sorted), and the ratio of the fastest runs (noise from other tenants only ever adds time)."""
    flows = [s["cpu_s"] for s in samples["flows_summary"]]
    out: dict[str, Any] = {}
    for name in ("lint", "analyze"):
        mine = [s["cpu_s"] for s in samples[name]]
        out[f"{name}_cpu_per_turn"] = sorted(round(m / f, 2) for m, f in zip(mine, flows) if f)
        out[f"{name}_cpu_of_fastest"] = round(min(mine) / min(flows), 2) if min(flows) else None
    return out


def _median_run(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """The median wall, CPU and peak RSS of a command's runs (all of them kept under `samples`)."""
    ok = all(s["ok"] for s in samples)
    out = {k: round(statistics.median(s[k] for s in samples), 2) for k in ("wall_s", "cpu_s", "maxrss_mb")}
    return {**out, "ok": ok, "error": next((s["error"] for s in samples if s["error"]), None),
            "samples": [{k: s[k] for k in ("wall_s", "cpu_s", "maxrss_mb")} for s in samples]}


def check_ratio(repeats: int = 5) -> dict[str, Any]:
    def wall(cmd: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start

    base = [wall([sys.executable, "-c", "import yaml, pydantic, click"]) for _ in range(repeats)]
    check = [wall([*CLI, "check", "examples/shop", "--from", "shop/web", "--to", "shop/api", "--port", "8080"])
             for _ in range(repeats)]
    b, c = statistics.median(base), statistics.median(check)
    return {"imports_s": round(b, 3), "check_s": round(c, 3), "ratio": round(c / b, 2)}


def rule_table(directory: Path) -> dict[str, float]:
    """Seconds per review rule on the tier, each run once in the order `lint_report` runs them.

    As the CLI runs them: the loaded bundle frozen out of the cyclic collector's scans, the rules and
    fixes with the collector paused (`lint_report`), so a collection does not land on whichever rule
    happens to allocate when it falls due.
    """
    import gc

    import verifier
    from verifier.gcpause import gc_paused

    texts: dict[str, str] = {}
    times: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        start = time.process_time()
        value = fn()
        times[name] = round(time.process_time() - start, 3)
        return value

    bundle = timed("(load)", lambda: verifier.load_bundle([directory], texts=texts))
    gc.freeze()  # as `netreason lint` does after loading
    try:
        conn = timed("(connectivity)", lambda: verifier.analyze(bundle))
        with gc_paused():
            times["(findings)"] = _rules(bundle, conn, texts, timed)
    finally:
        gc.unfreeze()
    return times


def _rules(bundle: Any, conn: Any, texts: dict[str, str], timed: Callable[[str, Callable[[], Any]], Any]) -> int:
    """Time each rule, then the fixes, as `lint_report` runs them; the number of findings."""
    from verifier.review.findings import _at_field_lines, _with_fixes
    from verifier.review.fixes import attach_fixes
    from verifier.review.rules.admin import admin_findings
    from verifier.review.rules.breadth import breadth_findings
    from verifier.review.rules.invalid import invalid_object_findings
    from verifier.review.rules.context import LintContext
    from verifier.review.rules.coverage import coverage_rows, default_deny_findings, legacy_annotation_findings
    from verifier.review.rules.deps import dependency_findings
    from verifier.review.rules.dns import DnsView, dns_findings, ipblock_findings
    from verifier.review.rules.platform import cni_findings, hostname_findings
    from verifier.review.rules.selection import namespace_label_findings, selects_nothing_findings
    from verifier.review.rules.sides import side_findings
    from verifier.review.rules.unevaluated import unevaluated_findings

    ctx = LintContext(bundle, conn, (), texts, snippets=False)  # as lint_report builds it when it adds fixes
    dns = timed("dns view", lambda: DnsView(ctx))
    rows = timed("coverage", lambda: coverage_rows(ctx))
    found: list[Any] = []
    for name, fn in [
        ("dns-egress-missing", lambda: dns_findings(ctx, dns)), ("ipblock", lambda: ipblock_findings(ctx, dns)),
        ("sides", lambda: side_findings(ctx)), ("breadth", lambda: breadth_findings(ctx)),
        # one look at each policy serves both (`selection._selection`): the first pays, the second reads the memo
        ("namespace-label-missing + policy-selects-nothing", lambda: namespace_label_findings(ctx)),
        ("(policy-selects-nothing, remembered)", lambda: selects_nothing_findings(ctx)),
        ("no-default-deny", lambda: default_deny_findings(ctx, rows)),
        ("legacy-annotation", lambda: legacy_annotation_findings(ctx)), ("cni", lambda: cni_findings(ctx)),
        ("hostname-intent", lambda: hostname_findings(ctx)), ("unevaluated", lambda: unevaluated_findings(ctx)),
        ("invalid-object", lambda: invalid_object_findings(ctx)), ("admin", lambda: admin_findings(ctx)),
    ]:
        found += timed(name, fn)
    found += timed("dependency-broken", lambda: dependency_findings(ctx, found))
    fixset = timed("(fixes: converge)", lambda: _with_fixes(ctx, found))
    found = timed("(fixes: attach)", lambda: attach_fixes(found, fixset))
    timed("(field lines)", lambda: _at_field_lines(found, texts, bundle))
    return len(found)


def _parse_ms(text: str) -> float:
    """Median milliseconds of bare `yaml.load_all(CSafeLoader)` on `text` (the overhead's yardstick)."""
    loads = []
    for _ in range(7):
        start = time.perf_counter()
        list(yaml.load_all(text, Loader=yaml.CSafeLoader))
        loads.append(time.perf_counter() - start)
    return statistics.median(loads) * 1000


def api_ratios(requests: int, *, c1_only: bool = False) -> dict[str, Any]:
    """The API targets; `c1_only`: the overhead ratio alone (one worker, concurrency 1), for iterating."""
    from . import bench_api

    text = bench_api.bundle_yaml()
    body = json.dumps({"manifests": text}).encode()
    parse_ms = _parse_ms(text)
    out: dict[str, Any] = {"yaml_load_all_ms": round(parse_ms, 1)}
    for workers in (1,) if c1_only else (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            base, procs = bench_api.start_processes(Path(tmp), workers)
            try:
                asyncio.run(bench_api.run_load(base, body, 10, 2))
                if workers == 1:
                    one = bench_api.summarize(*asyncio.run(bench_api.run_load(base, body, requests, 1)), 1)
                    out["concurrency_1"] = one
                    out["parse_ms_after_c1"] = round(_parse_ms(text), 1)
                if c1_only:
                    continue
                with cpu_split(procs[0].pid, procs[1].pid) as split:
                    load = asyncio.run(bench_api.run_load(base, body, requests, 8))
                out[f"workers_{workers}_c8"] = {**bench_api.summarize(*load, 8), "cpu_s": split}
            finally:
                for proc in procs:
                    proc.terminate()
                    proc.wait(timeout=10)
    out["overhead_p50_over_parse"] = round(out["concurrency_1"]["overhead_ms"]["p50"] / parse_ms, 2)
    out["load_average_1m"] = round(os.getloadavg()[0], 2)
    if c1_only:
        return out
    out["workers2_over_workers1_rps"] = round(out["workers_2_c8"]["rps"] / out["workers_1_c8"]["rps"], 2)
    return out


@contextlib.contextmanager
def cpu_split(server: int, fake: int) -> Iterator[dict[str, Any]]:
    """CPU seconds over the block of each server process (the workers are the server's children), this
    client and the fake model, with the load average: a ratio of two worker counts means something only
    when the workers share the requests and the machine had the cores to give them."""
    def cpu(pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def children(pid: int) -> list[int]:
        try:
            return [int(c) for t in Path(f"/proc/{pid}/task").iterdir()
                    for c in (t / "children").read_text().split()]
        except OSError:
            return []

    pids = [server, *children(server)]
    before = {p: cpu(p) for p in pids}
    fake_before, client_before = cpu(fake), time.process_time()
    split: dict[str, Any] = {}
    yield split
    split["server_processes"] = [round(cpu(p) - before[p], 2) for p in pids]
    split["client"] = round(time.process_time() - client_before, 2)
    split["fake_model"] = round(cpu(fake) - fake_before, 2)
    split["load_average_1m"] = round(os.getloadavg()[0], 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tier", action="append", default=[], help="tiers to run (default M)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "netreason-bench-truth")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--api", action="store_true", help="also measure the HTTP API ratios (bench_api's bundle)")
    parser.add_argument("--requests", type=int, default=60, help="API requests per load run")
    parser.add_argument("--api-c1", action="store_true",
                        help="only the API overhead ratio (one worker, concurrency 1): quick, for iterating")
    parser.add_argument("--no-rules", action="store_true", help="skip the per-rule table")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each CLI command, in turns; the medians are compared (a shared machine is noisy)")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.api_c1:
        quick = {"cpus": os.cpu_count(), "api": api_ratios(args.requests, c1_only=True)}
        print(json.dumps(quick, indent=2))
        if args.out:
            args.out.write_text(json.dumps(quick, indent=2) + "\n")
        return 0
    report: dict[str, Any] = {"cpus": os.cpu_count(), "check": check_ratio()}
    for tier in args.tier or ["M"]:
        directory = tier_dir(args.workdir, tier)
        report[f"tier_{tier}"] = cli_ratios(directory, args.timeout, args.repeat)
        if not args.no_rules:
            report[f"tier_{tier}"]["rules_cpu_s"] = rule_table(directory)
        print(json.dumps({tier: report[f"tier_{tier}"]}, indent=2), flush=True)
    if args.api:
        report["api"] = api_ratios(args.requests)
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
