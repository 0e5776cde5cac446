"""`netreason analyze` on tier M with `simulated:oracle`, asked in slices, against `netreason lint` on the same input.

    .venv/bin/python benchmarks/bench_slicing.py --workdir /tmp/nr-slicing [--prompt breakage@1 --prompt flows@2]

Generates tier M (or reuses `--cluster DIR` of YAML), writes a seeded dependencies file (each serving workload
used by its namespace neighbour, every fourth namespace also depending on a workload seven namespaces on, so
slices cross namespaces), then runs both commands in fresh interpreters and reports: slices and the largest
slice against the default budget, verdicts, dependency recall, and the time outside the model as a ratio to
`lint` (CPU seconds of the process; the simulated model itself takes no measurable time). Figures depend on
the machine: read the ratios.
"""

from __future__ import annotations

import itertools
import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NETREASON = [sys.executable, "-c", "from service.cli import main; main()"]


def write_deps(cluster: Path, out: Path, seed: int = 7) -> int:
    """A deterministic dependencies file for the cluster in `cluster` (YAML); returns how many it holds."""
    import verifier

    bundle = verifier.load_bundle([str(cluster)])
    rng = random.Random(seed)
    by_ns: dict[str, list] = {}
    for w in sorted(bundle.workloads, key=lambda w: w.id):
        if w.ports and w.namespace not in ("kube-system",):
            by_ns.setdefault(w.namespace, []).append(w)
    names = sorted(by_ns)
    lines = []
    for i, ns in enumerate(names):
        ws = by_ns[ns]
        for a, b in itertools.pairwise(ws):
            lines.append(_dep(a, b))
        if i % 4 == 0 and len(names) > 7:
            far = by_ns[names[(i + 7) % len(names)]]
            lines.append(_dep(ws[0], rng.choice(far)))
    out.write_text("".join(lines), encoding="utf-8")
    return len(lines)


def _dep(a, b) -> str:
    p = b.ports[0]
    return (f"- {{from: {a.name}, namespace: {a.namespace}, to: {b.namespace}/{b.name}, port: {p.port}, protocol: "
            f"{p.protocol}}}\n")


def timed(args: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, CPU seconds of the child) and the finished process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([*NETREASON, *args], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done


def run(cluster: Path, deps: Path, prompts: list[str]) -> dict:
    lint_wall, lint_cpu, lint = timed(["lint", str(cluster), "--deps", str(deps), "-o", "json", "--fail-on", "never"])
    if lint.returncode != 0:
        raise SystemExit(f"lint failed ({lint.returncode}): {lint.stderr[-2000:]}")
    out = {"lint": {"wall_s": round(lint_wall, 2), "cpu_s": round(lint_cpu, 2)}, "analyze": {}}
    for prompt in prompts:
        wall, cpu, done = timed(["analyze", str(cluster), "--deps", str(deps), "-m", "simulated:oracle",
                                 "--prompt", prompt, "-o", "json", "--no-progress"])
        if done.returncode != 0:
            raise SystemExit(f"analyze {prompt} failed ({done.returncode}): {done.stderr[-2000:]}")
        doc = json.loads(done.stdout)
        out["analyze"][prompt] = _figures(doc, prompt, wall, cpu, lint_cpu, lint_wall)
    return out


def _figures(doc: dict, prompt: str, wall: float, cpu: float, lint_cpu: float, lint_wall: float) -> dict:
    model = doc["model"]
    slices = model["slices"]
    budget = model["budget"]
    model_s = sum(s["latency_ms"] for s in slices) / 1000
    totals = doc["totals"]
    gt = doc["ground_truth"]
    truth_items = len(gt["dependencies_broken"] if prompt.startswith("breakage") else gt["dependencies"])
    return {
        "slices": len(slices), "budget": budget,
        "largest_slice_tokens": max(s["prompt_tokens"] for s in slices),
        "slices_over_budget": sum(1 for s in slices if s["over_budget"]),
        "claims": totals.get("claims"), "confirmed": totals.get("confirmed"), "missed": totals.get("missed"),
        "recall": None if not truth_items else round((truth_items - totals.get("missed", 0)) / truth_items, 4),
        "dependencies": len(doc["ground_truth"]["dependencies"]),
        "dependencies_broken": len(doc["ground_truth"]["dependencies_broken"]),
        "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "model_s": round(model_s, 3),
        "cpu_ratio_to_lint": round(cpu / lint_cpu, 2), "wall_ratio_to_lint": round((wall - model_s) / lint_wall, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/nr-slicing"))
    parser.add_argument("--cluster", type=Path, help="a generated cluster's yaml/ directory (default: generate tier M)")
    parser.add_argument("--prompt", action="append", help="prompt(s) to ask (default: breakage@1 and flows@2)")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    cluster = args.cluster
    if cluster is None:
        subprocess.run([sys.executable, "-m", "benchmarks.gen_cluster", "--tier", "M", "--out", str(args.workdir / "m"),
                        "--format", "yaml"], check=True, cwd=ROOT)
        cluster = args.workdir / "m" / "yaml"
    deps = args.workdir / "deps.yaml"
    count = write_deps(cluster, deps)
    print(f"{count} dependencies -> {deps}", file=sys.stderr)
    result = run(cluster, deps, args.prompt or ["breakage@1", "flows@2"])
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
