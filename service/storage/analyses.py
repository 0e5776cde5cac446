"""Stored results (analyses, reviews, chat turns), read back by their unguessable id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .base import JsonText, NotFound, Repository, aware, utcnow
from .tables import analyses

class AnalysisNotFound(NotFound):
    """No stored analysis with that id."""


def new_analysis_id() -> str:
    """A fresh analysis id: 32 hex digits from uuid4, unguessable, so a link can be shared."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class StoredAnalysis:
    id: str
    kind: str
    request: dict[str, Any]
    result: dict[str, Any]
    created_at: datetime


class AnalysisRepository(Repository):
    """Stored analyses, reviews and chat turns."""

    def save_analysis(self, kind: str, request: dict[str, Any], result: dict[str, Any] | JsonText,
                      analysis_id: str | None = None) -> StoredAnalysis:
        """Store an analysis (or review) result so a report can be linked.

        `analysis_id` defaults to a new unguessable id (`new_analysis_id()`); pass one made earlier when
        the result must contain its own link. A `JsonText` result is stored as its text (already encoded).
        """
        doc = result.value if isinstance(result, JsonText) else result
        record = StoredAnalysis(analysis_id or new_analysis_id(), kind, request, doc, utcnow())
        with self._tx() as conn:
            conn.execute(analyses.insert().values(id=record.id, kind=kind, request=request, result=result,
                                                  created_at=record.created_at))
        return record

    def get_analysis(self, analysis_id: str) -> StoredAnalysis:
        """The stored analysis `analysis_id`.

        Raises:
            AnalysisNotFound: no such id.
        """
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(analyses).where(analyses.c.id == analysis_id)).mappings().first()
        if row is None:
            raise AnalysisNotFound(f"no analysis {analysis_id!r}; analyses are kept under the id their POST returned")
        return StoredAnalysis(row["id"], row["kind"], row["request"], row["result"], aware(row["created_at"]))
