"""A burst of concurrent POST /v1/analyze against one `netreason serve`, and how liveness holds up.

    .venv/bin/python -m benchmarks.bench_load --requests 200 --concurrency 200
    .venv/bin/python -m benchmarks.bench_load --bursts 5 --gap 2     # steadier tails: ~500 probe samples

`netreason serve` (SQLite in a temp dir, NETREASON_MODEL aimed at the fake model server, which answers at
once) gets `--requests` analyses of a 50-workload bundle, `--concurrency` at a time, while a prober asks
`/healthz` and `/readyz` every 50 ms. With `--bursts N` the burst is fired N times, `--gap` seconds apart
(the server goes idle between them, as after a real burst): the slow probes cluster in a burst's first
moments, so one burst gives only a few of them and its p99 is about its second-worst sample. Reported:
throughput of answered analyses, their latency p50/p95/p99, how many were shed (503 + Retry-After, the
bounded pool's admission control), the probes' latency during the bursts (samples started between a
burst's first request and its last answer) with when the slow ones (over 50 ms) were sent, counted from
their burst's start, and the server's RSS before the first burst and after the last (from /proc). Extra
`--env NAME=VALUE` pairs configure the server (NETREASON_MAX_ACTIVE_ANALYSES, NETREASON_MAX_QUEUED_ANALYSES,
NETREASON_WORK_THREADS).
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
    """GET `path` every PROBE_INTERVAL_S until `stop` is set; send (start, latency) pairs to `out`: when
    the probe was sent (time.monotonic, one clock for every process on Linux) and its latency in ms
    (inf = not 200).

    A process of its own, as a kubelet is: probes timed on the burst's own event loop would also count the
    client's time spent reading 200 large responses.
    """
    host, _, port = base.removeprefix("http://").partition(":")
    samples: list[tuple[float, float]] = []
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    while not stop.is_set():
        sent, start = time.monotonic(), time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        samples.append((sent, (time.perf_counter() - start) * 1000 if response.status == 200 else float("inf")))
        time.sleep(PROBE_INTERVAL_S)
    conn.close()
    out.send(samples)


def _start_probe(base: str, path: str, stop: Any) -> tuple[Any, Any]:
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_probe_process, args=(base, path, stop, send), daemon=True)
    proc.start()
    return proc, receive


async def fire(client: httpx.AsyncClient, body: bytes, requests: int, concurrency: int) -> dict[str, Any]:
    """One burst: `requests` analyses, `concurrency` in flight; statuses, answered latencies, its window."""
    statuses: list[int] = []
    latencies: list[float] = []
    sem = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with sem:
            start = time.perf_counter()
            r = await client.post("/v1/analyze", content=body, headers={"content-type": "application/json"})
            statuses.append(r.status_code)
            if r.status_code == 200:
                latencies.append((time.perf_counter() - start) * 1000)

    began = time.monotonic()
    await asyncio.gather(*(one() for _ in range(requests)))
    return {"statuses": statuses, "latencies": latencies, "window": (began, time.monotonic())}


async def burst(base: str, body: bytes, requests: int, concurrency: int,
                bursts: int = 1, gap_s: float = 0.0) -> dict[str, Any]:
    """Fire `bursts` bursts, `gap_s` apart, with probes running; return the raw samples."""
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4)
    stop = multiprocessing.get_context("spawn").Event()
    probes = [_start_probe(base, "/healthz", stop), _start_probe(base, "/readyz", stop)]
    await asyncio.sleep(1.0)  # the probe processes start (spawn imports this module) before the burst
    runs = []
    for i in range(bursts):
        if i:
            await asyncio.sleep(gap_s)
        # New connections each burst, as a herd of clients would open (and none the server closed meanwhile).
        async with httpx.AsyncClient(base_url=base, timeout=600, limits=limits) as client:
            runs.append(await fire(client, body, requests, concurrency))
    stop.set()
    health, ready = ([*receive.recv()] for _proc, receive in probes)
    for proc, _ in probes:
        proc.join(timeout=30)
    return {"runs": runs, "health": health, "ready": ready}


def _during(samples: list[tuple[float, float]], windows: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """(seconds after its burst began, latency) of each sample sent while a burst ran."""
    return [(sent - a, ms) for sent, ms in samples for a, b in windows if a <= sent <= b]


def probe_figures(samples: list[tuple[float, float]], slow_ms: float = 50.0) -> dict[str, Any]:
    """Percentiles of the probes' latencies, and when the slow ones were sent (s after their burst began)."""
    values = [ms for _at, ms in samples]
    return {"samples": len(values), "p50_ms": round(_pct(values, 50), 1),
            "p95_ms": round(_pct(values, 95), 1), "p99_ms": round(_pct(values, 99), 1),
            "max_ms": round(max(values), 1), "over_100ms": sum(v > 100 for v in values),
            f"over_{slow_ms:g}ms_sent_at_s": sorted(round(at, 2) for at, ms in samples if ms > slow_ms)}


def summarize(raw: dict[str, Any], requests: int, concurrency: int) -> dict[str, Any]:
    runs = raw["runs"]
    lat = [ms for run in runs for ms in run["latencies"]]
    wall = sum(b - a for a, b in (run["window"] for run in runs))
    counts: dict[str, int] = {}
    for s in (s for run in runs for s in run["statuses"]):
        counts[str(s)] = counts.get(str(s), 0) + 1
    windows = [run["window"] for run in runs]
    return {
        "requests": requests, "concurrency": concurrency, "bursts": len(runs), "statuses": counts,
        "wall_s": round(wall, 2), "answered_per_s": round(len(lat) / wall, 2),
        "answered_per_s_by_burst": [round(len(r["latencies"]) / (r["window"][1] - r["window"][0]), 2) for r in runs],
        "latency_ms": {f"p{q}": round(_pct(lat, q), 1) for q in (50, 95, 99)} if lat else {},
        "healthz": probe_figures(_during(raw["health"], windows)),
        "readyz": probe_figures(_during(raw["ready"], windows)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--bursts", type=int, default=1, help="fire the burst this many times (default: once)")
    parser.add_argument("--gap", type=float, default=2.0, help="seconds between bursts (default: 2)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="server environment")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON")
    parser.add_argument("--raw", type=Path, help="write every probe sample and burst window (time.monotonic "
                                                 "seconds) as JSON, to line up with the server's own traces")
    args = parser.parse_args(argv)
    extra = dict(pair.split("=", 1) for pair in args.env)
    body = bundle_body()
    with tempfile.TemporaryDirectory() as tmp:
        base, procs = start_processes(Path(tmp), 1, extra)
        api = procs[0]
        try:
            asyncio.run(burst(base, body, 4, 2))  # warm up: imports, SDK client, connection pools
            before = rss_mb(api.pid)
            raw = asyncio.run(burst(base, body, args.requests, args.concurrency, args.bursts, args.gap))
            result = summarize(raw, args.requests, args.concurrency)
            if args.raw:
                args.raw.write_text(json.dumps({"windows": [r["window"] for r in raw["runs"]],
                                                "healthz": raw["health"], "readyz": raw["ready"]}))
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
