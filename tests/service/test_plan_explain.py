"""`netreason plan --model` and POST /v1/plan with a model: prompt plan@1 explains the verified plan, and
every claim is checked against the manifests after the plan (a lying claim is marked contradicted).

The model is the real OpenAI SDK talking HTTP to the fake provider server; the plan is Online Boutique's
(manifests only, its deps.yaml), one verified step in `default`.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

import verifier
from service.settings import Settings
from tests.fakes.api_server import running_api, sqlite_url
from tests.fakes.provider_server import answer, server_error
from tests.shared import corpus_apps, require_shared

from .console import netreason

TRUE_FLOW = {"type": "flow", "from": "default/cartservice", "to": "default/redis-cart", "port": 6379,
             "protocol": "TCP", "allowed": True, "reason": "allow-cartservice-egress and allow-redis-cart-ingress."}
#: After the plan only cartservice reaches redis-cart: this claim is a lie the verifier must catch.
LYING_FLOW = {"type": "flow", "from": "default/frontend", "to": "default/redis-cart", "port": 6379,
              "protocol": "TCP", "allowed": True, "reason": "The plan opens the cache to the frontend."}
LYING_BREAK = {"type": "dependency_broken", "from": "default/frontend", "to": "default/cartservice", "port": 7070,
               "protocol": "TCP", "reason": "default-deny cuts it."}
EXPLANATION = {"summary": "One step isolates default: DNS first, the allows, then default-deny.",
               "claims": [TRUE_FLOW, LYING_FLOW, LYING_BREAK]}


@pytest.fixture
def boutique() -> tuple[list[str], str]:
    require_shared()
    ob = next(a for a in corpus_apps() if a["name"] == "online-boutique")
    return [m for m in ob["manifest_paths"] if m.endswith("kubernetes-manifests.yaml")], ob["deps_path"]


def _verdicts(explanation: dict) -> list[tuple[str, str]]:
    return [(c["claim"]["type"], c["verdict"]) for c in explanation["model"]["claims"]]


def test_cli_explanation_marks_the_lying_claims_wrong(fake_provider_env, boutique) -> None:
    manifests, deps = boutique
    fake_provider_env.enqueue(answer(EXPLANATION))
    done = netreason("plan", *manifests, "--deps", deps, "--model", "openai:gpt-4.1-mini", "-o", "json")
    assert done.code == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["verified"] and doc["schema"] == "netreason.plan/v1"
    explanation = doc["explanation"]
    assert explanation["prompt"] == "plan@1" and explanation["model"]["prompt"] == "plan@1"
    assert _verdicts(explanation) == [("flow", "confirmed"), ("flow", "contradicted"),
                                      ("dependency_broken", "contradicted")]
    assert explanation["model"]["claims"][1]["ground_truth"] == {"allowed": False}
    assert explanation["model"]["summary_checked"] is False
    assert explanation["totals"]["confirmed"] == 1 and explanation["totals"]["contradicted"] == 2
    (request,) = fake_provider_env.requests
    user = request.body["messages"][-1]["content"]
    assert "Cluster brief (after every step of the plan):" in user
    assert "default/allow-dns: selects *; isolates egress" in user  # the plan's own policies are in the brief
    assert "step 1: namespace default (verified; 16/16 dependencies allowed after it)" in user
    assert "explain a NetworkPolicy rollout plan" in request.body["messages"][0]["content"]


def test_cli_markdown_and_runbook_show_the_claims_beside_the_truth(fake_provider_env, boutique, tmp_path) -> None:
    manifests, deps = boutique
    fake_provider_env.enqueue(answer(EXPLANATION), answer(EXPLANATION))
    done = netreason("plan", *manifests, "--deps", deps, "--model", "openai:gpt-4.1-mini", "-o", "markdown")
    assert done.code == 0, done.stderr
    assert "## The model's explanation (every claim checked against the manifests after the plan)" in done.stdout
    assert "| ❌ contradicted | default/frontend can reach default/redis-cart on TCP/6379 |" in done.stdout
    assert "the model's own words, not checked by the verifier" in done.stdout
    out = tmp_path / "rollout"
    done = netreason("plan", *manifests, "--deps", deps, "--model", "openai:gpt-4.1-mini", "--out", str(out))
    assert done.code == 0, done.stderr
    assert "❌ contradicted" in (out / "RUNBOOK.md").read_text()
    assert json.loads((out / "plan.json").read_text())["explanation"]["totals"]["contradicted"] == 2


def test_cli_html_puts_the_model_beside_the_plan(fake_provider_env, boutique) -> None:
    manifests, deps = boutique
    fake_provider_env.enqueue(answer(EXPLANATION))
    done = netreason("plan", *manifests, "--deps", deps, "--model", "openai:gpt-4.1-mini", "-o", "html")
    assert done.code == 0, done.stderr
    assert "beside the truth" in done.stdout and "data-model-state='answered'" in done.stdout
    assert done.stdout.count("<tr class='claim' data-verdict='contradicted'>") == 2
    assert done.stdout.count("<tr class='claim' data-verdict='confirmed'>") == 1


def test_a_failed_model_still_gives_the_plan_and_exits_3(fake_provider_env, boutique) -> None:
    manifests, deps = boutique
    fake_provider_env.enqueue(*[server_error()] * 4)
    done = netreason("plan", *manifests, "--deps", deps, "--model", "openai:gpt-4.1-mini", "-o", "json",
                     "--timeout", "5")
    assert done.code == 3
    doc = json.loads(done.stdout)
    assert doc["verified"] and doc["explanation"]["model"]["error"]
    assert "the plan above is the verifier's alone" in done.stderr


def test_simulated_explanation_is_labelled_and_all_confirmed(boutique) -> None:
    manifests, deps = boutique
    done = netreason("plan", *manifests, "--deps", deps, "--model", "simulated:oracle", "-o", "json")
    assert done.code == 0, done.stderr
    explanation = json.loads(done.stdout)["explanation"]
    assert explanation["model"]["simulated"] is True
    assert explanation["totals"]["confirmed"] == 16 and explanation["totals"]["contradicted"] == 0


def test_unknown_prompt_is_refused_before_any_work(boutique) -> None:
    manifests, deps = boutique
    done = netreason("plan", *manifests, "--deps", deps, "--model", "simulated:oracle", "--prompt", "nope@1")
    assert done.code == 2 and "unknown prompt 'nope@1'" in done.stderr


def test_api_plan_with_a_model_checks_its_claims(fake_provider, boutique, tmp_path) -> None:
    manifests, deps = boutique
    spec = f"openai-compatible:{fake_provider.openai_base_url}#fake-model"
    texts: dict[str, str] = {}
    verifier.load_bundle(manifests, texts=texts)
    body = {"files": [{"path": k, "content": v} for k, v in texts.items()], "deps": Path(deps).read_text(),
            "deps_name": deps, "model": spec}
    fake_provider.enqueue(answer(EXPLANATION), answer(EXPLANATION))
    settings = Settings(database_url=sqlite_url(tmp_path), allowed_models=spec)
    with running_api(settings) as server, httpx.Client(base_url=server.base_url, timeout=120) as client:
        response = client.post("/v1/plan", json=body)
        markdown = client.post("/v1/plan", json={**body, "format": "markdown"})
        refused = client.post("/v1/plan", json={**body, "model": "openai-compatible:http://127.0.0.1:9/v1#x"})
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["verified"] and _verdicts(doc["explanation"]) == [
        ("flow", "confirmed"), ("flow", "contradicted"), ("dependency_broken", "contradicted")]
    assert "| ❌ contradicted | default/frontend can reach default/redis-cart on TCP/6379 |" in markdown.text
    assert refused.status_code == 403
    assert len(fake_provider.requests) == 2
