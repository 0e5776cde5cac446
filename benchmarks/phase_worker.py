"""One measurement, in a fresh interpreter: the harness runs this as a subprocess.

    python -m benchmarks.phase_worker netreason <manifest dir> <result.json> [--tracemalloc]
    python -m benchmarks.phase_worker baseline-yaml <dir> <result.json>
    python -m benchmarks.phase_worker baseline-json <dir> <result.json>

`netreason` times load_bundle, compile_bundle, compute_connectivity and summary();
the baselines only parse the same files (CSafeLoader / json) so parse time has a yardstick.
Peak RSS (ru_maxrss) is sampled after every phase; with --tracemalloc, the traced peak too.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _maxrss_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class GcClock:
    """Time spent in the cyclic garbage collector (it grows with the live heap, so a
    phase can slow down because an earlier phase kept many objects alive)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, event: str, info: dict[str, Any]) -> None:
        if event == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.collections += 1


class Phases:
    """Times named steps and records peak memory and GC time after each."""

    def __init__(self, traced: bool) -> None:
        self.traced = traced
        self.rows: list[dict[str, Any]] = []
        self.gc = GcClock()

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        if self.traced:
            tracemalloc.reset_peak()
        gc_before, collections_before = self.gc.seconds, self.gc.collections
        started = time.perf_counter()
        value = fn()
        row: dict[str, Any] = {"phase": name, "seconds": time.perf_counter() - started, "maxrss_mb": _maxrss_mb(),
                               "gc_seconds": self.gc.seconds - gc_before,
                               "gc_collections": self.gc.collections - collections_before}
        if self.traced:
            row["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        self.rows.append(row)
        return value


def _files(root: Path, suffix: str) -> list[Path]:
    return sorted(root.rglob(f"*{suffix}"))


def baseline_yaml(root: Path, phases: Phases) -> dict[str, Any]:
    import yaml

    def parse() -> int:
        n = 0
        for path in _files(root, ".yaml"):
            with path.open("rb") as fh:
                n += sum(1 for doc in yaml.load_all(fh, Loader=yaml.CSafeLoader) if doc)
        return n

    return {"documents": phases.run("parse", parse)}


def baseline_json(root: Path, phases: Phases) -> dict[str, Any]:
    def parse() -> int:
        return sum(len(json.loads(p.read_bytes()).get("items", ())) for p in _files(root, ".json"))

    return {"documents": phases.run("parse", parse)}


def netreason(root: Path, phases: Phases) -> dict[str, Any]:
    verifier = phases.run("import", lambda: __import__("verifier"))
    bundle = phases.run("parse", lambda: verifier.load_bundle([str(root)]))
    compiled = phases.run("compile", lambda: verifier.compile_bundle(bundle))
    connectivity = phases.run("compute", lambda: verifier.compute_connectivity(compiled))
    summary = phases.run("summary", connectivity.summary)
    return {"summary": summary, "issues": len(bundle.issues), "skipped_kinds": dict(bundle.skipped_kinds)}


MODES: dict[str, Callable[[Path, Phases], dict[str, Any]]] = {
    "netreason": netreason,
    "baseline-yaml": baseline_yaml,
    "baseline-json": baseline_json,
}


def main(argv: list[str]) -> int:
    mode, root, out = argv[0], Path(argv[1]), Path(argv[2])
    traced = "--tracemalloc" in argv[3:]
    if traced:
        tracemalloc.start()
    phases = Phases(traced)
    started = time.perf_counter()
    result = MODES[mode](root, phases)
    result.update(mode=mode, phases=phases.rows, total_seconds=time.perf_counter() - started,
                  maxrss_mb=_maxrss_mb(), tracemalloc=traced)
    out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
