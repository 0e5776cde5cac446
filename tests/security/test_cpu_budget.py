"""Per-request CPU budget (issue 13): an analysis whose work uses more CPU than NETREASON_MAX_REQUEST_CPU_S
allows gets a 422 problem, nothing is stored, and the server goes on serving.

No timing is asserted: the budget is made far smaller than loading any bundle costs, so the mechanism
(CPU clock read per step, the request refused, the step's result dropped) is what is tested.
"""

from __future__ import annotations

import sqlite3

import httpx

from service.settings import Settings
from tests.fakes.api_server import running_api, sqlite_url

from .support import DEFAULT_DENY, pods_yaml


def test_a_request_over_its_cpu_budget_gets_422_and_nothing_is_stored(tmp_path):
    settings = Settings(database_url=sqlite_url(tmp_path), max_request_cpu_s=0.000001)
    body = {"manifests": pods_yaml(60) + DEFAULT_DENY}
    with running_api(settings) as api:
        refused = httpx.post(f"{api.base_url}/v1/analyze", json=body, timeout=120)
        lint = httpx.post(f"{api.base_url}/v1/lint", json=body, timeout=120)
        health = httpx.get(f"{api.base_url}/healthz", timeout=30)
        ready = httpx.get(f"{api.base_url}/readyz", timeout=30)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["type"] == "urn:netreason:problem:cpu-budget-exceeded"
    assert "NETREASON_MAX_REQUEST_CPU_S" in problem["detail"] and "nothing was stored" in problem["detail"]
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert lint.status_code == 422 and lint.json()["type"] == "urn:netreason:problem:cpu-budget-exceeded"
    assert health.status_code == 200 and ready.status_code == 200
    with sqlite3.connect(tmp_path / "netreason.db") as db:
        assert db.execute("select count(*) from analyses").fetchone()[0] == 0


def test_within_the_budget_the_same_request_is_answered(tmp_path):
    settings = Settings(database_url=sqlite_url(tmp_path), max_request_cpu_s=600)
    with running_api(settings) as api:
        r = httpx.post(f"{api.base_url}/v1/analyze", json={"manifests": pods_yaml(60) + DEFAULT_DENY}, timeout=120)
    assert r.status_code == 200, r.text
    assert r.json()["ground_truth"]["summary"]["workloads"] == 60
