"""Finding 7: `/healthz` took up to 14 s during a burst of analyses.

What the tests can hold without timing anything: the probes are answered, with the routes' exact bytes,
while every work-pool thread is held by an analysis; and every CPU step of an analysis (parsing, the
truth, the brief, the slice plan, the claim check) runs on the pool's NETREASON_WORK_THREADS threads,
never on other threads that would compete with the event loop for the GIL. The latency figures are
in `benchmarks/bench_load.py`'s output and the closing note.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

import service.api.running
import service.pipeline
from service.settings import Settings
from tests.fakes.api_server import running_api, sqlite_url
from tests.fakes.provider_server import FakeProviderServer, answer

from .support import DEFAULT_DENY, pods_yaml

CLAIMS = {"summary": "ok", "claims": [{"type": "flow", "from": "load/w0", "to": "load/w1", "port": 80,
                                       "protocol": "TCP", "allowed": False}]}


def _recording(fn: Any, names: list[str]) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        names.append(threading.current_thread().name)
        return fn(*args, **kwargs)
    return wrapper


def test_every_cpu_step_of_an_analysis_runs_on_the_work_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names: list[str] = []
    for step in ("prepare_prompt", "plan", "check_answer"):
        monkeypatch.setattr(service.pipeline, step, _recording(getattr(service.pipeline, step), names))
    with FakeProviderServer() as srv:
        srv.enqueue(answer(CLAIMS))
        spec = f"openai-compatible:{srv.openai_base_url}#m"
        with running_api(Settings(database_url=sqlite_url(tmp_path), model=spec)) as api:
            r = httpx.post(f"{api.base_url}/v1/analyze", json={"manifests": pods_yaml(4) + DEFAULT_DENY}, timeout=60)
    assert r.status_code == 200, r.text
    assert r.json()["model"]["error"] is None
    assert len(names) >= 2 and all(n.startswith("netreason-work") for n in names), names


def test_probes_answer_with_the_routes_bytes_while_every_work_thread_is_held(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    held, release = threading.Event(), threading.Event()
    original = service.api.running.compute_bundle_truth

    def blocking_truth(*args: Any, **kwargs: Any) -> Any:
        held.set()
        release.wait(60)
        return original(*args, **kwargs)

    monkeypatch.setattr(service.api.running, "compute_bundle_truth", blocking_truth)
    settings = Settings(database_url=sqlite_url(tmp_path), work_threads=1, max_active_analyses=1,
                        max_queued_analyses=0)
    body = {"manifests": pods_yaml(4) + DEFAULT_DENY, "save": False}
    with running_api(settings) as api, ThreadPoolExecutor(1) as client:
        pending = client.submit(httpx.post, f"{api.base_url}/v1/analyze", json=body, timeout=60)
        try:
            assert held.wait(30)
            shed = httpx.post(f"{api.base_url}/v1/analyze", json=body, timeout=30)
            health = httpx.get(f"{api.base_url}/healthz", timeout=30)
            ready = httpx.get(f"{api.base_url}/readyz", timeout=30)
            metrics = httpx.get(f"{api.base_url}/metrics", timeout=30).text
        finally:
            release.set()
        assert pending.result().status_code == 200
    assert shed.status_code == 503 and "retry-after" in shed.headers
    assert (health.status_code, health.content) == (200, b'{"status":"ok"}')
    assert (ready.status_code, ready.content) == (200, b'{"status":"ready","database":"sqlite"}')
    assert health.headers["content-type"] == ready.headers["content-type"] == "application/json"
    assert 'netreason_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in metrics


def test_full_collections_are_left_to_the_work_pool_while_serving(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The collector's full collections held the GIL 140-360 ms each during a burst, /healthz with it. While
    the server runs, what it started with is frozen, the collector starts no full collection by itself, and
    the work pool runs them on its schedule; once it stops, the process is as it was."""
    import gc

    import service.app

    monkeypatch.setattr(service.app, "FULL_COLLECTION_EVERY_S", 0.2)
    before = gc.get_threshold()
    with running_api(Settings(database_url=sqlite_url(tmp_path))) as api:
        serving, frozen = gc.get_threshold(), gc.get_freeze_count()
        pool = api.app.state.service.work
        deadline = time.monotonic() + 10
        while pool.releases < 2 and time.monotonic() < deadline:  # no request at all: the schedule alone
            time.sleep(0.05)
        releases = pool.releases
    assert serving[:2] == before[:2] and serving[2] > 1_000_000 and frozen > 0
    assert releases >= 2
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_modules_imported_while_serving_are_frozen_at_the_next_idle_collection(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The model SDKs and LangChain load on the first analysis, after the start-up freeze: ~75,000 objects
    every full collection under load scanned again (55-120 ms, probes waiting). Once the pool is idle, a
    process that imported modules since its last freeze freezes what survives; a busy collection never
    does (a request's objects would be frozen with it)."""
    import gc
    import importlib
    import sys

    import service.memtrim

    (tmp_path / "late_module_k13b.py").write_text("TABLE = [[i] for i in range(5000)]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    body = {"manifests": pods_yaml(5) + DEFAULT_DENY, "save": False}
    with running_api(Settings(database_url=sqlite_url(tmp_path))) as api:
        pool = api.app.state.service.work
        service.memtrim.release_memory(idle=False)
        at_start = gc.get_freeze_count()
        late = importlib.import_module("late_module_k13b")
        service.memtrim.release_memory(idle=False)  # busy: collected, nothing frozen
        busy = gc.get_freeze_count()
        releases = pool.releases
        with httpx.Client(base_url=api.base_url, timeout=60) as client:
            assert client.post("/v1/analyze", json=body).status_code == 200
        deadline = time.monotonic() + 10
        while pool.releases == releases and time.monotonic() < deadline:
            time.sleep(0.05)
        after_idle = gc.get_freeze_count()
        tracked = {id(obj) for obj in gc.get_objects()}
    sys.modules.pop("late_module_k13b", None)
    assert busy <= at_start  # frozen objects freed by reference counting leave the count
    assert after_idle >= at_start + 5000, (at_start, after_idle)
    assert id(late.TABLE[0]) not in tracked  # frozen objects are out of every generation the collector scans
