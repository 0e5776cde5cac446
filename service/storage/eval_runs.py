"""The eval suite's runs: their configuration, every model response (a rerun reuses cached ones) and scores."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .base import NotFound, Repository, aware, utcnow
from .tables import eval_responses, eval_runs, eval_scores

@dataclass(frozen=True)
class EvalResponse:
    """One model response recorded by the eval suite; `cache_key` lets a rerun reuse it."""

    run_id: str
    model: str
    prompt_ref: str
    scenario_id: str
    repeat_index: int
    cache_key: str
    raw_text: str
    usage: dict[str, Any]
    latency_ms: float
    error: str | None = None
    simulated: bool = False
    created_at: datetime | None = None


class EvalRunRepository(Repository):
    """Eval runs, responses and scores."""

    def create_eval_run(self, config: dict[str, Any], run_id: str | None = None) -> str:
        """Record a new eval run with its configuration; return its id (a new uuid unless given)."""
        run_id = run_id or uuid.uuid4().hex
        with self._tx() as conn:
            conn.execute(eval_runs.insert().values(id=run_id, config=config, created_at=utcnow()))
        return run_id

    def add_eval_response(self, response: EvalResponse) -> None:
        """Record one model response of an eval run."""
        values = {**response.__dict__, "created_at": response.created_at or utcnow()}
        with self._tx() as conn:
            conn.execute(eval_responses.insert().values(**values))

    def eval_responses(self, run_id: str) -> list[EvalResponse]:
        """Responses of run `run_id` in the order they were recorded."""
        query = sa.select(eval_responses).where(eval_responses.c.run_id == run_id).order_by(eval_responses.c.id)
        with self.engine.connect() as conn:
            return [_eval_response(row) for row in conn.execute(query).mappings()]

    def cached_eval_response(self, cache_key: str) -> EvalResponse | None:
        """The newest error-free response recorded under `cache_key`, or None."""
        r = eval_responses.c
        query = (sa.select(eval_responses).where(r.cache_key == cache_key, r.error.is_(None))
                 .order_by(r.id.desc()).limit(1))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _eval_response(row) if row is not None else None


    def get_eval_run(self, run_id: str) -> dict[str, Any]:
        """The configuration run `run_id` was created with.

        Raises:
            NotFound: no such run.
        """
        with self.engine.connect() as conn:
            config = conn.execute(sa.select(eval_runs.c.config).where(eval_runs.c.id == run_id)).scalar()
        if config is None:
            raise NotFound(f"no eval run {run_id!r}; list runs with `netreason eval runs`")
        return dict(config)

    def eval_run_ids(self) -> list[tuple[str, datetime]]:
        """(id, created_at) of every eval run, newest first."""
        with self.engine.connect() as conn:
            query = sa.select(eval_runs.c.id, eval_runs.c.created_at).order_by(eval_runs.c.created_at.desc())
            rows = conn.execute(query)
            return [(row.id, aware(row.created_at)) for row in rows]

    def save_eval_scores(self, run_id: str, scorer: str, result: dict[str, Any]) -> None:
        """Record one scoring pass of run `run_id` (`scorer` names the scoring version)."""
        with self._tx() as conn:
            conn.execute(eval_scores.insert().values(run_id=run_id, scorer=scorer, result=result, created_at=utcnow()))

    def latest_eval_scores(self, run_id: str) -> dict[str, Any] | None:
        """The result of the newest scoring pass of run `run_id`, or None if it was never scored."""
        query = (sa.select(eval_scores.c.result).where(eval_scores.c.run_id == run_id)
                 .order_by(eval_scores.c.id.desc()).limit(1))
        with self.engine.connect() as conn:
            result = conn.execute(query).scalar()
        return dict(result) if result is not None else None


def _eval_response(row: Any) -> EvalResponse:
    data = {k: v for k, v in dict(row).items() if k != "id"}
    data["created_at"] = aware(data["created_at"])
    return EvalResponse(**data)
