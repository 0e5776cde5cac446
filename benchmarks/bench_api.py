"""Load benchmark of POST /v1/analyze: requests per second, latency percentiles, and the service's own overhead.

    .venv/bin/python -m benchmarks.bench_api --requests 400 --concurrency 8

Three processes on loopback: the fake model server (answers instantly), `netreason serve` (SQLite in a
temp dir, NETREASON_MODEL aimed at the fake), and this one, which sends a fixed budget of requests,
each a 200-workload bundle as YAML text. Overhead = client-side latency minus the model call's own
latency as the service reports it (`model.usage.latency_ms`); the verifier's share of it is
`ground_truth.seconds`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from .gen_cluster import generate
from .tiers import TierSpec

ROOT = Path(__file__).resolve().parents[1]
#: 200 workloads (pods owners) in 20 namespaces, with the generator's realistic policy mix.
BUNDLE_TIER = TierSpec("API200", pods=600, namespaces=20, policies=300, workloads=200)
FAKE_ANSWER = {"summary": "benchmark answer", "claims": []}


@dataclass(frozen=True)
class Sample:
    status: int
    seconds: float
    model_ms: float
    truth_s: float


def bundle_yaml() -> str:
    """The 200-workload bundle as one multi-document YAML text (deterministic)."""
    return yaml.safe_dump_all(generate(BUNDLE_TIER).all_docs(), sort_keys=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up within {timeout_s}s")


def serve_fake_provider() -> None:
    """Serve the fake model (instant answers) on a free port; print its OpenAI base URL; run until killed."""
    from tests.fakes.provider_server import FakeProviderServer

    server = FakeProviderServer(responder=lambda _request: FAKE_ANSWER).start()
    print(server.openai_base_url, flush=True)
    threading.Event().wait()


def start_processes(workdir: Path, workers: int = 1,
                    extra_env: dict[str, str] | None = None) -> tuple[str, list[subprocess.Popen[bytes]]]:
    """Start the fake model and the API; return the API's base URL and both processes."""
    fake = subprocess.Popen([sys.executable, "-m", "benchmarks.bench_api", "--fake-provider"], cwd=ROOT,
                            stdout=subprocess.PIPE)
    assert fake.stdout is not None
    fake_url = fake.stdout.readline().decode().strip()
    api_port = _free_port()
    # No NETREASON_API_TOKENS at all (set but blank is refused): loopback only, so no auth is needed.
    env = {**{k: v for k, v in os.environ.items() if k != "NETREASON_API_TOKENS"}, **(extra_env or {}),
           "OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": fake_url,
           "NETREASON_MODEL": "openai:bench-model", "NETREASON_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}"}
    api = subprocess.Popen([sys.executable, "-m", "service", "serve", "--port", str(api_port), "--log-level", "warning",
                            "--workers", str(workers)], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{api_port}"
    _wait_http(f"{base}/healthz", api)
    return base, [api, fake]


async def _one(client: httpx.AsyncClient, body: bytes) -> Sample:
    start = time.perf_counter()
    response = await client.post("/v1/analyze", content=body, headers={"content-type": "application/json"})
    seconds = time.perf_counter() - start
    if response.status_code != 200:
        return Sample(response.status_code, seconds, 0.0, 0.0)
    doc = response.json()
    model = doc.get("model") or {}
    if model.get("error"):
        raise RuntimeError(f"the model call failed during the benchmark: {model['error']}")
    return Sample(200, seconds, float(model.get("usage", {}).get("latency_ms", 0.0)),
                  float(doc["ground_truth"]["seconds"]))


async def run_load(base: str, body: bytes, requests: int, concurrency: int) -> tuple[list[Sample], float]:
    """Send `requests` requests with at most `concurrency` in flight; return the samples and wall seconds."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    samples: list[Sample] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                samples.append(await _one(client, body))

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return samples, time.perf_counter() - start


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def summarize(samples: list[Sample], wall: float, concurrency: int) -> dict[str, Any]:
    """Throughput, latency percentiles (ms) and the overhead split, for one load run."""
    ok = [s for s in samples if s.status == 200]
    lat = [s.seconds * 1000 for s in ok]
    overhead = [s.seconds * 1000 - s.model_ms for s in ok]
    truth = [s.truth_s * 1000 for s in ok]
    return {
        "concurrency": concurrency, "requests": len(samples), "errors": len(samples) - len(ok),
        "rps": round(len(ok) / wall, 2),
        "latency_ms": {f"p{q}": round(_pct(lat, q), 1) for q in (50, 95, 99)},
        "model_ms_median": round(statistics.median(s.model_ms for s in ok), 2),
        "overhead_ms": {"p50": round(_pct(overhead, 50), 1), "p95": round(_pct(overhead, 95), 1)},
        "verifier_ms_median": round(statistics.median(truth), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400, help="request budget per run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--workers", type=int, default=1, help="`netreason serve --workers`")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON")
    parser.add_argument("--fake-provider", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fake_provider:
        serve_fake_provider()
        return 0
    text = bundle_yaml()
    body = json.dumps({"manifests": text}).encode()
    with tempfile.TemporaryDirectory() as tmp:
        base, procs = start_processes(Path(tmp), args.workers)
        try:
            asyncio.run(run_load(base, body, 10, 2))  # warm up: imports, SDK client, connection pools
            results = [summarize(*asyncio.run(run_load(base, body, args.requests, c)), c) for c in args.concurrency]
        finally:
            stop_processes(procs)
    report = {"workers": args.workers, "cpus": os.cpu_count(),
              "bundle": {"workloads": BUNDLE_TIER.workloads, "pods": BUNDLE_TIER.pods,
                         "policies": BUNDLE_TIER.policies, "request_bytes": len(body)}, "runs": results}
    emit_report(report, args.out)
    return 0


def stop_processes(procs: list[subprocess.Popen[bytes]]) -> None:
    """Terminate the benchmark's processes and wait for them."""
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def emit_report(report: dict[str, Any], out: Path | None) -> None:
    """Print the figures as JSON, and write them to `out` when given."""
    print(json.dumps(report, indent=2))
    if out:
        out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
