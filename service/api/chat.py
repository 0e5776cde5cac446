"""POST /v1/chat: one turn of a stored conversation about a cluster, answered by the verifier (and a model).

This router translates HTTP only: the turn itself (choosing the snapshot, answering, storing, linking) is
`turns.run_chat_turn`, which the Slack routes run too.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from .deps import State, require_token
from .manifests import NAME_PATTERN
from .turns import DEFAULT_CLUSTER, NoClusterChosen, SnapshotChoice, run_chat_turn, split_cluster

router = APIRouter(prefix="/v1", tags=["chat"])

THREAD_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9:._-]{0,199}$"

__all__ = ["DEFAULT_CLUSTER", "ChatRequest", "NoClusterChosen", "SnapshotChoice", "router"]
class ChatRequest(BaseModel):
    """One user message. Send `cluster` or `manifests` on a thread's first turn; follow-ups may omit both."""

    model_config = ConfigDict(extra="forbid")

    thread_id: str | None = Field(None, pattern=THREAD_PATTERN,
                                  description="The conversation; omit to start one (the reply carries its id).")
    text: str = Field(min_length=1, max_length=4000, examples=["can api reach postgres:5432?"])
    cluster: str | None = Field(None, pattern=NAME_PATTERN, description="A stored cluster snapshot's name.")
    revision: int | None = Field(None, ge=1, description="Revision of `cluster` (default: the latest).")
    manifests: str | list[Any] | None = Field(None, description="YAML or JSON text, or a JSON list of objects.")
    deps: str | list[dict[str, Any]] | None = Field(None, description="Declared dependencies for `manifests`.")
    namespace: str = Field("default", description="Namespace of objects that name none.")
    model: str | None = Field(None, description="Model spec (default: NETREASON_MODEL; none: the verifier alone).")
    timeout_s: float | None = Field(None, gt=0, description="Seconds to wait for the model (capped by the server).")


def _as_text(value: str | list[Any] | None) -> str | None:
    return value if value is None or isinstance(value, str) else json.dumps(value, indent=1)


@router.post("/chat", summary="Ask about a cluster in a stored conversation; the reply's claims are checked")
async def post_chat(body: ChatRequest, state: State,
                    caller: str | None = Depends(require_token)) -> JSONResponse:
    """The reply as JSON: verdicts, the model's checked claims, Markdown and Slack Block Kit blocks.

    Raises:
        ClusterNotFound: 404. NoClusterChosen: 422. ApiProblem: 403 for a model outside the allow-list.
    """
    choice = SnapshotChoice(body.cluster, body.revision, _as_text(body.manifests), _as_text(body.deps), body.namespace,
                            owner=caller or "")
    text = body.text
    if choice.cluster is None and choice.manifests is None:  # "what breaks in prod?" names the cluster
        named, text = await run_in_threadpool(split_cluster, state.store, body.text)
        choice = dataclasses.replace(choice, cluster=named)
    thread_id = body.thread_id or f"chat-{uuid.uuid4().hex}"
    reply = await run_chat_turn(state, thread_id=thread_id, text=text, choice=choice, model=body.model,
                                timeout_s=body.timeout_s)
    public = {k: v for k, v in reply.items() if k != "analysis"}  # the full analysis is behind report_url
    return JSONResponse(public, headers={"X-Netreason-Analysis-Id": reply["analysis_id"]})
