"""The blast radius of a change: `netreason diff` lists it, and `/v1/review` asks the model about it only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from service.cli import cli
from service.settings import Settings
from tests.fakes.api_server import running_api, sqlite_url
from tests.fakes.provider_server import FakeProviderServer, answer
from tests.service.chat_support import marketing_namespace, shop_deps, shop_manifests

FIX = ("    env: prod\n---", "    env: prod\n    team: shop\n---")  # the shop namespace gets the label payments needs
MODEL = "openai:gpt-4.1-mini"
RADIUS = ["payments/payments-api", "payments/postgres", "shop/api", "shop/web", "shop/worker"]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[httpx.Client]:
    settings = Settings(database_url=sqlite_url(tmp_path), api_tokens=(), model=None, allowed_models=(MODEL,))
    with running_api(settings) as server, httpx.Client(base_url=server.base_url, timeout=60) as c:
        yield c


def test_diff_lists_the_workloads_a_change_touches_and_their_peers(tmp_path: Path):
    base, head = tmp_path / "base", tmp_path / "head"
    for side, text in ((base, shop_manifests()), (head, shop_manifests().replace(*FIX, 1))):
        side.mkdir()
        (side / "all.yaml").write_text(text + "\n---\n" + marketing_namespace(3))
        (side / "netreason.deps.yaml").write_text(shop_deps())
    result = CliRunner().invoke(cli, ["diff", str(base), str(head), "--format", "json"])
    doc = json.loads(result.stdout)
    assert doc["blast_radius"] == {"workloads": RADIUS, "total": 5}


def test_a_review_asks_the_model_about_the_blast_radius_only(fake_provider_env: FakeProviderServer, client):
    fake_provider_env.enqueue(answer({"summary": "shop can now reach payments.", "claims": []}))
    others = "\n---\n" + marketing_namespace(3)
    r = client.post("/v1/review", json={
        "base": {"manifests": shop_manifests() + others},
        "head": {"manifests": shop_manifests().replace(*FIX, 1) + others},
        "deps": shop_deps(), "model": MODEL})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["diff"]["blast_radius"]["workloads"] == RADIUS
    [request] = fake_provider_env.requests
    brief = request.body["messages"][-1]["content"]
    assert "shop/api Deployment" in brief and "payments/postgres StatefulSet" in brief
    assert "marketing/mkt-0" not in brief and "monitoring/prometheus" not in brief
    assert doc["analysis"]["model"]["slices"][0]["split"] == "workload"
