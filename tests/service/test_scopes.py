"""Scopes: `analyze --namespace NS` (repeatable) and `--focus WORKLOAD` ask and report only what is in scope."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from service.cli import cli
from tests.service.test_slicing import oracle

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "shop")


def run(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["analyze", EXAMPLE, "-o", "json", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_namespace_scope_asks_and_reports_only_that_namespace(fake_provider_env):
    fake_provider_env.set_responder(oracle)
    doc = run("--model", "openai:gpt-4.1-mini", "--prompt", "dns", "-n", "payments")
    assert doc["scope"]["namespaces"] == ["payments"] and doc["scope"]["focus"] is None
    assert doc["ground_truth"]["dns_egress_missing"] == ["payments/payments-api", "payments/postgres"]
    assert {f["object"].split("/")[0] for f in doc["ground_truth"]["findings"]} == {"payments"}
    [request] = fake_provider_env.requests
    brief = request.body["messages"][-1]["content"]
    assert "payments/postgres StatefulSet" in brief and "shop/web" not in brief
    assert [c["verdict"] for c in doc["model"]["claims"]] == ["confirmed", "confirmed"] and doc["missed"] == []


def test_two_namespaces_and_an_unknown_one():
    doc = run("-n", "shop", "-n", "payments")
    assert doc["scope"]["namespaces"] == ["shop", "payments"]
    assert {d["from"] for d in doc["ground_truth"]["dependencies"]} == {"shop/web", "shop/worker", "shop/api",
                                                                        "payments/payments-api"}
    result = CliRunner().invoke(cli, ["analyze", EXAMPLE, "-n", "payment"])
    assert result.exit_code == 2 and "--namespace payment: no such namespace" in result.output
    assert "did you mean payments?" in result.output


def test_focus_holds_the_workload_what_selects_it_and_its_peers_both_ways(fake_provider_env):
    fake_provider_env.set_responder(oracle)
    doc = run("--model", "openai:gpt-4.1-mini", "--prompt", "breakage", "--focus", "shop/api")
    assert doc["scope"]["focus"] == "shop/api"
    assert doc["scope"]["workloads"] == ["payments/payments-api", "shop/api", "shop/web", "shop/worker"]
    deps = {(d["from"], d["to"]) for d in doc["ground_truth"]["dependencies"]}
    assert deps == {("shop/web", "shop/api"), ("shop/worker", "shop/api"), ("shop/api", "payments/payments-api")}
    [request] = fake_provider_env.requests
    brief = request.body["messages"][-1]["content"]
    assert "shop/api-ingress" in brief and "payments/postgres StatefulSet" not in brief
    assert "shop/web -> shop/api" in brief and "payments/payments-api -> payments/postgres" not in brief
    assert [c["verdict"] for c in doc["model"]["claims"]] == ["confirmed"]


def test_a_bare_focus_name_resolves_and_an_unknown_one_is_refused():
    assert run("--focus", "postgres")["scope"]["focus"] == "payments/postgres"
    result = CliRunner().invoke(cli, ["analyze", EXAMPLE, "--focus", "shop/apii"])
    assert result.exit_code == 2 and "did you mean shop/api?" in result.output
