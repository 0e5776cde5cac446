"""The HTTP API: one router per resource. `/v1` routes need a bearer token when auth is on.

To add a resource, write `service/api/NAME.py` with a `router` and list it below: in `V1_ROUTERS`
for bearer-authenticated /v1 routes, or in `public_routers` for routes with their own auth (Slack
signs its requests, report links are signed) or none (health checks).
"""

from __future__ import annotations

from fastapi import APIRouter

from ..settings import Settings
from . import analyses, analyze, chat, clusters, diff, health, lint, plan, review, slack

#: Mounted behind `deps.require_token`. Each router carries its full prefix (`/v1/...`), so the route
#: a request matched names the whole path template (the metrics' `route` label).
V1_ROUTERS: tuple[APIRouter, ...] = (analyze.router, review.router, clusters.router, chat.router, lint.router,
                                      diff.router, plan.router)


def public_routers(settings: Settings) -> list[APIRouter]:
    """Routers mounted at the root without the blanket bearer check; Slack routes only when Slack is configured.

    Stored analyses check a bearer token or a signed link themselves (`deps.require_token_or_link`).
    """
    return [health.router, analyses.router, *([slack.router] if settings.slack_enabled else [])]
