"""Finding 7, the first moments of a burst: what the event loop does for each of 200 connections at once.

Before: the work pool counted a request only once its route asked for a slot, after FastAPI had read,
JSON-parsed and validated its body on the event loop; in a herd of 200 analyses every body went through
that before the first reached `admit`, and 128 were then refused (503) all the same. And every request
that found the "is a token stored?" answer stale asked the database itself, each on a new AnyIO thread.
No timing is asserted (see `benchmarks/bench_load.py` and the closing note for the latencies).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.api.deps import ServiceState
from service.settings import Settings
from tests.fakes.api_server import ApiServer, running_api, sqlite_url

from tests.fakes.provider_server import FakeProviderServer, answer

from .support import DEFAULT_DENY, pods_yaml

CLAIMS = {"summary": "ok", "claims": [{"type": "flow", "from": "load/w0", "to": "load/w1", "port": 80,
                                       "protocol": "TCP", "allowed": False}]}

GARBAGE = {"content": b"{not json", "headers": {"content-type": "application/json"}, "timeout": 30}


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


def _start_post(api: ApiServer, path: str, body: bytes) -> socket.socket:
    """A POST whose headers and first half of the body are sent; the rest is up to the caller."""
    host, port = api.base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=60)
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    sock.sendall(head + body[: len(body) // 2])
    return sock


def _finish_post(sock: socket.socket, body: bytes) -> bytes:
    sock.sendall(body[len(body) // 2:])
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    sock.close()
    return b"".join(chunks)


def test_a_request_still_sending_its_body_holds_its_place_in_the_pool(tmp_path: Path) -> None:
    """One slot, no queue: while a first analysis is still sending its body, a second is refused at once
    (503, its unparseable body never read: before, it was parsed and refused with 422), and the first is
    answered once its body arrives."""
    settings = Settings(database_url=sqlite_url(tmp_path), max_active_analyses=1, max_queued_analyses=0)
    body = httpx.Request("POST", "/", json={"manifests": pods_yaml(4) + DEFAULT_DENY, "save": False}).read()
    with running_api(settings) as api:
        pool = api.app.state.service.work
        sock = _start_post(api, "/v1/analyze", body)
        try:
            _wait_for(lambda: pool.entering == 1, "the first request was let in")
            refused = httpx.post(f"{api.base_url}/v1/analyze", **GARBAGE)
            health = httpx.get(f"{api.base_url}/healthz", timeout=30)
        finally:
            first = _finish_post(sock, body)
        after = httpx.post(f"{api.base_url}/v1/analyze", **GARBAGE)
        # The middleware lets go of a request just after its last byte is sent.
        _wait_for(lambda: (pool.entering, pool.queued, pool.active) == (0, 0, 0), "every place given back")
    assert refused.status_code == 503 and refused.headers["retry-after"].isdigit()
    assert refused.json()["type"] == "urn:netreason:problem:busy"
    assert health.status_code == 200
    assert first.startswith(b"HTTP/1.1 200 "), first[:300]
    assert after.status_code == 422  # the slot is free again: this body is read, and refused for what it is


def test_requests_refused_before_their_slot_give_their_place_back(tmp_path: Path) -> None:
    """Invalid (422) and unauthenticated (401) analyses leave without reaching `admit`: each gives back the
    place it was counted in at the edge, so a one-slot server keeps taking requests after many of them."""
    settings = Settings(database_url=sqlite_url(tmp_path), max_active_analyses=1, max_queued_analyses=0,
                        api_tokens=("s3cret",))
    auth = {"Authorization": "Bearer s3cret"}
    with running_api(settings) as api, httpx.Client(base_url=api.base_url, timeout=60) as client:
        pool = api.app.state.service.work
        invalid = [client.post("/v1/analyze", **{**GARBAGE, "headers": {**GARBAGE["headers"], **auth}}).status_code
                   for _ in range(3)]
        unauthenticated = [client.post("/v1/lint", json={"manifests": pods_yaml(2)}).status_code for _ in range(3)]
        ok = client.post("/v1/analyze", json={"manifests": pods_yaml(2), "save": False}, headers=auth)
        _wait_for(lambda: (pool.entering, pool.queued, pool.active) == (0, 0, 0), "every place given back")
    assert invalid == [422] * 3 and unauthenticated == [401] * 3
    assert ok.status_code == 200, ok.text[:300]


def test_requests_that_find_the_token_answer_stale_share_one_query(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Twelve requests arrive while "is a token stored?" is being asked: they wait for that one query, which
    runs on the auth thread (not a new AnyIO thread each), and all pass (no token is stored)."""
    requests = 12
    asked: list[str] = []
    entered = 0
    release = threading.Event()
    original_check = ServiceState.tokens_stored

    async def counting_check(self: ServiceState) -> bool:
        nonlocal entered
        entered += 1
        return await original_check(self)

    monkeypatch.setattr(ServiceState, "tokens_stored", counting_check)
    with running_api(Settings(database_url=sqlite_url(tmp_path))) as api:
        store: Any = api.app.state.service.store
        original_query = store.has_tokens

        def held_query() -> bool:
            asked.append(threading.current_thread().name)
            release.wait(30)
            return bool(original_query())

        monkeypatch.setattr(store, "has_tokens", held_query)
        with ThreadPoolExecutor(requests) as clients:
            pending = [clients.submit(httpx.get, f"{api.base_url}/v1/clusters", timeout=60) for _ in range(requests)]
            try:
                _wait_for(lambda: entered >= requests, "every request asked whether tokens are stored")
            finally:
                release.set()
            statuses = [p.result().status_code for p in pending]
    assert statuses == [200] * requests
    assert len(asked) == 1 and asked[0].startswith("netreason-auth"), asked


def test_model_calls_run_on_the_model_loop_not_the_servers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's work for each model call (building the request, checking its pooled connections) ran on the
    server's event loop, between the probes. Now the call is made on the `netreason-models` thread's loop, the
    claims still come back checked, and the provider's connections are closed there at shutdown."""
    from service.providers.sdk import SdkProvider

    calls: list[str] = []
    closes: list[str] = []
    original_complete, original_close = SdkProvider.complete, SdkProvider.aclose

    async def recording_complete(self: SdkProvider, request: Any) -> Any:
        calls.append(threading.current_thread().name)
        return await original_complete(self, request)

    async def recording_close(self: SdkProvider) -> None:
        closes.append(threading.current_thread().name)
        await original_close(self)

    monkeypatch.setattr(SdkProvider, "complete", recording_complete)
    monkeypatch.setattr(SdkProvider, "aclose", recording_close)
    with FakeProviderServer() as srv:
        srv.enqueue(answer(CLAIMS))
        spec = f"openai-compatible:{srv.openai_base_url}#m"
        with running_api(Settings(database_url=sqlite_url(tmp_path), model=spec)) as api:
            r = httpx.post(f"{api.base_url}/v1/analyze", json={"manifests": pods_yaml(4) + DEFAULT_DENY}, timeout=60)
            health = httpx.get(f"{api.base_url}/healthz", timeout=30)
        model_requests = len(srv.requests)
    assert r.status_code == 200, r.text[:300]
    doc = r.json()
    assert doc["model"]["error"] is None, doc["model"]
    assert model_requests == 1 and calls == ["netreason-models"], calls
    assert closes == ["netreason-models"], closes
    assert health.status_code == 200
