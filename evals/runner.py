"""Run every (model, prompt, scenario, repeat) against its provider and record the raw responses.

    scenarios x prompts ─► rendered prompt ─► cache key ─► cached response? ─► store
                                                       └─► provider (bounded concurrency, rpm) ─► store

The run log is the database (`eval_runs` + `eval_responses`): the run's configuration, with
each scenario's family and scale so reports need nothing else, and one row per response with
its raw text, token usage and latency. Scoring is separate (`grading.score_run`), so stored
answers can be re-scored after a prompt or scoring change without calling any model.

Cache key = sha256(model spec, prompt ref, rendered prompt text, scenario id, repeat index):
a re-run reuses a response when all five match, unless `fresh`.

A scenario over the model's prompt budget (`service.budgets`, `RunConfig.budget` as `--budget`) is asked in
slices exactly as `netreason analyze` asks a whole cluster (`pipeline.plan` cuts it, `sliced.ask_slices` asks
the slices concurrently and merges their claims); the stored answer is the merged one, with every claim still
checked against the whole scenario's truth at scoring time. Its cache key covers every slice's prompt, and its
usage records the calls and prompt characters of all slices and the wall time of the whole job.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from prompts.library import RenderedPrompt, load_prompt
from service.brief import BRIEF_VERSION
from service.budgets import budget_for
from service.pipeline import SliceOptions, _prices, build_request
from service.pipeline import plan as plan_slices
from service.prompting import PreparedPrompt
from service.providers.answers import complete_answer
from service.providers.base import Provider, ProviderReply, ProviderRequest
from service.providers.errors import ProviderError
from service.providers.registry import get_provider
from service.sliced import ask_slices
from service.slices import Slice
from service.store import EvalResponse, Store

from .grading import compute_scenario_truth
from .scenarios import Scenario

RUN_SCHEMA = "netreason.eval-run/v1"


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
    budget: str | None = None  # CONTEXT[:OUTPUT] tokens for every model (default: each model's own)


@dataclass(frozen=True)
class Job:
    """One answer to get: a model asked a prompt about a scenario, in one slice or several."""

    model: str
    prompt: str
    scenario: Scenario
    repeat: int
    slices: tuple[Slice, ...]

    @property
    def rendered(self) -> RenderedPrompt:
        """The prompt of the first slice (of the only one, when the scenario fits the budget)."""
        return _rendered(self.slices[0])

    @property
    def cache_key(self) -> str:
        if len(self.slices) == 1:  # the key of an unsliced scenario is as it always was
            return cache_key(self.model, self.prompt, self.rendered, self.scenario.id, self.repeat)
        prompts = [[r.system, r.messages] for r in map(_rendered, self.slices)]
        text = json.dumps([self.model, self.prompt, prompts, self.scenario.id, self.repeat], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def prompt_chars(self) -> int:
        return sum(len(r.system) + sum(len(m["content"]) for m in r.messages) for r in map(_rendered, self.slices))


def _prepared(s: Slice) -> PreparedPrompt:
    assert s.prepared is not None  # planned slices are always rendered
    return s.prepared


def _rendered(s: Slice) -> RenderedPrompt:
    return _prepared(s).rendered


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


def plan(scenarios: Sequence[Scenario], config: RunConfig) -> list[Job]:
    """Every job of the run, with its slices planned and rendered under each model's budget (scenario truths
    computed once each; models with the same budget share the plan).

    Raises:
        BudgetError: an unreadable `config.budget`.
    """
    refs = [load_prompt(p).ref for p in config.prompts]  # pins `flows` to its latest version
    jobs = []
    for scenario in scenarios:
        asked = [r for r in refs if scenario.asks(r)]
        if not asked:
            continue
        truth = compute_scenario_truth(scenario)
        for ref in asked:
            planned: dict[tuple[int, int], tuple[Slice, ...]] = {}
            for m in config.models:
                budget = budget_for(m, config.budget)
                key = (budget.context_tokens, budget.output_tokens)
                if key not in planned:
                    planned[key] = tuple(plan_slices(truth, model=m, prompt=ref,
                                                     options=SliceOptions(budget=config.budget))[1])
                jobs += [Job(m, ref, scenario, k, planned[key]) for k in range(config.repeat)]
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
    start = time.perf_counter()
    if len(job.slices) > 1:
        response = await _call_sliced(run_id, job, provider, config, limiter)
    else:
        response = await _call_whole(run_id, job, provider, config, limiter)
    wall_ms = round((time.perf_counter() - start) * 1000, 1)
    usage = {"slices": len(job.slices), "calls": len(job.slices), "prompt_chars": job.prompt_chars,
             **response.usage, "wall_ms": wall_ms}
    return dataclasses.replace(response, usage=usage)


async def _call_sliced(run_id: str, job: Job, provider: Provider, config: RunConfig,
                       limiter: RateLimiter) -> EvalResponse:
    """Ask a scenario over the budget slice by slice, as `analyze` does; store the merged answer.

    Claims a slice sent that could not be used are kept in the stored answer, so scoring counts them
    `unparseable` as it does for an unsliced answer; a slice that gave no answer makes the job an error
    (not reused by the cache, so the next run asks again).
    """
    sliced = await ask_slices(_Paced(provider, limiter), list(job.slices),
                              lambda s: build_request(_prepared(s), config.timeout_s),
                              prices=_prices(job.model), concurrency=config.concurrency)
    base = (run_id, job.model, job.prompt, job.scenario.id, job.repeat, job.cache_key)
    calls = sum(1 for o in sliced.outcomes if not o.skipped)
    usage_json: dict[str, Any] = {**sliced.usage, "attempts": sliced.attempts, "repaired": sliced.repaired,
                                  "calls": calls, "slice_errors": sum(1 for o in sliced.outcomes if o.error)}
    raw = ""
    if sliced.answer is not None:
        doc = sliced.answer.to_json_dict()
        doc["claims"] = [*doc["claims"], *(r.claim for r in sliced.rejected)]
        raw = json.dumps(doc)
    latency = sliced.latency_ms
    if sliced.error is not None:
        return EvalResponse(*base, raw, usage_json, latency, f"{sliced.error_kind}: {sliced.error}", sliced.simulated)
    return EvalResponse(*base, raw, usage_json, latency, None, sliced.simulated)


class _Paced:
    """`provider` with every call (each slice, each repair round) waiting its turn under the run's `--rpm`."""

    def __init__(self, provider: Provider, limiter: RateLimiter) -> None:
        self.provider, self.limiter = provider, limiter

    async def complete(self, request: ProviderRequest) -> ProviderReply:
        await self.limiter.wait()
        return await self.provider.complete(request)


async def _call_whole(run_id: str, job: Job, provider: Provider, config: RunConfig,
                      limiter: RateLimiter) -> EvalResponse:
    request = build_request(PreparedPrompt(job.rendered), config.timeout_s)
    base = (run_id, job.model, job.prompt, job.scenario.id, job.repeat, job.cache_key)
    await limiter.wait()
    try:
        # The one model call `analyze` makes too; retries (Retry-After included) are the provider's RetryPolicy,
        # the only retry layer: a failure that outlasts it is stored as the response's error.
        result = await complete_answer(provider, request)
    except ProviderError as e:
        return EvalResponse(*base, "", {}, 0.0, f"{type(e).__name__}: {e}", False)
    reply, usage = result.reply, result.usage
    usage_json: dict[str, Any] = {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
                  "attempts": sum(r.attempts for r in result.replies), "repaired": result.repaired}
    if result.error is not None:
        usage_json["schema_error"] = str(result.error)[:500]  # kept (and cached): the model's own answer
    latency = sum(r.latency_ms for r in result.replies)
    return EvalResponse(*base, result.merged_text(), usage_json, latency, None, reply.simulated)

