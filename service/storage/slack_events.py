"""Slack deliveries: each event id's processing -> done | failed state, so a retry is answered once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .base import Repository, utcnow
from .tables import slack_events

#: How long a Slack delivery may stay `processing` before a retry of it takes over (NETREASON_SLACK_EVENT_STALE_S).
SLACK_EVENT_STALE_AFTER_S = 120.0

SlackEventStatus = Literal["processing", "done", "failed"]


class SlackEventRepository(Repository):
    """Slack event deliveries and their attempts."""

    def claim_slack_event(self, event_id: str, event_type: str = "", *,
                          stale_after_s: float = SLACK_EVENT_STALE_AFTER_S, now: datetime | None = None) -> int | None:
        """Claim Slack event `event_id` for processing; return the attempt number (1, 2, ...), or None to ignore it.

        Each delivery is a small state machine: the first records `processing` at `now`, and
        `finish_slack_event` marks it `done` or `failed`. A retried delivery (same id) is claimed again
        when the last attempt `failed`, or has been `processing` longer than `stale_after_s` (its process
        died mid-answer); it is ignored while `done`, or `processing` more recently. Atomic across
        processes: of deliveries racing for one id, exactly one gets each claim. `now` defaults to the
        current UTC time (tests inject a clock).
        """
        now = now or utcnow()
        try:
            with self._tx() as conn:
                conn.execute(slack_events.insert().values(event_id=event_id, event_type=event_type, received_at=now,
                                                          status="processing", claimed_at=now, attempts=1))
            return 1
        except IntegrityError:
            pass  # a retried delivery: take it over only from a failed or a stale attempt
        e = slack_events.c
        stale = sa.and_(e.status == "processing", e.claimed_at < now - timedelta(seconds=stale_after_s))
        takeover = (slack_events.update().where(e.event_id == event_id, sa.or_(e.status == "failed", stale))
                    .values(status="processing", claimed_at=now, attempts=e.attempts + 1).returning(e.attempts))
        with self._tx() as conn:
            attempt = conn.execute(takeover).scalar()
        return int(attempt) if attempt is not None else None

    def finish_slack_event(self, event_id: str, attempt: int, *, succeeded: bool) -> bool:
        """Mark attempt `attempt` of event `event_id` `done` (succeeded) or `failed` (a retry may run it again).

        Returns False, changing nothing, when that attempt is no longer the event's current one (a retry
        took a stale claim over) or was finished already.
        """
        e = slack_events.c
        finish = (slack_events.update()
                  .where(e.event_id == event_id, e.attempts == attempt, e.status == "processing")
                  .values(status="done" if succeeded else "failed"))
        with self._tx() as conn:
            return conn.execute(finish).rowcount > 0

    def slack_event_status(self, event_id: str) -> tuple[SlackEventStatus, int] | None:
        """(status, attempts) of Slack event `event_id`, or None when it was never claimed."""
        e = slack_events.c
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(e.status, e.attempts).where(e.event_id == event_id)).first()
        return (row.status, int(row.attempts)) if row is not None else None
