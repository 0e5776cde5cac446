"""Run every (model, prompt, scenario, repeat) against its provider and record the raw responses.

    scenarios x prompts ─► rendered prompt ─► cache key ─► cached response? ─► store
                                                       └─► provider (bounded concurrency, rpm) ─► store

The run log is the database (`eval_runs` + `eval_responses`): the run's configuration, with
each scenario's family and scale so reports need nothing else, and one row per response with
its raw text, token usage and latency. Scoring is separate (`grading.score_run`), so stored
answers can be re-scored after a prompt or scoring change without calling any model.

Cache key = sha256(model spec, prompt ref, rendered prompt text, scenario id, repeat index):
a re-run reuses a response when all five match, unless `fresh`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from prompts.library import RenderedPrompt, load_prompt
from service.brief import BRIEF_VERSION
from service.pipeline import Truth, build_request
from service.prompting import PreparedPrompt, prepare_prompt
from service.providers.answers import complete_answer
from service.providers.base import Provider
from service.providers.errors import ProviderError, ProviderRateLimited
from service.providers.registry import get_provider
from service.store import EvalResponse, Store

from .grading import compute_scenario_truth
from .scenarios import Scenario

RUN_SCHEMA = "netreason.eval-run/v1"
RATE_LIMIT_RETRIES = 3


@dataclass(frozen=True)
class RunConfig:
    """What to run. `prompts` are refs (`flows@1`); a scenario is asked the prompts whose name it lists."""

    models: tuple[str, ...]
    prompts: tuple[str, ...]
    repeat: int = 1
    concurrency: int = 4
    rpm: float | None = None
    fresh: bool = False
    timeout_s: float = 60.0
    scenario_glob: str | None = None


@dataclass(frozen=True)
class Job:
    model: str
    prompt: str
    scenario: Scenario
    repeat: int
    rendered: RenderedPrompt

    @property
    def cache_key(self) -> str:
        return cache_key(self.model, self.prompt, self.rendered, self.scenario.id, self.repeat)


@dataclass
class RunSummary:
    run_id: str
    jobs: int = 0
    cached: int = 0
    called: int = 0
    errors: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def cache_key(model: str, prompt_ref: str, rendered: RenderedPrompt, scenario_id: str, repeat: int) -> str:
    """sha256 over the model spec, prompt ref and rendered text, scenario id and repeat index."""
    text = json.dumps([model, prompt_ref, rendered.system, rendered.messages, scenario_id, repeat], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def brief_dependencies(truth: Truth) -> list[Any]:
    """The truth's dependencies, as `ask_model` hands them to the brief (which shows a Service
    destination on its Service port)."""
    return [r.dependency for r in truth.dependencies]


def plan(scenarios: Sequence[Scenario], config: RunConfig) -> list[Job]:
    """Every job of the run, with its prompt rendered (scenario truths computed once each)."""
    refs = [load_prompt(p).ref for p in config.prompts]  # pins `flows` to its latest version
    jobs = []
    for scenario in scenarios:
        asked = [r for r in refs if scenario.asks(r)]
        if not asked:
            continue
        truth = compute_scenario_truth(scenario)
        deps = brief_dependencies(truth)
        for ref in asked:
            rendered = prepare_prompt(ref, truth.bundle, deps).rendered
            jobs += [Job(m, ref, scenario, k, rendered) for m in config.models for k in range(config.repeat)]
    return jobs


def run_config_json(config: RunConfig, scenarios: Sequence[Scenario]) -> dict[str, Any]:
    """The run's stored configuration: options, versions, and each scenario's family and scale."""
    return {
        "schema": RUN_SCHEMA, **asdict(config), "brief": BRIEF_VERSION,
        "scenarios": {s.id: {"family": s.family, "scale": s.scale} for s in scenarios},
    }


class RateLimiter:
    """At most `rpm` request starts per minute, spaced evenly (None: no limit)."""

    def __init__(self, rpm: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 60.0 / rpm if rpm else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()
        self._clock = clock

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            now = self._clock()
            delay = max(0.0, self._next - now)
            self._next = max(now, self._next) + self.interval
        if delay:
            await asyncio.sleep(delay)


async def run_eval(
    store: Store, scenarios: Sequence[Scenario], config: RunConfig, *,
    providers: Mapping[str, Provider] | None = None, on_done: Callable[[Job, EvalResponse], None] | None = None,
    on_planned: Callable[[int], None] | None = None,
) -> RunSummary:
    """Run `config` over `scenarios`, storing every response under a new run id.

    `providers` overrides `get_provider(spec)` per model spec (tests pass scripted ones).
    Model failures never stop the run: they are stored with `error` set (and not reused by
    the cache). Raises only for configuration problems (unknown prompt or model prefix).
    """
    start = time.perf_counter()
    jobs = plan(scenarios, config)
    resolved = {m: (providers or {}).get(m) or get_provider(m) for m in config.models}
    run_id = store.create_eval_run(run_config_json(config, scenarios))
    summary = RunSummary(run_id, jobs=len(jobs))
    if on_planned:
        on_planned(len(jobs))
    semaphore, limiter = asyncio.Semaphore(max(1, config.concurrency)), RateLimiter(config.rpm)

    async def one(job: Job) -> None:
        async with semaphore:
            response = await _respond(store, run_id, job, resolved[job.model], config, limiter, summary)
        store.add_eval_response(response)
        if on_done:
            on_done(job, response)

    await asyncio.gather(*(one(job) for job in jobs))
    summary.seconds = time.perf_counter() - start
    return summary


async def _respond(store: Store, run_id: str, job: Job, provider: Provider, config: RunConfig,
                   limiter: RateLimiter, summary: RunSummary) -> EvalResponse:
    key = job.cache_key
    cached = None if config.fresh else store.cached_eval_response(key)
    if cached is not None:
        summary.cached += 1
        return EvalResponse(run_id, job.model, job.prompt, job.scenario.id, job.repeat, key, cached.raw_text,
                            {**cached.usage, "cached": True}, cached.latency_ms, None, cached.simulated)
    summary.called += 1
    response = await _call(run_id, job, provider, config, limiter)
    summary.errors += response.error is not None
    return response


async def _call(run_id: str, job: Job, provider: Provider, config: RunConfig, limiter: RateLimiter) -> EvalResponse:
    request = build_request(PreparedPrompt(job.rendered), config.timeout_s)
    base = (run_id, job.model, job.prompt, job.scenario.id, job.repeat, job.cache_key)
    for attempt in range(RATE_LIMIT_RETRIES + 1):
        await limiter.wait()
        try:
            result = await complete_answer(provider, request)
            break
        except ProviderRateLimited as e:
            # The providers already retried with Retry-After; back off once more at the run level.
            if attempt == RATE_LIMIT_RETRIES:
                return EvalResponse(*base, "", {}, 0.0, f"ProviderRateLimited: {e}", False)
            await asyncio.sleep(e.retry_after or 2.0 * (attempt + 1))
        except ProviderError as e:
            return EvalResponse(*base, "", {}, 0.0, f"{type(e).__name__}: {e}", False)
    reply, usage = result.reply, result.usage
    usage_json = {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
                  "attempts": sum(r.attempts for r in result.replies), "repaired": result.repaired}
    if result.error is not None:
        usage_json["schema_error"] = str(result.error)[:500]  # kept (and cached): the model's own answer
    latency = sum(r.latency_ms for r in result.replies)
    return EvalResponse(*base, result.merged_text(), usage_json, latency, None, reply.simulated)

