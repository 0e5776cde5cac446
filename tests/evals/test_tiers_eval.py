"""A small tier through `netreason eval run`: asked in slices under the prompt budget, scored against the whole
tier's truth, with accuracy and cost per size in the report; simulated models and a real SDK on the fake server."""

from __future__ import annotations

import itertools
import asyncio
import json
import time
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from evals.grading import score_run
from evals.report import summarize
from evals.runner import RunConfig, plan, run_eval
from evals.scenarios import load_scenarios
from evals.tiers import TIER_DIR, write_tier_stubs
from service.budgets import budget_for
from service.cli import cli
from service.providers.scripted import ScriptedProvider
from tests.evals.test_runner_fake_provider import answering_as
from tests.fakes.provider_server import RecordedRequest, server_error

SIZE = 60
BUDGET = "6000:2000"
SIMULATED = ("simulated:oracle", "simulated:and-as-or", "simulated:ignores-policytypes", "simulated:hallucinates")
PROMPTS = ("flows@2", "breakage@1", "dns@1")


@pytest.fixture
def tier_dir(tmp_path: Path) -> Path:
    write_tier_stubs(tmp_path / "tiers", [1], [SIZE])
    return tmp_path / "tiers"


def eval_run(*args: str, code: int = 0) -> dict:
    result = CliRunner().invoke(cli, ["eval", "run", "--format", "json", *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if code == 0 else {"output": result.output}


@cache
def _slices_planned(tier_dir: Path) -> list[int]:
    jobs = plan(load_scenarios(tier_dir), RunConfig(("simulated:oracle",), PROMPTS, budget=BUDGET))
    budget = budget_for(None, BUDGET)
    assert all(not s.over(budget) for j in jobs for s in j.slices)  # every slice under the budget
    return [len(j.slices) for j in jobs]


def test_a_small_tier_is_asked_in_slices_and_the_simulated_errors_show_through(tier_dir, tmp_path):
    slices = _slices_planned(tier_dir)
    assert len(slices) == len(PROMPTS) and min(slices) > 1
    db = f"sqlite:///{tmp_path / 'e.db'}"
    doc = eval_run("--models", ",".join(SIMULATED), "--prompts", ",".join(PROMPTS), "--tiers", str(SIZE),
                   "--scenario-dir", str(tier_dir), "--budget", BUDGET, "--db", db)
    assert doc["errors"] == 0 and doc["responses"] == len(SIMULATED) * len(PROMPTS)
    board = {(e["model"], e["prompt"]): e for e in doc["leaderboard"]}
    assert all(e["simulated"] for e in board.values()) and doc["simulated_note"]
    for (_model, prompt), e in board.items():
        cost = e["size_costs"][str(SIZE)]
        assert cost["calls_mean"] == slices[PROMPTS.index(prompt)] and cost["workloads"] == SIZE
        assert cost["prompt_chars_mean"] > 4 * 6000 and cost["wall_ms_mean"] > 0 and cost["cost_usd"] is None
    for prompt in PROMPTS:  # the oracle stays exact through slicing
        oracle = board[("simulated:oracle", prompt)]
        assert oracle["claim_precision"] == oracle["claim_recall"] == 1.0 and oracle["hallucination_rate"] == 0.0
    assert board[("simulated:and-as-or", "breakage@1")]["dependency_recall"] < 1.0
    assert board[("simulated:ignores-policytypes", "breakage@1")]["dependency_recall"] < 1.0
    assert board[("simulated:ignores-policytypes", "dns@1")]["dns_recall"] < 1.0
    assert all(board[("simulated:hallucinates", p)]["hallucination_rate"] > 0 for p in PROMPTS)

    again = eval_run("--models", ",".join(SIMULATED), "--prompts", ",".join(PROMPTS), "--tiers", str(SIZE),
                     "--scenario-dir", str(tier_dir), "--budget", BUDGET, "--db", db)
    assert again["cached"] == again["responses"] == doc["responses"]

    runner = CliRunner()
    markdown = runner.invoke(cli, ["eval", "report", doc["run_id"], "--db", db]).output
    section = markdown.split("## Cost against cluster size", 1)[1].split("##", 1)[0]
    assert f"| simulated:oracle (simulated) | breakage@1 | {SIZE} | 1.000 | 1.000 | {SIZE} | {slices[1]} |" in section
    page = tmp_path / "r.html"
    runner.invoke(cli, ["eval", "report", doc["run_id"], "--db", db, "--format", "html", "--output-file", str(page)])
    assert page.read_text().count("<svg") == 5 and "prompt tokens per answer against workloads" in page.read_text()


def test_tiers_that_do_not_exist_are_a_clear_error(tier_dir, tmp_path):
    out = eval_run("--models", "simulated:oracle", "--tiers", "77", "--scenario-dir", str(tier_dir),
                   "--db", f"sqlite:///{tmp_path / 'e.db'}", code=2)["output"]
    assert "no tier of 77 workloads" in out and "python -m evals.tiers --scales N" in out
    out = eval_run("--models", "simulated:oracle", "--tiers", str(SIZE), "--budget", "lots",
                   "--scenario-dir", str(tier_dir), "--db", f"sqlite:///{tmp_path / 'e.db'}", code=2)["output"]
    assert "'lots' is not CONTEXT[:OUTPUT]" in out


def test_a_real_sdk_answers_each_slice_over_http_and_a_failed_slice_is_an_error(fake_provider_env, tier_dir, tmp_path):
    server, db = fake_provider_env, f"sqlite:///{tmp_path / 'e.db'}"
    slices = _slices_planned(tier_dir)[PROMPTS.index("breakage@1")]
    server.set_responder(answering_as("oracle"))
    args = ("--models", "openai:gpt-4.1-mini", "--prompts", "breakage@1", "--scenario-dir", str(tier_dir),
            "--budget", BUDGET, "--db", db)
    doc = eval_run(*args)
    assert len(server.requests) == slices > 1 and doc["errors"] == 0
    entry = doc["leaderboard"][0]
    assert (entry["simulated"], entry["claim_precision"], entry["claim_recall"]) == (False, 1.0, 1.0)
    cost = entry["size_costs"][str(SIZE)]
    assert cost["calls_mean"] == slices and cost["input_tokens_mean"] == 42 * slices and cost["cost_usd"] > 0

    calls = []

    def one_slice_fails(recorded: RecordedRequest):
        calls.append(recorded)
        return server_error(400, "bad request") if len(calls) == 2 else answering_as("oracle")(recorded)

    server.set_responder(one_slice_fails)
    other = (*args[:-1], f"sqlite:///{tmp_path / 'f.db'}")  # a store without the good answer above
    failed = eval_run(*other)
    assert failed["errors"] == 1 and failed["leaderboard"][0]["error_rate"] == 1.0
    server.set_responder(answering_as("oracle"))
    retried = eval_run(*other)  # an error is not reused by the cache: asked again, every slice
    assert (retried["cached"], retried["called"], retried["errors"]) == (0, 1, 0)
    assert len(server.requests) == 3 * slices


def test_the_300_tier_is_sliced_under_the_default_budget_and_the_oracle_stays_exact(eval_store):
    scenarios = [s for s in load_scenarios(TIER_DIR) if s.scale == 300]
    summary = asyncio.run(run_eval(eval_store, scenarios, RunConfig(("simulated:oracle",), PROMPTS)))
    doc = summarize(score_run(eval_store, summary.run_id), resamples=10)
    assert len(doc["leaderboard"]) == len(PROMPTS) and summary.errors == 0
    for e in doc["leaderboard"]:
        assert e["simulated"] and e["size_costs"]["300"]["calls_mean"] > 1, e["prompt"]
        assert (e["claim_precision"], e["claim_recall"], e["hallucination_rate"]) == (1.0, 1.0, 0.0), e["prompt"]


def test_rpm_paces_every_slice_of_a_sliced_answer(tier_dir, eval_store):
    starts: list[float] = []

    def record(request):
        starts.append(time.monotonic())
        return {"summary": "nothing", "claims": []}

    scenarios = load_scenarios(tier_dir)
    config = RunConfig(("scripted:paced",), ("breakage@1",), budget=BUDGET, rpm=300)  # one call per 0.2 s
    summary = asyncio.run(run_eval(eval_store, scenarios, config,
                                   providers={"scripted:paced": ScriptedProvider(responder=record)}))
    assert summary.errors == 0 and len(starts) == _slices_planned(scenarios[0].path.parent)[1] > 1
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 0.18, gaps
