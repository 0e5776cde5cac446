"""The runner's plumbing: bounded concurrency, the rpm limiter, cache keys and the stored run config."""

from __future__ import annotations

import asyncio
import time

from evals.runner import RateLimiter, RunConfig, plan, run_eval
from evals.scenarios import load_scenarios
from service.providers.base import ProviderReply, ProviderRequest


class CountingProvider:
    """Answers with no claims after a short wait, recording how many calls overlapped."""

    def __init__(self) -> None:
        self.in_flight = self.peak = self.calls = 0

    async def complete(self, request: ProviderRequest) -> ProviderReply:
        self.in_flight += 1
        self.calls += 1
        self.peak = max(self.peak, self.in_flight)
        await asyncio.sleep(0.02)
        self.in_flight -= 1
        return ProviderReply('{"summary": "nothing", "claims": []}', {"summary": "nothing", "claims": []}, "count",
                             "test")


def test_no_more_calls_overlap_than_the_concurrency_allows(eval_store):
    provider = CountingProvider()
    scenarios = load_scenarios(pattern="hand/*")
    config = RunConfig(("test:count",), ("flows@1", "breakage@1"), repeat=2, concurrency=3)
    summary = asyncio.run(run_eval(eval_store, scenarios, config, providers={"test:count": provider}))
    assert provider.calls == summary.jobs == len(eval_store.eval_responses(summary.run_id)) > 6
    assert provider.peak == 3


def test_rpm_spaces_request_starts():
    async def three_starts() -> float:
        limiter = RateLimiter(rpm=600)  # one every 0.1 s
        start = time.monotonic()
        for _ in range(3):
            await limiter.wait()
        return time.monotonic() - start
    assert asyncio.run(three_starts()) >= 0.19


def test_cache_key_changes_with_model_prompt_text_scenario_and_repeat():
    scenarios = load_scenarios(pattern="hand/named-port")
    jobs = plan(scenarios, RunConfig(("m:a", "m:b"), ("flows@1", "breakage@1"), repeat=2))
    assert len(jobs) == 8 and len({j.cache_key for j in jobs}) == 8
    again = plan(scenarios, RunConfig(("m:a", "m:b"), ("flows@1", "breakage@1"), repeat=2))
    assert [j.cache_key for j in jobs] == [j.cache_key for j in again]


def test_run_config_records_family_and_scale_of_each_scenario(eval_store):
    scenarios = load_scenarios(pattern="hand/endport-range")
    summary = asyncio.run(run_eval(eval_store, scenarios, RunConfig(("test:count",), ("dns@1",)),
                                   providers={"test:count": CountingProvider()}))
    config = eval_store.get_eval_run(summary.run_id)
    assert summary.jobs == 0  # the scenario is not asked the dns prompt
    assert config["scenarios"] == {"hand/endport-range": {"family": "endport-ranges", "scale": 5}}
    assert config["prompts"] == ["dns@1"] and config["brief"].startswith("brief@")
