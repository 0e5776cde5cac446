"""A burst of concurrent POST /v1/analyze against one `netreason serve`, and how liveness holds up.

    .venv/bin/python -m benchmarks.bench_load --requests 200 --concurrency 200

`netreason serve` (SQLite in a temp dir, NETREASON_MODEL aimed at the fake model server, which answers at
once) gets `--requests` analyses of a 50-workload bundle, `--concurrency` at a time, while a prober asks
`/healthz` and `/readyz` every 50 ms. Reported: throughput of answered analyses, their latency p50/p95/p99,
how many were shed (503 + Retry-After, the bounded pool's admission control), the probes' latency during
the burst, and the server's RSS before and after (from /proc). Extra `--env NAME=VALUE` pairs configure the
server (NETREASON_MAX_ACTIVE_ANALYSES, NETREASON_MAX_QUEUED_ANALYSES, NETREASON_WORK_THREADS).
Timings depend on the machine: compare runs on one machine, as ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from .bench_api import _pct, emit_report, start_processes, stop_processes
from .gen_cluster import generate
from .tiers import TierSpec

#: 50 workloads (pod owners) in 8 namespaces, with the generator's policy mix.
BUNDLE_TIER = TierSpec("LOAD50", pods=120, namespaces=8, policies=60, workloads=50)
PROBE_INTERVAL_S = 0.05


def bundle_body() -> bytes:
    """The request body: the 50-workload bundle as YAML text, not saved (the burst measures analysis)."""
    text = yaml.safe_dump_all(generate(BUNDLE_TIER).all_docs(), sort_keys=False)
    return json.dumps({"manifests": text, "save": False}).encode()


def rss_mb(pid: int) -> float:
    """Resident set size of process `pid` in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _probe_process(base: str, path: str, stop: Any, out: Any) -> None:
    """GET `path` every PROBE_INTERVAL_S until `stop` is set; send the latencies (ms; inf = not 200) to `out`.

    A process of its own, as a kubelet is: probes timed on the burst's own event loop would also count the
    client's time spent reading 200 large responses.
    """
    host, _, port = base.removeprefix("http://").partition(":")
    samples: list[float] = []
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    while not stop.is_set():
        start = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        samples.append((time.perf_counter() - start) * 1000 if response.status == 200 else float("inf"))
        time.sleep(PROBE_INTERVAL_S)
    conn.close()
    out.send(samples)


def _start_probe(base: str, path: str, stop: Any) -> tuple[Any, Any]:
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_probe_process, args=(base, path, stop, send), daemon=True)
    proc.start()
    return proc, receive


async def burst(base: str, body: bytes, requests: int, concurrency: int) -> dict[str, Any]:
    """Fire the burst with probes running; return the raw samples."""
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4)
    statuses: list[int] = []
    latencies: list[float] = []
    sem = asyncio.Semaphore(concurrency)
    stop = multiprocessing.get_context("spawn").Event()
    probes = [_start_probe(base, "/healthz", stop), _start_probe(base, "/readyz", stop)]
    await asyncio.sleep(1.0)  # the probe processes start (spawn imports this module) before the burst
    async with httpx.AsyncClient(base_url=base, timeout=600, limits=limits) as client:
        async def one() -> None:
            async with sem:
                start = time.perf_counter()
                r = await client.post("/v1/analyze", content=body, headers={"content-type": "application/json"})
                statuses.append(r.status_code)
                if r.status_code == 200:
                    latencies.append((time.perf_counter() - start) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(requests)))
        wall = time.perf_counter() - start
    stop.set()
    health, ready = ([*receive.recv()] for _proc, receive in probes)
    for proc, _ in probes:
        proc.join(timeout=30)
    return {"statuses": statuses, "latencies": latencies, "health": health, "ready": ready, "wall": wall}


def summarize(raw: dict[str, Any], requests: int, concurrency: int) -> dict[str, Any]:
    lat, wall = raw["latencies"], raw["wall"]
    counts: dict[str, int] = {}
    for s in raw["statuses"]:
        counts[str(s)] = counts.get(str(s), 0) + 1

    def probe(values: list[float]) -> dict[str, Any]:
        return {"samples": len(values), "p50_ms": round(_pct(values, 50), 1),
                "p95_ms": round(_pct(values, 95), 1), "p99_ms": round(_pct(values, 99), 1),
                "max_ms": round(max(values), 1), "over_100ms": sum(v > 100 for v in values)}

    return {
        "requests": requests, "concurrency": concurrency, "statuses": counts, "wall_s": round(wall, 2),
        "answered_per_s": round(len(lat) / wall, 2),
        "latency_ms": {f"p{q}": round(_pct(lat, q), 1) for q in (50, 95, 99)} if lat else {},
        "healthz": probe(raw["health"]), "readyz": probe(raw["ready"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="server environment")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    extra = dict(pair.split("=", 1) for pair in args.env)
    body = bundle_body()
    with tempfile.TemporaryDirectory() as tmp:
        base, procs = start_processes(Path(tmp), 1, extra)
        api = procs[0]
        try:
            asyncio.run(burst(base, body, 4, 2))  # warm up: imports, SDK client, connection pools
            before = rss_mb(api.pid)
            result = summarize(asyncio.run(burst(base, body, args.requests, args.concurrency)),
                               args.requests, args.concurrency)
            time.sleep(1.0)
            result["rss_mb"] = {"before": before, "after": rss_mb(api.pid)}
        finally:
            stop_processes(procs)
    report = {"cpus": os.cpu_count(), "server_env": extra, "request_bytes": len(body),
              "bundle": {"workloads": BUNDLE_TIER.workloads, "pods": BUNDLE_TIER.pods,
                         "policies": BUNDLE_TIER.policies}, **result}
    emit_report(report, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
