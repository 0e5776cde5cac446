"""POST /v1/analyze's request path, through real HTTP: what the steps made cheaper must still answer the same."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

import verifier
from service.settings import Settings
from tests.fakes.api_server import ApiServer, sqlite_url
from tests.fakes.provider_server import FakeProviderServer, answer

MODEL = "openai:gpt-4.1-mini"
NO_CLAIMS = {"summary": "nothing to say", "claims": []}


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    return Settings(database_url=sqlite_url(tmp_path), api_tokens=(), model=None, allowed_models=(MODEL,))


@pytest.fixture
def client(api_server: ApiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server.base_url, timeout=60) as c:
        yield c


def _pods(count: int, *, twice: int | None = None) -> str:
    """`count` pods in namespace `a`, each its own workload serving 8080 (pod `twice` declares it in two
    containers), and no policy: every pair is a flow."""
    docs = []
    for i in range(count):
        ports = [{"containerPort": 8080}]
        containers = [{"name": "c", "image": "nginx", "ports": ports}]
        if i == twice:
            containers.append({"name": "d", "image": "nginx", "ports": ports})
        docs.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": f"p{i:02d}", "namespace": "a", "labels": {"app": f"p{i:02d}"}},
                     "spec": {"containers": containers}})
    return yaml.safe_dump_all(docs, sort_keys=False)


def _expected_flow_items(text: str) -> list[dict[str, object]]:
    """Every ordered pair on the destination's declared ports, in bundle order, duplicates dropped, the first
    200 kept (`MAX_FLOW_ITEMS`): built whole, the way the cap is defined."""
    workloads = verifier.load_text(text, name="manifests").workloads
    items = [(s.id, d.id, p.port, p.protocol) for s in workloads for d in workloads if s.id != d.id
             for p in d.ports]
    return [{"from": s, "to": d, "port": port, "protocol": proto, "allowed": True}
            for s, d, port, proto in list(dict.fromkeys(items))[:200]]


@pytest.mark.parametrize("pods", [14, 15, 40])
def test_a_flows_answer_with_no_claims_misses_the_first_pairs_in_bundle_order(
        fake_provider_env: FakeProviderServer, client: httpx.Client, pods: int) -> None:
    """14 pods: 182 pairs, all listed; 15: 210, cut to 200; 40: 1,560 (the check stops early, the list must
    not change)."""
    fake_provider_env.enqueue(answer(NO_CLAIMS))
    text = _pods(pods, twice=3)
    response = client.post("/v1/analyze", json={"manifests": text, "model": MODEL, "prompt": "flows"})
    assert response.status_code == 200, response.text
    doc = response.json()
    missed = [m["item"] for m in doc["missed"] if m["type"] == "flow"]
    assert missed == _expected_flow_items(text)
    assert doc["totals"]["missed"] == len(missed) == min(pods * (pods - 1), 200)
