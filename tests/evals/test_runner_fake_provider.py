"""End to end through a real SDK: the OpenAI provider aimed at the fake model server.

The fake server answers as the oracle (or as and-as-or) would, computed from the request
body it receives, so the whole chain runs for real: prompt rendering, HTTP, the SDK, JSON
validation, the store, the cache, offline re-scoring, the report and its baseline gate.
"""

from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner

from evals.grading import score_run
from evals.runner import RunConfig, run_eval
from evals.scenarios import load_scenarios
from service.providers.simulated import answer_for
from service.cli import cli
from service.providers.base import Message, ProviderRequest
from service.providers.errors import ProviderTimeout
from service.providers.scripted import ScriptedProvider
from tests.fakes.provider_server import RecordedRequest

MODEL = "openai:gpt-4.1-mini"


def answering_as(mode: str):
    """A fake-server responder that answers each chat request as simulated model `mode` would."""
    def respond(recorded: RecordedRequest) -> dict:
        wire = recorded.body["messages"]
        messages = tuple(Message(m["role"], m["content"]) for m in wire if m["role"] != "system")
        return answer_for(ProviderRequest(system=wire[0]["content"], messages=messages), mode)
    return respond


def _run(runner: CliRunner, db: str, *extra: str):
    args = ["eval", "run", "--models", MODEL, "--prompts", "flows@1,flows@2,breakage@1", "--scenarios", "hand/*",
            "--db", db, "--format", "json", *extra]
    result = runner.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_real_sdk_run_is_stored_cached_rescored_offline_and_gated(fake_provider_env, tmp_path):
    server, runner, db = fake_provider_env, CliRunner(), f"sqlite:///{tmp_path / 'e.db'}"
    server.set_responder(answering_as("oracle"))
    first = _run(runner, db)
    calls = len(server.requests)
    assert calls == first["responses"] == first["called"] > 0
    for ref in ("flows@1", "flows@2"):  # both versions of the flows prompt side by side
        entry = next(e for e in first["leaderboard"] if e["prompt"] == ref)
        assert (entry["model"], entry["simulated"]) == (MODEL, False)
        assert entry["claim_precision"] == entry["claim_recall"] == 1.0 and entry["hallucination_rate"] == 0.0
    entry = next(e for e in first["leaderboard"] if e["prompt"] == "flows@1")
    assert entry["cost_usd"] > 0 and entry["input_tokens_mean"] == 42.0
    assert {"claim_precision", "claim_recall", "hallucination_rate", "scenarios"} <= set(entry["families"]["and-vs-or"])

    again = _run(runner, db)
    assert again["cached"] == again["responses"] and len(server.requests) == calls

    rescored = runner.invoke(cli, ["eval", "score", first["run_id"], "--db", db, "--format", "json"])
    assert rescored.exit_code == 0 and len(server.requests) == calls
    assert json.loads(rescored.output)["leaderboard"][0]["claim_recall"] == first["leaderboard"][0]["claim_recall"]

    server.set_responder(answering_as("and-as-or"))
    worse = _run(runner, db, "--fresh")
    assert len(server.requests) == 2 * calls
    gate = runner.invoke(cli, ["eval", "report", worse["run_id"], "--baseline", first["run_id"], "--db", db,
                               "--format", "json"])
    assert gate.exit_code == 1
    regressions = json.loads(gate.stdout)["regressions"]
    assert {(r["metric"], r["prompt"]) for r in regressions} >= {("claim_recall", "flows@1")}
    same = runner.invoke(cli, ["eval", "report", first["run_id"], "--baseline", first["run_id"], "--db", db])
    assert same.exit_code == 0 and "Regressions against the baseline\n\nNone." in same.output


def test_schema_failures_and_provider_errors_are_recorded_not_raised(eval_store):
    scenarios = load_scenarios(pattern="hand/named-port")
    garbage = ScriptedProvider(responder=lambda request: "I think everything is fine.")
    broken = ScriptedProvider([ProviderTimeout("model took too long", provider="scripted")] * 4)
    config = RunConfig(("scripted:garbage", "scripted:broken"), ("flows@1",))
    summary = asyncio.run(run_eval(eval_store, scenarios, config,
                                   providers={"scripted:garbage": garbage, "scripted:broken": broken}))
    rows = {r["model"]: r for r in score_run(eval_store, summary.run_id)["responses"]}
    assert rows["scripted:garbage"]["schema_failure"] and rows["scripted:garbage"]["error"] is None
    assert rows["scripted:garbage"]["by_type"]["flow"]["covered"] == 0
    assert rows["scripted:broken"]["error"].startswith("ProviderTimeout")
    # An error is not reused by the cache; a schema failure (the model's own answer) is.
    rerun = asyncio.run(run_eval(eval_store, scenarios, config,
                                 providers={"scripted:garbage": garbage, "scripted:broken": ScriptedProvider(
                                     responder=lambda request: {"summary": "ok", "claims": []})}))
    assert (rerun.cached, rerun.called) == (1, 1)


def test_report_renders_markdown_and_self_contained_html_with_a_size_chart(eval_store, tmp_path):
    config = RunConfig(("simulated:oracle", "simulated:and-as-or"), ("flows@1",))
    scenarios = [s for s in load_scenarios(pattern="gen/and-vs-or/*") if s.scale <= 20]
    summary = asyncio.run(run_eval(eval_store, scenarios, config))
    score_run(eval_store, summary.run_id)
    runner, db = CliRunner(), str(eval_store.engine.url)
    out = tmp_path / "r.html"
    result = runner.invoke(cli,
                           ["eval", "report", summary.run_id, "--db", db, "--format", "html", "--output-file",
                            str(out)])
    page = out.read_text()
    assert result.exit_code == 0 and page.count("<svg") == 5 and "<polyline" in page
    assert "simulated:and-as-or (simulated)" in page and "<script" not in page and "http://" not in page.replace(
        "http://www.w3.org/2000/svg", "")
    markdown = runner.invoke(cli, ["eval", "report", summary.run_id, "--db", db]).output
    assert "## Worst cases" in markdown and "contradicted" in markdown and "(simulated)" in markdown


def test_a_rate_limited_model_is_retried_by_the_provider_alone_then_stored_as_an_error(fake_provider_env, tmp_path):
    # One retry layer: the provider's RetryPolicy (3 attempts). The runner adds none of its own, so a model
    # that keeps answering 429 costs exactly 3 requests per response and the response is stored as failed.
    from tests.fakes.provider_server import rate_limited

    server, runner, db = fake_provider_env, CliRunner(), f"sqlite:///{tmp_path / 'e.db'}"
    server.set_responder(lambda recorded: rate_limited(retry_after="0"))
    args = ["eval", "run", "--models", MODEL, "--prompts", "breakage@1", "--scenarios", "hand/*", "--db", db,
            "--format", "json"]
    result = runner.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["called"] > 0 and doc["errors"] == doc["called"]
    assert len(server.requests) == 3 * doc["called"]
