"""Whole clusters in slices: `netreason analyze` under a small prompt budget, through the real OpenAI SDK.

Each slice is a real HTTP call to the fake provider; the claims of all slices are merged and checked against
the whole cluster's truth. Nothing is refused for size.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from service.providers.simulated import answer_for
from service.cli import cli
from service.providers.base import Message, ProviderRequest
from tests.fakes.provider_server import RecordedRequest, answer, server_error

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "shop")


def oracle(recorded: RecordedRequest) -> dict:
    """Answers each slice as simulated:oracle would, from the slice's own brief."""
    wire = recorded.body["messages"]
    messages = tuple(Message(m["role"], m["content"]) for m in wire if m["role"] != "system")
    return answer_for(ProviderRequest(system=wire[0]["content"], messages=messages), "oracle")


def run(*args: str, code: int = 0) -> tuple[dict, str]:
    result = CliRunner().invoke(cli, ["analyze", EXAMPLE, "-o", "json", *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout), result.stderr


def test_a_small_budget_asks_in_namespace_slices_and_checks_all_claims_against_the_whole_cluster(fake_provider_env):
    fake_provider_env.set_responder(oracle)
    doc, _ = run("--model", "openai:gpt-4.1-mini", "--prompt", "breakage", "--budget", "2600:400")
    slices = doc["model"]["slices"]
    assert len(slices) == len(fake_provider_env.requests) > 1
    assert {s["split"] for s in slices} == {"namespace"} and not any(s["over_budget"] for s in slices)
    assert all(s["prompt_tokens"] <= 2200 for s in slices)
    asked = [n for s in slices for n in s["namespaces"]]
    assert sorted(asked) == ["kube-system", "monitoring", "payments", "shop"]  # each namespace once
    assert doc["model"]["budget"] == {"context_tokens": 2600, "output_tokens": 400, "input_tokens_per_slice": 2200,
                                      "source": "--budget 2600:400"}
    assert [c["verdict"] for c in doc["model"]["claims"]] == ["confirmed"]
    assert doc["missed"] == [] and doc["totals"]["accuracy"] == 1.0
    assert doc["model"]["usage"]["input_tokens"] == 42 * len(slices)
    assert all(s["cost_usd"] is not None and s["cost_usd"] > 0 for s in slices)
    # the slice asking about shop holds payments-api (its dependency) but not the monitoring namespace
    shop = next(r for r in fake_provider_env.requests
                if "shop/api -> payments/payments-api" in r.body["messages"][-1]["content"])
    brief = shop.body["messages"][-1]["content"]
    assert "payments/payments-api Deployment" in brief and "monitoring/prometheus" not in brief


def test_a_failed_slice_is_reported_and_the_others_still_count(fake_provider_env):
    calls = []

    def flaky(recorded: RecordedRequest):
        calls.append(recorded)
        if "shop/api -> payments/payments-api" in recorded.body["messages"][-1]["content"]:
            return server_error(400, "context length exceeded")
        return oracle(recorded)

    fake_provider_env.set_responder(flaky)
    doc, err = run("--model", "openai:gpt-4.1-mini", "--prompt", "dns", "--budget", "2600:400", code=3)
    assert "error: the model failed (SlicesFailed): 1 of " in err  # an incomplete answer does not pass
    failed = [s for s in doc["model"]["slices"] if s["error"]]
    assert len(failed) == 1 and "shop" in failed[0]["namespaces"]
    assert doc["model"]["error"].startswith("1 of ") and doc["model"]["error_kind"] == "SlicesFailed"
    assert [c["claim"]["workload"] for c in doc["model"]["claims"]] == ["payments/payments-api", "payments/postgres"]


def test_dry_run_prints_slices_tokens_and_cost_and_calls_nothing(fake_provider_env):
    doc, _ = run("--model", "openai:gpt-4.1-mini", "--budget", "2600:400", "--dry-run")
    assert doc["schema"] == "netreason.slices/v1" and fake_provider_env.requests == []
    assert doc["totals"]["slices"] == len(doc["slices"]) > 1
    assert doc["totals"]["prompt_tokens"] == sum(s["prompt_tokens"] for s in doc["slices"])
    price_in, price_out = 0.40, 1.60  # service/prices.yaml, gpt-4.1-mini
    first = doc["slices"][0]
    assert first["estimated_cost_usd"] == round((first["prompt_tokens"] * price_in
                                                 + first["estimated_output_tokens"] * price_out) / 1e6, 6)
    text = CliRunner().invoke(cli, ["analyze", EXAMPLE, "--model", "openai:gpt-4.1-mini", "--dry-run"]).output
    assert "1 slice(s)" in text and "[whole]" in text and "estimated cost $" in text


def test_max_cost_stops_before_spending_more(fake_provider_env):
    # each answer costs 2000 x $0.40/M + 400 x $1.60/M = $0.00144: the second slice would pass $0.002
    fake_provider_env.set_responder(lambda r: answer(oracle(r), input_tokens=2000, output_tokens=400))
    doc, _ = run("--model", "openai:gpt-4.1-mini", "--budget", "2600:400", "--max-cost", "0.002",
                 "--concurrency", "1", "--prompt", "dns", code=3)
    slices = doc["model"]["slices"]
    skipped = [s for s in slices if s["skipped"]]
    assert len(skipped) == len(slices) - 1 and len(fake_provider_env.requests) == 1
    assert sum(s["cost_usd"] or 0 for s in slices) == 0.00144
    assert "would pass --max-cost $0.00" in skipped[0]["skipped"]


def test_progress_goes_to_stderr(fake_provider_env):
    fake_provider_env.set_responder(oracle)
    _, err = run("--model", "openai:gpt-4.1-mini", "--budget", "2600:400", "--progress", "--prompt", "dns")
    assert "slice 1/" in err and "claim(s)" in err


def test_a_bad_budget_is_a_clear_error():
    result = CliRunner().invoke(cli, ["analyze", EXAMPLE, "--model", "simulated:oracle", "--budget", "lots"])
    assert result.exit_code == 2 and "--budget: 'lots' is not CONTEXT[:OUTPUT]" in result.output
