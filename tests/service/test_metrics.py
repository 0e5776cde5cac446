"""/metrics under `netreason serve --workers 2`: one scrape counts every worker's requests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.service.prom import sample
from tests.net import free_port
from tests.service.workers import ROOT, start_two_workers


@pytest.fixture()
def two_workers(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = start_two_workers(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/readyz", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()[1].decode()
                assert time.monotonic() < deadline, "netreason serve --workers 2 did not come up"
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _workers_up(base: str) -> None:
    """Both workers start on their own; wait until requests on fresh connections stop failing."""
    for _ in range(20):
        httpx.get(f"{base}/readyz", timeout=5)


def test_one_scrape_counts_the_requests_every_worker_served(two_workers: str) -> None:
    _workers_up(two_workers)
    n = 40
    for _ in range(n):  # a fresh connection each: the kernel hands them to either worker
        assert httpx.get(f"{two_workers}/healthz", timeout=5).status_code == 200
    scrapes = [httpx.get(f"{two_workers}/metrics", timeout=5).text for _ in range(6)]
    counts = [sample(text, "netreason_http_requests_total", method="GET", route="/healthz", status="200")
              for text in scrapes]
    assert counts == [n] * len(scrapes)
    assert sample(scrapes[0], "netreason_http_request_duration_seconds_count", route="/healthz") == n
    # Every scrape so far is counted too, whichever worker served it.
    last = httpx.get(f"{two_workers}/metrics", timeout=5).text
    assert sample(last, "netreason_http_requests_total", method="GET", route="/metrics", status="200") == 6


def test_a_single_process_serves_its_own_counters_without_a_multiprocess_dir() -> None:
    """The default (one worker) keeps values in memory: no directory, nothing written to disk."""
    code = ("import os; from service.metrics import Metrics; m = Metrics(); "
            "m.record_request('GET', '/healthz', 200, 0.01); print(m.render())")
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert sample(out.stdout, "netreason_http_requests_total", method="GET", route="/healthz", status="200") == 1


def test_the_cli_commands_other_than_serve_never_import_prometheus_client() -> None:
    """prometheus_client picks its mode on import; and the CLI's everyday commands must start fast."""
    probe = ("import atexit, sys\n"
             "atexit.register(lambda: print('LOADED', sorted(m for m in ('prometheus_client', 'slack_sdk') "
             "if m in sys.modules), file=sys.stderr))\n"
             "from service.cli import main\nmain()\n")
    for args in (["lint", "examples/shop"], ["check", "examples/shop", "--from", "shop/web", "--to", "shop/api",
                                             "--port", "8080"], ["--help"], ["completion", "bash"]):
        done = subprocess.run([sys.executable, "-c", probe, *args], cwd=ROOT, capture_output=True, text=True)
        assert "LOADED []" in done.stderr, (args, done.stderr[-500:])
