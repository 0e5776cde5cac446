"""The Slack side of the chat: request signatures, what an event or a slash command asks, posting replies.

Slack signs every request it sends: `X-Slack-Signature: v0=<hex>` is HMAC-SHA256 of `v0:<timestamp>:<raw body>`
keyed with the app's signing secret, and `X-Slack-Request-Timestamp` is that timestamp. Slack's guide: "If the
request timestamp is more than five minutes from local time, it could be a replay attack, so let's ignore it."

Replies go out through the Web API (`chat.postMessage`) with the real `slack_sdk` async client, at the base URL
from settings, so tests aim it at a fake Slack server on 127.0.0.1. Where the bot may not post (a slash command
in a channel it has not joined), the answer goes to the command's `response_url` instead, and only when that
URL lies under the configured prefix: the URL comes from the request, and the server must not be made to post
wherever a request says.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from verifier.model.errors import NetreasonError

log = logging.getLogger("netreason.slack")

#: Slack's replay window: requests signed longer ago than this (or this far in the future) are refused.
REPLAY_WINDOW_S = 300

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


class SlackRequestRejected(NetreasonError):
    """A request that does not prove it comes from Slack: unsigned, stale, or signed with another secret."""


class SlackPostFailed(NetreasonError):
    """Slack refused a `chat.postMessage` call (its error code is in the message)."""


# --- signatures -------------------------------------------------------------------------------------------


def sign(secret: str, timestamp: str | int, body: bytes) -> str:
    """The `X-Slack-Signature` value Slack sends for `body` at `timestamp` (`v0=` + hex HMAC-SHA256)."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify_request(secret: str, timestamp: str | None, signature: str | None, body: bytes,
                   *, now: float | None = None) -> None:
    """Accept a request only when it is signed with `secret` within the last five minutes.

    Raises:
        SlackRequestRejected: a header is missing, the timestamp is not a number or is outside the
            replay window, or the signature does not match (compared in constant time).
    """
    if not timestamp or not signature:
        raise SlackRequestRejected("missing X-Slack-Request-Timestamp or X-Slack-Signature header")
    # A Unix time has at most a dozen digits; a longer one would overflow the float arithmetic below.
    if len(timestamp) > 16 or not timestamp.isdigit():
        raise SlackRequestRejected(f"X-Slack-Request-Timestamp {timestamp[:20]!r} is not a Unix time")
    sent = int(timestamp)
    age = (time.time() if now is None else now) - sent
    if abs(age) > REPLAY_WINDOW_S:
        raise SlackRequestRejected(f"request timestamp is {age:.0f}s away from now (limit {REPLAY_WINDOW_S}s): "
                                   "a replayed or delayed request")
    if not _signed_by_slack(secret, timestamp, signature, body, sent):
        raise SlackRequestRejected("X-Slack-Signature does not match the body; check NETREASON_SLACK_SIGNING_SECRET")


class _FixedClock:
    """slack_sdk's `Clock` interface, stopped at one instant."""

    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def _signed_by_slack(secret: str, timestamp: str, signature: str, body: bytes, sent: int) -> bool:
    """slack_sdk's `SignatureVerifier` (constant-time compare), fed only what it handles without raising.

    The window was checked above with a clear message; its clock is pinned to the signing time so it
    judges the signature alone. Slack signs UTF-8 text (JSON or a form) and an ASCII hex signature: any
    other body or signature, or no secret, is simply not from Slack.
    """
    if not secret.strip() or not signature.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    from slack_sdk.signature import SignatureVerifier  # lazy, as every slack_sdk import here

    # _FixedClock has Clock's one method; slack_sdk types the parameter as its own class
    return SignatureVerifier(secret, clock=_FixedClock(sent)).is_valid(body, timestamp, signature)  # type: ignore[arg-type]


# --- what Slack sent --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlackMessage:
    """A user's message the bot should answer: where it was said and the thread the answer belongs in."""

    team: str
    channel: str
    user: str
    text: str
    thread_ts: str  # the thread's root ts: the message's own ts when it starts a thread
    event_id: str = ""

    @property
    def thread_id(self) -> str:
        """The stored conversation this message belongs to (one per Slack thread)."""
        return slack_thread_id(self.team, self.channel, self.thread_ts)


@dataclass(frozen=True)
class SlashCommand:
    """A `/netreason ...` invocation (the form Slack posts)."""

    team: str
    channel: str
    user: str
    command: str
    text: str
    response_url: str


def slack_thread_id(team: str, channel: str, thread_ts: str) -> str:
    """The conversation id of a Slack thread."""
    return f"slack:{team}:{channel}:{thread_ts}"


def strip_mentions(text: str) -> str:
    """`text` without `<@U123>` user mentions (the bot's own name in an app_mention)."""
    return " ".join(_MENTION.sub(" ", text).split())


def _bot_user(payload: dict[str, Any]) -> str | None:
    auths = payload.get("authorizations")
    for auth in auths if isinstance(auths, list) else ():
        if isinstance(auth, dict) and auth.get("is_bot") and auth.get("user_id"):
            return str(auth["user_id"])
    return None


def message_from_event(payload: dict[str, Any]) -> tuple[SlackMessage, bool] | None:
    """The message an `event_callback` asks the bot to answer, and whether it was a mention; None to ignore.

    `app_mention` is always answered. A plain `message` is a candidate only inside a thread, from a
    person (no `bot_id`, no subtype such as `message_changed` or `bot_message`), and not mentioning
    the bot (that one also arrives as an app_mention, which answers it).
    """
    event = payload.get("event")
    if not isinstance(event, dict):
        return None
    kind = event.get("type")
    if kind not in ("app_mention", "message") or event.get("bot_id") or event.get("subtype"):
        return None
    text = str(event.get("text") or "")
    if kind == "message":
        bot = _bot_user(payload)
        if not event.get("thread_ts") or (bot and f"<@{bot}" in text):
            return None
    channel, ts = str(event.get("channel") or ""), str(event.get("ts") or "")
    msg = SlackMessage(
        team=str(payload.get("team_id") or event.get("team") or ""), channel=channel,
        user=str(event.get("user") or ""), text=strip_mentions(text), thread_ts=str(event.get("thread_ts") or ts),
        # Slack always sends an event_id; a message's channel and ts identify it as well.
        event_id=str(payload.get("event_id") or f"{channel}:{ts}"),
    )
    return msg, kind == "app_mention"


def parse_command(body: bytes) -> SlashCommand:
    """The slash command in a form-encoded request body."""
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return SlashCommand(team=form.get("team_id", ""), channel=form.get("channel_id", ""),
                        user=form.get("user_id", ""), command=form.get("command", "/netreason"),
                        text=" ".join(form.get("text", "").split()), response_url=form.get("response_url", ""))


# --- posting ----------------------------------------------------------------------------------------------


class SlackClient:
    """Posts messages with `slack_sdk`'s AsyncWebClient at a configurable Web API base URL."""

    def __init__(self, token: str, api_url: str) -> None:
        from slack_sdk.web.async_client import AsyncWebClient  # lazy: needs aiohttp, only with Slack on

        # slack_sdk joins the method onto the base with urljoin, which drops a last segment without "/".
        self._client = AsyncWebClient(token=token, base_url=api_url if api_url.endswith("/") else api_url + "/")

    async def post(self, channel: str, text: str, blocks: list[dict[str, Any]] | None = None,
                   thread_ts: str | None = None) -> str:
        """Post a message (in thread `thread_ts` when given); return its `ts`.

        Raises:
            SlackPostFailed: Slack answered `ok: false` (or could not be reached).
        """
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            response = await self._client.chat_postMessage(channel=channel, text=text, blocks=blocks,
                                                           thread_ts=thread_ts, unfurl_links=False)
        except SlackApiError as e:
            detail = e.response.get("error") if e.response is not None else str(e)
            raise SlackPostFailed(f"chat.postMessage to {channel} failed: {detail}") from None
        except (SlackClientError, OSError) as e:
            raise SlackPostFailed(f"chat.postMessage to {channel} failed: {type(e).__name__}: {e}") from None
        return str(response.get("ts") or "")

    async def close(self) -> None:
        """Release the client's HTTP session, when it opened one."""
        session = getattr(self._client, "session", None)
        if session is not None:
            await session.close()


def response_url_allowed(url: str, prefix: str) -> bool:
    """Whether `url` lies under `prefix`: same scheme, host and port, no user info, and a path under the prefix's.

    Paths with `.`/`..` segments (plain or percent-encoded) or backslashes are refused, so a URL cannot
    climb out of the prefix's path.
    """
    try:
        got, want = urlsplit(url), urlsplit(prefix)
        same_origin = (got.scheme.lower(), got.hostname, got.port) == (want.scheme.lower(), want.hostname, want.port)
    except ValueError:  # a port that is not a number
        return False
    if not same_origin or not got.hostname or got.username is not None or "\\" in url:
        return False
    segments = unquote(got.path).split("/")
    return got.path.startswith(want.path) and "." not in segments and ".." not in segments


async def respond(response_url: str, prefix: str, text: str, blocks: list[dict[str, Any]] | None = None,
                  *, timeout_s: float = 10.0) -> None:
    """Post an ephemeral message (only the command's user sees it) to a slash command's `response_url`.

    Raises:
        SlackPostFailed: `response_url` is outside `prefix` (nothing is sent), or the post failed.
    """
    import httpx

    if not response_url_allowed(response_url, prefix):
        raise SlackPostFailed(f"response_url {response_url[:100]!r} is outside NETREASON_SLACK_RESPONSE_URL_PREFIX "
                              f"{prefix!r}; not posting to it")
    payload: dict[str, Any] = {"response_type": "ephemeral", "text": text, **({"blocks": blocks} if blocks else {})}
    try:
        async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as client:
            answer = await client.post(response_url, json=payload)
    except httpx.HTTPError as e:
        raise SlackPostFailed(f"posting to the command's response_url failed: {type(e).__name__}: {e}") from None
    if not answer.is_success:
        raise SlackPostFailed(f"the command's response_url answered {answer.status_code}: {answer.text[:200]}")
