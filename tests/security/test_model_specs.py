"""Findings 2, 3 and 4: the model spec in a request.

2. Each distinct spec used to add a provider (an SDK client, open sockets) to an unbounded cache and 20
   `/metrics` series. 3. Any token holder could aim the server at a URL of their choosing (SSRF), and the
   error told an open port from a closed one and echoed the target's reply. 4. Credentials inside a
   model URL were published on `/metrics`, in stored analyses and replies.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from service.provider_pool import ProviderPool
from service.settings import Settings
from tests.fakes.api_server import running_api, sqlite_url
from tests.fakes.provider_server import FakeProviderServer, answer
from tests.fakes.raw_http import RawHttpServer
from tests.net import free_port

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"
MANIFESTS = "\n---\n".join(p.read_text() for p in sorted(SHOP.rglob("*.yaml")) if p.name != "netreason.deps.yaml")
GOOD = {"summary": "fine", "claims": []}


def test_a_request_cannot_name_a_model_url_when_no_allow_list_is_set(tmp_path):
    # The default: NETREASON_ALLOWED_MODELS unset. The brief must never reach the caller's listener.
    with RawHttpServer(200, b"{}") as listener:
        settings = Settings(database_url=sqlite_url(tmp_path))
        with running_api(settings) as api:
            r = httpx.post(f"{api.base_url}/v1/analyze", timeout=30,
                           json={"manifests": MANIFESTS, "model": f"openai-compatible:{listener.url}/v1#m"})
        assert r.status_code == 403 and r.json()["type"] == "urn:netreason:problem:model-not-allowed"
        assert listener.paths == []


def test_only_the_configured_model_is_allowed_by_default(tmp_path, fake_provider):
    fake_provider.enqueue(answer(GOOD))
    own = f"openai-compatible:{fake_provider.openai_base_url}#m"
    with RawHttpServer(200, b"{}") as listener:
        settings = Settings(database_url=sqlite_url(tmp_path), model=own)
        with running_api(settings) as api:
            ok = httpx.post(f"{api.base_url}/v1/analyze", json={"manifests": MANIFESTS, "model": own}, timeout=30)
            other = httpx.post(f"{api.base_url}/v1/analyze", timeout=30,
                               json={"manifests": MANIFESTS, "model": f"openai-compatible:{listener.url}/v1#m"})
        assert ok.status_code == 200 and ok.json()["model"]["error"] is None
        assert other.status_code == 403 and listener.paths == []


def test_model_errors_reflect_nothing_from_the_target_and_do_not_tell_ports_apart(tmp_path):
    secret_page = b'{"error": {"message": "internal-admin-console-secret-1234", "type": "x"}}'
    closed = f"openai-compatible:http://127.0.0.1:{free_port()}/v1#m"
    with RawHttpServer(404, secret_page) as open_port:
        listening = f"openai-compatible:{open_port.url}/v1#m"
        settings = Settings(database_url=sqlite_url(tmp_path), allowed_models=(closed, listening))
        with running_api(settings) as api:
            docs = [httpx.post(f"{api.base_url}/v1/analyze", timeout=60,
                               json={"manifests": MANIFESTS, "model": spec, "save": False}).json()
                    for spec in (closed, listening)]
    errors = [(d["model"]["error_kind"], d["model"]["error"]) for d in docs]
    assert errors[0] == errors[1], errors
    assert "secret-1234" not in str(docs[1]) and "404" not in errors[1][1]


def test_credentials_in_a_model_url_never_leave(tmp_path, fake_provider):
    fake_provider.enqueue(answer(GOOD))
    host = fake_provider.openai_base_url.removeprefix("http://")
    spec = f"openai-compatible:http://admin:hunter2-sk-leaked-key@{host}#m"
    settings = Settings(database_url=sqlite_url(tmp_path), model=spec)
    with running_api(settings) as api:
        r = httpx.post(f"{api.base_url}/v1/analyze", json={"manifests": MANIFESTS}, timeout=30)
        stored = httpx.get(f"{api.base_url}{r.headers['location']}", timeout=30)
        md = httpx.get(f"{api.base_url}/v1/analyses/{r.headers['x-netreason-analysis-id']}?format=markdown")
        listing = httpx.get(f"{api.base_url}/v1/analyses", timeout=30)
        metrics = httpx.get(f"{api.base_url}/metrics", timeout=30).text
    assert r.status_code == 200 and r.json()["model"]["error"] is None
    for text in (r.text, stored.text, md.text, listing.text, metrics):
        assert "hunter2" not in text and "sk-leaked-key" not in text
    assert "***@" in r.json()["model"]["name"]


def test_many_distinct_model_specs_add_neither_clients_nor_metric_series(tmp_path):
    # Each spec is allowed (an operator's long allow-list); the server must still stay bounded.
    with FakeProviderServer(responder=lambda _r: answer(GOOD)) as srv:
        specs = tuple(f"openai-compatible:{srv.openai_base_url}#m{i}" for i in range(40))
        settings = Settings(database_url=sqlite_url(tmp_path), allowed_models=specs)
        with running_api(settings) as api:
            for spec in specs:
                r = httpx.post(f"{api.base_url}/v1/analyze", timeout=30,
                               json={"manifests": MANIFESTS, "model": spec, "save": False})
                assert r.status_code == 200 and r.json()["model"]["error"] is None
            providers = len(api.app.state.service.providers)
            metrics = httpx.get(f"{api.base_url}/metrics").text
    assert providers <= 8
    model_series = {line.split("}")[0] for line in metrics.splitlines()
                    if line.startswith("netreason_model_calls_total{")}
    assert len(model_series) <= 17, len(model_series)


def test_odd_http_methods_do_not_mint_metric_series(api_server):
    for i in range(30):
        httpx.request(f"X{i}METHOD", f"{api_server.base_url}/healthz")
    metrics = httpx.get(f"{api_server.base_url}/metrics").text
    assert "X1METHOD" not in metrics


def test_the_pool_closes_evicted_providers_once_no_request_uses_them():
    closed: list[str] = []

    class Fake:
        def __init__(self, spec: str) -> None:
            self.spec = spec

        async def complete(self, request):  # pragma: no cover - never called
            raise AssertionError

        async def aclose(self) -> None:
            closed.append(self.spec)

    async def scenario() -> None:
        pool = ProviderPool(max_size=2, factory=Fake)
        async with pool.lease("a"):
            async with pool.lease("b"), pool.lease("c"):
                assert closed == []  # "a" is evicted but still in use
            assert closed == []
        assert closed == ["a"]
        async with pool.lease("d"):
            pass
        assert closed == ["a", "b"] and len(pool) == 2
        await pool.aclose()
        assert sorted(closed) == ["a", "b", "c", "d"]

    asyncio.run(scenario())
