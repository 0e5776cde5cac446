"""A stand-in for the GitHub REST API's issue comments on 127.0.0.1: list (paginated), create, update.

Just enough for the CI scripts (examples/ci/review-pr.sh, the Action's action/pr_diff.py); it records every
call so tests can say what was sent.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

FIRST_ID = 77


class FakeGitHub(BaseHTTPRequestHandler):
    """The handler; its class attributes hold the state of the one server a test runs."""

    calls: ClassVar[list[tuple[str, str, Any]]] = []
    comments: ClassVar[list[dict[str, Any]]] = []
    next_id = FIRST_ID

    @classmethod
    def reset(cls, comments: list[dict[str, Any]] | None = None) -> None:
        cls.calls, cls.comments, cls.next_id = [], list(comments or []), FIRST_ID

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")

    def do_GET(self) -> None:
        self.calls.append(("GET", self.path, self.headers.get("Authorization")))
        found = re.search(r"[?&]page=(\d+)", self.path)
        page = int(found.group(1)) if found else 1
        self._reply(200, self.comments[(page - 1) * 100: page * 100])

    def do_POST(self) -> None:
        body = self._body()
        self.calls.append(("POST", self.path, body))
        cid = type(self).next_id
        type(self).next_id += 1
        self.comments.append({"id": cid, "body": body["body"], "html_url": f"https://github.example/c/{cid}"})
        self._reply(201, self.comments[-1])

    def do_PATCH(self) -> None:
        body = self._body()
        self.calls.append(("PATCH", self.path, body))
        cid = int(self.path.rsplit("/", 1)[1])
        for comment in self.comments:
            if comment["id"] == cid:
                comment["body"] = body["body"]
        self._reply(200, {"id": cid, "body": body["body"], "html_url": f"https://github.example/c/{cid}"})

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def fake_github(comments: list[dict[str, Any]] | None = None) -> Iterator[str]:
    """Serve the stand-in on a free port; yields its base URL (GITHUB_API_URL)."""
    FakeGitHub.reset(comments)
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGitHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
