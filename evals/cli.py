"""`netreason eval run|score|report|runs`: the offline eval suite (`evals/`) on the command line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from verifier.model.errors import NetreasonError

from service.commands.output import emit, output_file_option, output_option

FORMATS = ("text", "json", "markdown")


def _store(database_url: str | None) -> Any:
    from service.settings import Settings
    from service.store import Store

    return Store.open(database_url or Settings().database_url)


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _progress(total_label: str) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return Progress(TextColumn(total_label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True, disable=not console.is_terminal)


def _print_summary(scores: dict[str, Any], fmt: str, extra: dict[str, Any]) -> None:
    from evals.report import _leaderboard_rows, _md_table, render_markdown, summarize

    doc = summarize(scores)
    if fmt == "json":
        click.echo(json.dumps({**extra, **doc}, indent=2))
    elif fmt == "markdown":
        click.echo(render_markdown(doc))
    else:
        click.echo(" ".join(f"{k}={v}" for k, v in extra.items()))
        if doc["simulated_note"]:
            click.echo(doc["simulated_note"])
        click.echo(_md_table(*_leaderboard_rows(doc)))


db_option = click.option("--db", "database_url", envvar="NETREASON_DATABASE_URL", default=None,
                         help="Database URL (default: NETREASON_DATABASE_URL, else the user data dir).")
dir_option = click.option("--scenario-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                          help="Scenario corpus folder (default: evals/scenarios).")


@click.group("eval")
def eval_group() -> None:
    """Evaluate models and prompts on the scenario corpus (ground truth from the verifier)."""


@eval_group.command("run")
@click.option("--models", required=True, help="Comma-separated model specs, e.g. simulated:oracle,openai:gpt-4.1-mini.")
@click.option("--prompts", default="flows@1,flows@2,breakage@1,dns@1", show_default=True,
              help="Comma-separated prompt refs.")
@click.option("--scenarios", "pattern", default=None, help="Glob on scenario id or family, e.g. 'gen/and-vs-or/*'.")
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 256))
@click.option("--repeat", default=1, show_default=True, type=click.IntRange(1, 100))
@click.option("--rpm", default=None, type=click.FloatRange(min=0.1), help="At most this many requests per minute.")
@click.option("--fresh", is_flag=True, help="Call the models again instead of reusing cached responses.")
@click.option("--timeout", "timeout_s", default=60.0, show_default=True, type=float, help="Seconds per model call.")
@click.option("--budget", default=None, metavar="CONTEXT[:OUTPUT]",
              help="Prompt budget in tokens for every model (default: each model's own, or NETREASON_MODEL_BUDGET); "
                   "a scenario over it is asked in slices.")
@click.option("--tiers", default=None, metavar="N[,N...]",
              help="Run the scale tiers of N workloads (evals/tiers: 300, 1000, 5000) instead of the corpus.")
@output_option(FORMATS, "text")
@dir_option
@db_option
def run_cmd(models: str, prompts: str, pattern: str | None, concurrency: int, repeat: int, rpm: float | None,
            fresh: bool, timeout_s: float, budget: str | None, tiers: str | None, fmt: str, scenario_dir: Path | None,
            database_url: str | None) -> None:
    """Ask every model every prompt on every scenario, store the responses, then score them."""
    from evals.grading import score_run
    from evals.runner import RunConfig, run_eval
    from service.budgets import BudgetError, budget_for

    try:
        budget_for(None, budget)  # an unreadable budget fails before any work
    except BudgetError as e:
        raise click.UsageError(str(e)) from None
    scenarios = _selected(scenario_dir, pattern, tiers)
    config = RunConfig(_csv(models), _csv(prompts), repeat, concurrency, rpm, fresh, timeout_s, pattern, budget)
    store = _store(database_url)
    with _progress("eval run") as progress:
        task = progress.add_task("run", total=None)
        summary = asyncio.run(run_eval(store, scenarios, config,
                                       on_planned=lambda n: progress.update(task, total=n),
                                       on_done=lambda *_: progress.advance(task)))
    scores = score_run(store, summary.run_id, scenario_dir=scenario_dir)
    extra = {"run_id": summary.run_id, "responses": summary.jobs, "cached": summary.cached,
             "called": summary.called, "errors": summary.errors, "seconds": round(summary.seconds, 2)}
    _print_summary(scores, fmt, extra)


def _selected(scenario_dir: Path | None, pattern: str | None, tiers: str | None) -> list[Any]:
    from evals.scenarios import load_scenarios
    from evals.tiers import TIER_DIR

    if tiers is None:
        scenarios = load_scenarios(scenario_dir, pattern)
        if not scenarios:
            raise click.UsageError(f"no scenario matches {pattern!r}")
        return scenarios
    try:
        sizes = {int(t) for t in _csv(tiers)}
    except ValueError:
        raise click.BadParameter(f"{tiers!r} is not a comma-separated list of workload counts",
                                 param_hint="--tiers") from None
    scenarios = [s for s in load_scenarios(scenario_dir or TIER_DIR, pattern) if s.scale in sizes]
    missing = sizes - {s.scale for s in scenarios}
    if missing or not sizes:
        raise click.UsageError(f"no tier of {', '.join(map(str, sorted(missing))) or '?'} workloads under "
                               f"{scenario_dir or TIER_DIR}; write one with `python -m evals.tiers --scales N`")
    return scenarios


@eval_group.command("score")
@click.argument("run_id")
@output_option(FORMATS, "text")
@dir_option
@db_option
def score_cmd(run_id: str, fmt: str, scenario_dir: Path | None, database_url: str | None) -> None:
    """Re-score the stored responses of RUN_ID offline (no model is called)."""
    from evals.grading import score_run

    scores = score_run(_store(database_url), run_id, scenario_dir=scenario_dir)
    _print_summary(scores, fmt, {"run_id": run_id, "responses": len(scores["responses"]), "rescored": True})


@eval_group.command("report")
@click.argument("run_id")
@click.option("--baseline", default=None, help="Run to compare against; regressions fail the command (exit 1).")
@click.option("--margin", default=0.02, show_default=True, type=click.FloatRange(0, 1),
              help="How far a gated metric may drop below the baseline before it counts as a regression.")
@output_option(("markdown", "html", "json"), "markdown")
@output_file_option
@db_option
@click.pass_context
def report_cmd(ctx: click.Context, run_id: str, baseline: str | None, margin: float, fmt: str,
               output_file: str | None, database_url: str | None) -> None:
    """Leaderboard, per-family breakdown, accuracy against cluster size and worst cases of RUN_ID."""
    from evals.report import compare, render_html, render_markdown, summarize

    store = _store(database_url)
    doc = summarize(_scores(store, run_id))
    regressions = compare(doc, summarize(_scores(store, baseline)), margin) if baseline else None
    if fmt == "json":
        text = json.dumps({**doc, "baseline": baseline, "margin": margin, "regressions": regressions}, indent=2)
    else:
        text = (render_html if fmt == "html" else render_markdown)(doc, regressions)
    emit(text, fmt, output_file)
    if regressions:
        click.echo(f"{len(regressions)} regression(s) beyond a margin of {margin} against run {baseline}", err=True)
        ctx.exit(1)


@eval_group.command("runs")
@db_option
def runs_cmd(database_url: str | None) -> None:
    """List stored eval runs, newest first."""
    for run_id, created in _store(database_url).eval_run_ids():
        click.echo(f"{run_id}  {created:%Y-%m-%d %H:%M:%S}")


def _scores(store: Any, run_id: str) -> dict[str, Any]:
    scores = store.latest_eval_scores(run_id)
    if scores is None:
        store.get_eval_run(run_id)  # raises NotFound for an unknown id
        raise NetreasonError(f"run {run_id} has no scores yet; score it with `netreason eval score {run_id}`")
    return dict(scores)
