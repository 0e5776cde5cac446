"""The Slack app: POST /slack/events (Events API) and POST /slack/commands (the `/netreason` slash command).

Mounted only when NETREASON_SLACK_SIGNING_SECRET and NETREASON_SLACK_BOT_TOKEN are both set. Every request
must carry a valid Slack signature from the last five minutes (401 otherwise). Slack wants an answer within
three seconds, so both routes acknowledge at once and answer in a background task, posting with
`chat.postMessage` into the thread. Slack retries a delivery it thinks failed with the same `event_id`;
each id is claimed in the `slack_events` table (`processing`, then `done` or `failed`): a retry is processed
again only when the last attempt failed or has been processing longer than NETREASON_SLACK_EVENT_STALE_S
(its process died), and ignored otherwise. A slash command the bot cannot post about in its channel (not
invited there) is answered to the user alone through the command's `response_url`.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from verifier.model.errors import NetreasonError

from ..renderers.blocks import escape, fallback_text
from ..slack import (
    SlackClient,
    SlackMessage,
    SlackPostFailed,
    SlackRequestRejected,
    SlashCommand,
    message_from_event,
    parse_command,
    respond,
    response_url_allowed,
    slack_thread_id,
    verify_request,
)
from ..store import Store
from .deps import ServiceState, State
from .errors import ApiProblem
from .turns import SnapshotChoice, run_chat_turn, split_cluster

log = logging.getLogger("netreason.slack")

router = APIRouter(prefix="/slack", tags=["slack"])

USAGE = ("Ask me whether one workload can reach another under your NetworkPolicies, e.g. "
         "`/netreason prod can api reach postgres:5432` (a stored cluster's name may appear anywhere). "
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


# --- events -----------------------------------------------------------------------------------------------


@router.post("/events", summary="Slack Events API: url_verification, app_mention, thread replies")
async def events(body: SignedBody, request: Request, state: State, background: BackgroundTasks) -> JSONResponse:
    """Acknowledge at once; answer a mention or a reply in a netreason thread in the background.

    Raises:
        ApiProblem: 400 for a body that is not JSON.
    """
    try:
        payload: dict[str, Any] = json.loads(body)
    except (ValueError, RecursionError):
        raise ApiProblem(400, "bad-slack-payload", "Bad Slack payload", "the event body is not JSON") from None
    if not isinstance(payload, dict):
        raise ApiProblem(400, "bad-slack-payload", "Bad Slack payload", "the event body is not a JSON object")
    kind = payload.get("type")
    if kind == "url_verification":
        return JSONResponse({"challenge": payload.get("challenge", "")})
    found = message_from_event(payload) if kind == "event_callback" else None
    if found is None:
        return JSONResponse({"ok": True, "ignored": True})
    message, mention = found
    event_type = str(payload["event"].get("type", ""))  # message_from_event found it a dict
    attempt = await run_in_threadpool(state.store.claim_slack_event, message.event_id, event_type,
                                      stale_after_s=state.settings.slack_event_stale_s)
    if attempt is None:
        log.info("slack event %s: duplicate delivery (retry %s, %s) ignored", message.event_id,
                 request.headers.get("x-slack-retry-num"), request.headers.get("x-slack-retry-reason"))
        return JSONResponse({"ok": True, "duplicate": True})
    state.background.add(background, process_event, state, message, mention, attempt)
    return JSONResponse({"ok": True})


async def process_event(state: ServiceState, message: SlackMessage, mention: bool, attempt: int) -> None:
    """Answer a claimed event, then mark the attempt `done`, or `failed` when the answer was not delivered
    (a retry of the event then runs it again)."""
    succeeded = False
    try:
        await answer_message(state, message, mention)
        succeeded = True
    except SlackPostFailed as e:
        log.error("slack: %s (event %s may be retried)", e, message.event_id)
    except Exception:
        log.exception("slack: event %s failed", message.event_id)
    finally:
        await run_in_threadpool(state.store.finish_slack_event, message.event_id, attempt, succeeded=succeeded)


def _has_thread(store: Store, thread_id: str) -> bool:
    return bool(store.thread_messages(thread_id, limit=1))


async def answer_message(state: ServiceState, message: SlackMessage, mention: bool) -> None:
    """Answer a mention, or a reply in a thread netreason already answers in; post into the thread.

    Raises:
        SlackPostFailed: the answer could not be posted.
    """
    if not mention and not await run_in_threadpool(_has_thread, state.store, message.thread_id):
        return  # a conversation between people that netreason is not part of
    cluster, text = await run_in_threadpool(split_cluster, state.store, message.text)
    await answer_and_post(state, channel=message.channel, thread_ts=message.thread_ts,
                          thread_id=message.thread_id, text=text, cluster=cluster)


async def answer_and_post(state: ServiceState, *, channel: str, thread_ts: str, thread_id: str, text: str,
                          cluster: str | None) -> None:
    """Run one chat turn and post the reply (or why there is none) in the thread.

    Raises:
        SlackPostFailed: Slack refused the post (the reason is logged by the caller).
    """
    fallback, blocks = await compose_reply(state, channel=channel, thread_id=thread_id, text=text, cluster=cluster)
    await slack_client(state).post(channel, fallback, blocks, thread_ts=thread_ts)


async def compose_reply(state: ServiceState, *, channel: str, thread_id: str, text: str,
                        cluster: str | None) -> tuple[str, list[dict[str, Any]] | None]:
    """Run one chat turn; return its (fallback text, Block Kit blocks), or a warning saying why there is no
    answer (blocks None). Never raises: the user must hear something."""
    blocks: list[dict[str, Any]] | None = None
    try:
        reply = await run_chat_turn(state, thread_id=thread_id, text=text, choice=SnapshotChoice(cluster=cluster),
                                    channel=channel)
        blocks, fallback = reply["blocks"], fallback_text(reply)
    except NetreasonError as e:
        fallback = f":warning: {e}"
    except Exception:
        log.exception("slack: answering %r in %s failed", text[:200], thread_id)
        fallback = FAILED
    return fallback, blocks


# --- the slash command ------------------------------------------------------------------------------------


@router.post("/commands", summary="The /netreason slash command")
async def commands(body: SignedBody, state: State, background: BackgroundTasks) -> JSONResponse:
    """Answer at once with an ephemeral note; post the question and, in its thread, the answer."""
    command = parse_command(body)
    if not command.text or command.text.lower() in ("help", "?"):
        return JSONResponse({"response_type": "ephemeral", "text": USAGE})
    state.background.add(background, answer_command, state, command)
    return JSONResponse({"response_type": "ephemeral", "text": f"Working on it: {command.text}"})


async def answer_command(state: ServiceState, command: SlashCommand) -> None:
    """Post the question to the channel, then the answer in its thread (so replies there follow up).

    When the bot may not post there (`not_in_channel`, `channel_not_found`, ...), answer the user alone
    through the command's `response_url`.
    """
    client = slack_client(state)
    try:
        root = await client.post(command.channel, f"<@{command.user}> asked: {escape(command.text)}")
    except SlackPostFailed as e:
        log.warning("slack: %s; answering through the command's response_url (invite the app to the channel "
                    "to answer there)", e)
        await answer_ephemerally(state, command)
        return
    cluster, text = await run_in_threadpool(split_cluster, state.store, command.text)
    try:
        await answer_and_post(state, channel=command.channel, thread_ts=root, text=text, cluster=cluster,
                              thread_id=slack_thread_id(command.team, command.channel, root))
    except SlackPostFailed as e:
        log.error("slack: %s", e)


async def answer_ephemerally(state: ServiceState, command: SlashCommand) -> None:
    """Answer a slash command to its user alone, posting to its `response_url`; never raises.

    A `response_url` outside NETREASON_SLACK_RESPONSE_URL_PREFIX is refused before any work is done.
    """
    prefix = state.settings.slack_response_url_prefix
    if not response_url_allowed(command.response_url, prefix):
        log.error("slack: response_url %r is outside NETREASON_SLACK_RESPONSE_URL_PREFIX %r; the command "
                  "from %s in %s is not answered", command.response_url[:100], prefix, command.user, command.channel)
        return
    cluster, text = await run_in_threadpool(split_cluster, state.store, command.text)
    # An ephemeral answer has no thread to follow up in: the turn is a conversation of its own.
    thread_id = slack_thread_id(command.team, command.channel, f"ephemeral-{uuid.uuid4().hex}")
    fallback, blocks = await compose_reply(state, channel=command.channel, thread_id=thread_id, text=text,
                                           cluster=cluster)
    try:
        await respond(command.response_url, prefix, fallback, blocks)
    except SlackPostFailed as e:
        log.error("slack: %s", e)
