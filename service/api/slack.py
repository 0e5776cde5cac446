"""The Slack app: POST /slack/events (Events API) and POST /slack/commands (the `/netreason` slash command).

Mounted only when NETREASON_SLACK_SIGNING_SECRET and NETREASON_SLACK_BOT_TOKEN are both set. Every request
must carry a valid Slack signature from the last five minutes (401 otherwise). Slack wants an answer within
three seconds, so both routes acknowledge at once and answer in a background task, posting with
`chat.postMessage` into the thread. Slack retries a delivery it thinks failed with the same `event_id`;
each id is processed once (`slack_events` table).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from verifier.errors import NetreasonError

from ..renderers.blocks import escape, fallback_text
from ..slack import (
    SlackClient,
    SlackMessage,
    SlackPostFailed,
    SlackRequestRejected,
    SlashCommand,
    message_from_event,
    parse_command,
    slack_thread_id,
    verify_request,
)
from ..store import Store
from .chat import SnapshotChoice, run_chat_turn
from .deps import ServiceState, State
from .errors import ApiProblem
from .manifests import NAME_PATTERN

log = logging.getLogger("netreason.slack")

router = APIRouter(prefix="/slack", tags=["slack"])

USAGE = ("Ask me whether one workload can reach another under your NetworkPolicies, e.g. "
         "`/netreason prod can api reach postgres:5432` (the first word may name a stored cluster). "
         "Reply in the thread to follow up: `and from the marketing namespace?`")
FAILED = ":warning: netreason failed to answer this; the server log has the details."


async def signed_body(request: Request, state: State) -> bytes:
    """The raw request body, once its Slack signature is verified.

    Raises:
        ApiProblem: 401 for a missing, stale or wrong signature.
    """
    body = await request.body()
    secret = state.settings.slack_signing_secret
    try:
        verify_request(secret.get_secret_value() if secret else "", request.headers.get("x-slack-request-timestamp"),
                       request.headers.get("x-slack-signature"), body)
    except SlackRequestRejected as e:
        raise ApiProblem(401, "slack-signature", "Slack request not verified", str(e)) from None
    return body


SignedBody = Annotated[bytes, Depends(signed_body)]


def slack_client(state: ServiceState) -> SlackClient:
    token = state.settings.slack_bot_token
    return SlackClient(token.get_secret_value() if token else "", state.settings.slack_api_url)


def split_cluster(store: Store, text: str) -> tuple[str | None, str]:
    """(`prod`, the rest) when the first word names a stored cluster snapshot, else (None, `text`)."""
    first, _, rest = text.strip().partition(" ")
    if rest and re.match(NAME_PATTERN, first) and first in {name for name, _ in store.cluster_names()}:
        return first, rest.strip()
    return None, text.strip()


# --- events -----------------------------------------------------------------------------------------------


@router.post("/events", summary="Slack Events API: url_verification, app_mention, thread replies")
async def events(body: SignedBody, request: Request, state: State, background: BackgroundTasks) -> JSONResponse:
    """Acknowledge at once; answer a mention or a reply in a netreason thread in the background.

    Raises:
        ApiProblem: 400 for a body that is not JSON.
    """
    try:
        payload: dict[str, Any] = json.loads(body)
    except ValueError:
        raise ApiProblem(400, "bad-slack-payload", "Bad Slack payload", "the event body is not JSON") from None
    kind = payload.get("type")
    if kind == "url_verification":
        return JSONResponse({"challenge": payload.get("challenge", "")})
    found = message_from_event(payload) if kind == "event_callback" else None
    if found is None:
        return JSONResponse({"ok": True, "ignored": True})
    message, mention = found
    event_type = str((payload.get("event") or {}).get("type", ""))
    if not await run_in_threadpool(state.store.claim_slack_event, message.event_id, event_type):
        log.info("slack event %s: duplicate delivery (retry %s, %s) ignored", message.event_id,
                 request.headers.get("x-slack-retry-num"), request.headers.get("x-slack-retry-reason"))
        return JSONResponse({"ok": True, "duplicate": True})
    background.add_task(answer_message, state, message, mention)
    return JSONResponse({"ok": True})


def _has_thread(store: Store, thread_id: str) -> bool:
    return bool(store.thread_messages(thread_id, limit=1))


async def answer_message(state: ServiceState, message: SlackMessage, mention: bool) -> None:
    """Answer a mention, or a reply in a thread netreason already answers in; post into the thread."""
    if not mention and not await run_in_threadpool(_has_thread, state.store, message.thread_id):
        return  # a conversation between people that netreason is not part of
    cluster, text = await run_in_threadpool(split_cluster, state.store, message.text)
    await answer_and_post(state, channel=message.channel, thread_ts=message.thread_ts,
                          thread_id=message.thread_id, text=text, cluster=cluster)


async def answer_and_post(state: ServiceState, *, channel: str, thread_ts: str, thread_id: str, text: str,
                          cluster: str | None) -> None:
    """Run one chat turn and post the reply (or why there is none) in the thread; never raises."""
    blocks: list[dict[str, Any]] | None = None
    try:
        reply = await run_chat_turn(state, thread_id=thread_id, text=text, choice=SnapshotChoice(cluster=cluster),
                                    channel=channel)
        blocks, fallback = reply["blocks"], fallback_text(reply)
    except NetreasonError as e:
        fallback = f":warning: {e}"
    except Exception:  # noqa: BLE001 (a background task: the user must hear something)
        log.exception("slack: answering %r in %s failed", text[:200], thread_id)
        fallback = FAILED
    try:
        await slack_client(state).post(channel, fallback, blocks, thread_ts=thread_ts)
    except SlackPostFailed as e:
        log.error("slack: %s", e)


# --- the slash command ------------------------------------------------------------------------------------


@router.post("/commands", summary="The /netreason slash command")
async def commands(body: SignedBody, state: State, background: BackgroundTasks) -> JSONResponse:
    """Answer at once with an ephemeral note; post the question and, in its thread, the answer."""
    command = parse_command(body)
    if not command.text or command.text.lower() in ("help", "?"):
        return JSONResponse({"response_type": "ephemeral", "text": USAGE})
    background.add_task(answer_command, state, command)
    return JSONResponse({"response_type": "ephemeral", "text": f"Working on it: {command.text}"})


async def answer_command(state: ServiceState, command: SlashCommand) -> None:
    """Post the question to the channel, then the answer in its thread (so replies there follow up)."""
    client = slack_client(state)
    try:
        root = await client.post(command.channel, f"<@{command.user}> asked: {escape(command.text)}")
    except SlackPostFailed as e:
        log.error("slack: %s (invite the app to the channel so it can post there)", e)
        return
    cluster, text = await run_in_threadpool(split_cluster, state.store, command.text)
    await answer_and_post(state, channel=command.channel, thread_ts=root, text=text, cluster=cluster,
                          thread_id=slack_thread_id(command.team, command.channel, root))
