"""A fake Slack Web API: a real HTTP server on 127.0.0.1 that records what the app posts.

Point the real `slack_sdk` client at it (`NETREASON_SLACK_API_URL=srv.api_url`) and read the calls back:

    with FakeSlackServer(token="xoxb-test") as slack:
        ...                                          # drive the service
        [post] = slack.wait_for_posts(1)
        assert post.body["thread_ts"] == "1700000000.000100"

It answers `chat.postMessage` as Slack does (`{"ok": true, "channel": ..., "ts": ..., "message": ...}`),
refuses a wrong bearer token with `invalid_auth`, and checks the Block Kit limits Slack enforces
(50 blocks, 3,000 characters of section text, 150 of header text, 10 context elements), answering
`invalid_blocks` with Slack's `response_metadata.messages` when a message breaks one. `fail_next("ratelimited")`
makes the next call fail with that error; `leave("C9")` makes every chat.postMessage to channel C9 fail with
`not_in_channel`, as for a channel the app was never invited to.

It also stands in for a slash command's `response_url`: a POST to any path outside `/api/` is recorded
(`responses()`, `wait_for_responses(n)`) and answered `ok` under `/hooks/` (`hooks_url`), 404 elsewhere.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10


@dataclass(frozen=True)
class SlackCall:
    """One Web API call: the method (`chat.postMessage`), the bearer token and the arguments."""

    method: str
    token: str | None
    body: dict[str, Any]
    answer: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.answer.get("ok"))


@dataclass(frozen=True)
class ResponseUrlPost:
    """One POST to a URL outside the Web API (a slash command's `response_url`): its path and JSON body."""

    path: str
    body: dict[str, Any]


class FakeSlackServer:
    """The server; use as a context manager or call `start()`/`stop()`. Thread-safe."""

    def __init__(self, token: str | None = None, bot_user_id: str = "U0NETREASON") -> None:
        self.token = token
        self.bot_user_id = bot_user_id
        self.calls: list[SlackCall] = []
        self.response_posts: list[ResponseUrlPost] = []
        self._failures: deque[str] = deque()
        self._absent_from: dict[str, str] = {}
        self._ts = itertools.count(100)
        self._changed = threading.Condition()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> FakeSlackServer:
        """Bind a free port on 127.0.0.1 and serve on a daemon thread."""
        self._httpd = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-slack", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeSlackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        """The Web API base URL, like `https://slack.com/api/` (slack_sdk's `base_url`)."""
        assert self._httpd is not None, "start the server first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/api/"

    @property
    def hooks_url(self) -> str:
        """The base of the fake `response_url`s, like `https://hooks.slack.com/` (posts under it are answered ok)."""
        return self.api_url[: -len("api/")] + "hooks/"

    # -- scripting and reading back ----------------------------------------------------------------------
    def fail_next(self, *errors: str) -> None:
        """Answer the next calls with `{"ok": false, "error": <error>}`, one per error, in order."""
        with self._changed:
            self._failures.extend(errors)

    def leave(self, channel: str, error: str = "not_in_channel") -> None:
        """Fail every chat.postMessage to `channel` with `error` from now on (the app is not a member)."""
        with self._changed:
            self._absent_from[channel] = error

    def responses(self) -> list[ResponseUrlPost]:
        """Every POST outside `/api/` so far (response_url posts, refused paths included), in order."""
        with self._changed:
            return list(self.response_posts)

    def wait_for_responses(self, count: int, timeout: float = 10.0) -> list[ResponseUrlPost]:
        """The first `count` response_url posts, waiting up to `timeout` seconds for them.

        Raises:
            AssertionError: fewer arrived in time.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.response_posts) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} response_url post(s) within {timeout}s, "
                                         f"got {len(self.response_posts)}")
                self._changed.wait(left)
            return self.response_posts[:count]

    def posts(self) -> list[SlackCall]:
        """Every `chat.postMessage` call so far, in order (failed ones included)."""
        with self._changed:
            return [c for c in self.calls if c.method == "chat.postMessage"]

    def wait_for_posts(self, count: int, timeout: float = 10.0) -> list[SlackCall]:
        """The first `count` chat.postMessage calls, waiting up to `timeout` seconds for them.

        Raises:
            AssertionError: fewer arrived in time (the message says how many did).
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(posts := [c for c in self.calls if c.method == "chat.postMessage"]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} chat.postMessage call(s) within {timeout}s, got "
                                         f"{len(posts)}")
                self._changed.wait(left)
            return posts[:count]

    # -- serving (handler threads) -----------------------------------------------------------------------
    def _serve(self, method: str, token: str | None, body: dict[str, Any]) -> dict[str, Any]:
        with self._changed:
            answer = self._answer(method, token, body)
            self.calls.append(SlackCall(method, token, body, answer))
            self._changed.notify_all()
        return answer

    def _answer(self, method: str, token: str | None, body: dict[str, Any]) -> dict[str, Any]:
        if self.token is not None and token != self.token:
            return {"ok": False, "error": "invalid_auth" if token else "not_authed"}
        if self._failures:
            return {"ok": False, "error": self._failures.popleft()}
        if method == "auth.test":
            return {"ok": True, "user_id": self.bot_user_id, "team_id": "T0TEST", "bot_id": "B0NETREASON"}
        if method != "chat.postMessage":
            return {"ok": False, "error": "unknown_method"}
        return self._post_message(body)

    def _post_message(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if body["channel"] in self._absent_from:
            return {"ok": False, "error": self._absent_from[body["channel"]]}
        blocks = body.get("blocks")
        if isinstance(blocks, str):  # form-encoded calls send blocks as a JSON string
            blocks = json.loads(blocks)
        problems = block_problems(blocks or [])
        if problems:
            return {"ok": False, "error": "invalid_blocks", "response_metadata": {"messages": problems}}
        if not body.get("text") and not blocks:
            return {"ok": False, "error": "no_text"}
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        message = {"type": "message", "user": self.bot_user_id, "text": body.get("text", ""), "ts": ts,
                   "blocks": blocks or [], **({"thread_ts": body["thread_ts"]} if body.get("thread_ts") else {})}
        return {"ok": True, "channel": body["channel"], "ts": ts, "message": message}

    def _serve_response_url(self, path: str, body: dict[str, Any]) -> bool:
        with self._changed:
            self.response_posts.append(ResponseUrlPost(path, body))
            self._changed.notify_all()
        return path.startswith("/hooks/")


def block_problems(blocks: list[dict[str, Any]]) -> list[str]:
    """Slack's complaints about a message's blocks, worded as its `response_metadata.messages`; [] when valid."""
    problems = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"[ERROR] no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        kind = block.get("type")
        text = (block.get("text") or {}).get("text", "")
        if kind == "section" and len(text) > MAX_SECTION_TEXT:
            problems.append(f"[ERROR] must be less than {MAX_SECTION_TEXT + 1} characters "
                            f"[json-pointer:/blocks/{i}/text]")
        if kind == "header" and len(text) > MAX_HEADER_TEXT:
            problems.append(f"[ERROR] must be less than {MAX_HEADER_TEXT + 1} characters "
                            f"[json-pointer:/blocks/{i}/text]")
        if kind == "context" and len(block.get("elements") or []) > MAX_CONTEXT_ELEMENTS:
            problems.append(f"[ERROR] no more than {MAX_CONTEXT_ELEMENTS} items allowed "
                            f"[json-pointer:/blocks/{i}/elements]")
        if kind not in ("section", "header", "context", "divider", "actions", "image", "rich_text", "markdown"):
            problems.append(f"[ERROR] unsupported type: {kind} [json-pointer:/blocks/{i}/type]")
    return problems


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], fake: FakeSlackServer):
        self.fake = fake
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        if not self.path.startswith("/api/"):
            if self.server.fake._serve_response_url(self.path, json.loads(raw) if raw else {}):
                self._send_text(200, "ok")
            else:
                self._send(404, {"ok": False, "error": "not_found"})
            return
        method = self.path[len("/api/"):].split("?", 1)[0]
        self._send(200, self.server.fake._serve(method, self._token(), self._body(raw)))

    def _token(self) -> str | None:
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None

    def _body(self, raw: str) -> dict[str, Any]:
        if (self.headers.get("Content-Type") or "").startswith("application/json"):
            return json.loads(raw) if raw else {}
        return dict(parse_qsl(raw))

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send_text(self, status: int, text: str) -> None:
        data = text.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_slack() -> Iterator[FakeSlackServer]:
    """A started `FakeSlackServer` expecting the bot token `xoxb-test-token`, stopped after the test."""
    with FakeSlackServer(token="xoxb-test-token") as server:
        yield server
