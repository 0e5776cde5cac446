"""`netreason analyze` / `ask`: the model's answer beside the ground truth, over the real SDKs.

The OpenAI and Anthropic SDKs talk HTTP to the fake provider server on 127.0.0.1; every
claim the scripted "model" makes is checked by the verifier.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from service.cli import cli
from tests.fakes.provider_server import answer, malformed, server_error, slow

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "shop")

GOOD = {
    "summary": "shop/api cannot reach payments-api: the shop namespace lacks team=shop.",
    "claims": [
        {"type": "dependency_broken", "from": "shop/api", "to": "payments/payments-api", "port": 8443,
         "protocol": "TCP",
         "reason": "payments-api-ingress needs namespace team=shop"},
    ],
}
MIXED = {
    "summary": "Several things.",
    "claims": [
        {"type": "flow", "from": "shop/web", "to": "shop/api", "port": 8080, "protocol": "TCP", "allowed": True},
        {"type": "flow", "from": "shop/api", "to": "payments/payments-api", "port": 8443, "protocol": "TCP",
         "allowed": True},
        {"type": "dns_egress_missing", "workload": "shop/web"},
        {"type": "flow", "from": "shop/ghost", "to": "shop/api", "port": 8080, "protocol": "TCP", "allowed": True},
        {"type": "policy_selects", "policy": "payments/db-from-api", "workloads": ["payments/postgres"]},
    ],
}


def analyze(*args: str, exit_code: int = 0):
    result = CliRunner().invoke(cli, ["analyze", EXAMPLE, "-o", "json", *args], catch_exceptions=False)
    assert result.exit_code == exit_code, result.output
    return json.loads(result.stdout)


def test_without_a_model_the_ground_truth_stands_alone_with_a_hint(monkeypatch):
    monkeypatch.delenv("NETREASON_MODEL", raising=False)
    doc = analyze()
    gt = doc["ground_truth"]
    assert [(d["from"], d["to"]) for d in gt["dependencies_broken"]] == [("shop/api", "payments/payments-api")]
    assert gt["dns_egress_missing"] == ["payments/payments-api", "payments/postgres"]
    assert doc["model"] is None and "--model" in doc["hint"]


def test_openai_answer_is_checked_claim_by_claim(fake_provider_env):
    fake_provider_env.enqueue(answer(MIXED))
    doc = analyze("--model", "openai:gpt-4.1-mini", "--prompt", "flows@1")
    verdicts = [c["verdict"] for c in doc["model"]["claims"]]
    assert verdicts == ["confirmed", "contradicted", "contradicted", "unverifiable", "confirmed"]
    wrong = doc["model"]["claims"][1]
    assert wrong["ground_truth"] == {"allowed": False} and "team=shop" in wrong["explanation"]
    assert "shop/ghost" in doc["model"]["claims"][3]["explanation"]
    assert doc["totals"]["confirmed"] == 2 and doc["totals"]["unverifiable"] == 1
    assert doc["model"]["simulated"] is False and doc["model"]["usage"]["input_tokens"] == 42
    # flows@1 scope: dependency flows nobody claimed are listed as missed
    missed = {(m["item"]["from"], m["item"]["to"]) for m in doc["missed"]}
    assert ("payments/payments-api", "payments/postgres") in missed
    sent = fake_provider_env.requests[0].body
    assert sent["model"] == "gpt-4.1-mini" and sent["response_format"]["type"] == "json_schema"


def test_anthropic_answer_through_tool_use(fake_provider_env):
    fake_provider_env.enqueue(answer(GOOD))
    doc = analyze("--model", "anthropic:claude-sonnet-5-5", "--prompt", "breakage")
    assert [c["verdict"] for c in doc["model"]["claims"]] == ["confirmed"]
    assert doc["missed"] == [] and doc["totals"]["accuracy"] == 1.0
    assert fake_provider_env.requests[0].path.endswith("/messages")


def test_malformed_output_gets_one_repair_round(fake_provider_env):
    fake_provider_env.enqueue(malformed(), answer(GOOD))
    doc = analyze("--model", "openai:gpt-4.1-mini", "--prompt", "breakage")
    assert doc["model"]["usage"]["repaired"] is True
    assert [c["verdict"] for c in doc["model"]["claims"]] == ["confirmed"]
    assert len(fake_provider_env.requests) == 2


def test_a_failing_model_still_leaves_the_ground_truth_with_the_failure_stated(fake_provider_env):
    fake_provider_env.enqueue(server_error(500), server_error(500), server_error(500))
    doc = analyze("--model", "openai:gpt-4.1-mini", "--prompt", "breakage", exit_code=3)
    assert doc["model"]["error_kind"] == "ProviderUnavailable" and doc["model"]["claims"] == []
    assert doc["ground_truth"]["dependencies_broken"]


def test_a_model_that_times_out_is_reported_not_raised(fake_provider_env):
    fake_provider_env.enqueue(slow(5, GOOD))
    doc = analyze("--model", "openai:gpt-4.1-mini", "--prompt", "breakage", "--timeout", "0.5", exit_code=3)
    assert doc["model"]["error_kind"] == "ProviderTimeout"
    assert doc["ground_truth"]["dns_egress_missing"]


def test_prompt_never_carries_secrets_env_values_or_images(fake_provider_env):
    fake_provider_env.enqueue(answer(GOOD))
    analyze("--model", "openai:gpt-4.1-mini", "--prompt", "breakage")
    sent = json.dumps(fake_provider_env.requests[0].body)
    for secret in ("hunter2-example-password", "registry.example.com", "postgres://"):
        assert secret not in sent


def test_markdown_and_html_render_the_side_by_side(fake_provider_env):
    fake_provider_env.enqueue(answer(MIXED), answer(MIXED))
    md = CliRunner().invoke(cli, ["analyze", EXAMPLE, "-m", "openai:gpt-4.1-mini", "-o", "markdown"]).stdout
    assert "| ❌ contradicted | shop/api can reach payments/payments-api on TCP/8443 |" in md
    html = CliRunner().invoke(cli, ["analyze", EXAMPLE, "-m", "openai:gpt-4.1-mini", "-o", "html"]).stdout
    assert html.startswith("<!doctype html>") and not any(u in html for u in ("http:", "https:", "<script", "<link"))
    assert "<tr class='claim' data-verdict='unverifiable'>" in html and "✗ contradicted</span>" in html


def test_simulated_models_are_labelled_simulated(monkeypatch):
    doc = analyze("--model", "simulated:oracle", "--prompt", "dns")
    assert doc["model"]["simulated"] is True
    assert doc["totals"]["confirmed"] == 2 and doc["totals"]["missed"] == 0
    text = CliRunner().invoke(cli, ["analyze", EXAMPLE, "-m", "simulated:oracle", "-p", "dns"]).stdout
    assert "simulated, not a real model" in text


def test_ask_answers_reachability_from_the_verifier_and_exits_by_verdict(monkeypatch):
    monkeypatch.delenv("NETREASON_MODEL", raising=False)
    result = CliRunner().invoke(cli, ["ask", EXAMPLE, "can shop/api reach payments/payments-api:8443?"])
    assert result.exit_code == 1
    assert "DENIED: shop/api -> payments/payments-api TCP/8443" in result.stdout
    ok = CliRunner().invoke(cli, ["ask", EXAMPLE, "can web reach api:8080", "-o", "json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["answer"][0]["allowed"] is True


def test_a_prompt_too_large_for_any_model_is_refused_before_calling_it(fake_provider_env):
    import asyncio

    from service import pipeline
    from service.truth import compute_truth
    import verifier

    truth = compute_truth(verifier.load_bundle([EXAMPLE]))
    run = asyncio.run(pipeline.ask_model(truth, model="openai:gpt-4.1-mini", prompt="flows@1", max_prompt_chars=1000))
    assert run.error_kind == "PromptTooLarge" and "over the limit of 1,000" in run.error
    assert fake_provider_env.requests == []
