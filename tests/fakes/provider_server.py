"""A real HTTP server on 127.0.0.1 that speaks the OpenAI Chat Completions and Anthropic Messages wire formats.

Tests aim the real SDK clients at it (`base_url=srv.openai_base_url` / `srv.anthropic_base_url`) and script
what it does, one behaviour per request, in order:

    with FakeProviderServer() as srv:
        srv.enqueue(rate_limited(retry_after="0.2"), answer({"summary": "ok", "claims": []}))
        ...                                   # call the provider
        assert srv.requests[0].body["model"] == "gpt-4.1-mini"

Behaviours render in the wire format of the path they are served on, so one queue serves both APIs.
When the queue is empty the optional `responder(request) -> behaviour | dict` answers (load tests);
with neither, the server answers HTTP 418 naming the problem. `reject_response_format("json_schema")`
makes the Chat Completions endpoint refuse that response_format on every request, as some local servers do.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import pytest

Wire = Literal["openai", "anthropic"]


@dataclass(frozen=True)
class Answer:
    """A successful reply whose content is `data` (OpenAI: JSON text; Anthropic: tool input or JSON text)."""

    data: Mapping[str, Any]
    delay_s: float = 0.0
    input_tokens: int = 42
    output_tokens: int = 17


@dataclass(frozen=True)
class RawText:
    """A successful reply whose content is `text` verbatim (malformed JSON, prose, a code fence)."""

    text: str
    delay_s: float = 0.0
    input_tokens: int = 42
    output_tokens: int = 17


@dataclass(frozen=True)
class Failure:
    """An error reply: `status`, the API's error body, and `Retry-After` when given."""

    status: int
    message: str
    retry_after: str | None = None
    param: str | None = None
    code: str | None = None
    delay_s: float = 0.0


Behaviour = Answer | RawText | Failure
Responder = Callable[["RecordedRequest"], Behaviour | Mapping[str, Any]]


def answer(data: Mapping[str, Any], *, delay_s: float = 0.0, input_tokens: int = 42, output_tokens: int = 17) -> Answer:
    """A good (or wrong, or hallucinated: it is just data) answer."""
    return Answer(data, delay_s, input_tokens, output_tokens)


def malformed(text: str = '{"summary": "cut off here", "claims": [') -> RawText:
    """Text that is not a JSON object."""
    return RawText(text)


def rate_limited(retry_after: str | None = "0.2", message: str = "Rate limit reached, slow down") -> Failure:
    """HTTP 429, with a `Retry-After` header (seconds or an HTTP date) unless None."""
    return Failure(429, message, retry_after=retry_after)


def server_error(status: int = 500, message: str = "The server had an error processing your request") -> Failure:
    """HTTP 5xx."""
    return Failure(status, message)


def slow(seconds: float, data: Mapping[str, Any]) -> Answer:
    """An answer sent only after `seconds` (longer than the client timeout makes a timeout)."""
    return Answer(data, delay_s=seconds)


def unauthorized(message: str = "Incorrect API key provided") -> Failure:
    """HTTP 401."""
    return Failure(401, message)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received: path, headers (lower-case names) and parsed JSON body."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    wire: Wire | None

    @property
    def model(self) -> str | None:
        """The `model` field of the body."""
        return self.body.get("model") if isinstance(self.body, dict) else None

    @property
    def response_format_type(self) -> str | None:
        """`response_format.type` of a Chat Completions body, or None when absent."""
        fmt = self.body.get("response_format") if isinstance(self.body, dict) else None
        return fmt.get("type") if isinstance(fmt, dict) else None


@dataclass
class _Script:
    queue: deque[Behaviour] = field(default_factory=deque)
    rejected_formats: set[str] = field(default_factory=set)
    responder: Responder | None = None


class FakeProviderServer:
    """The server; use as a context manager or call `start()`/`stop()`. Thread-safe."""

    def __init__(self, responder: Responder | None = None) -> None:
        self._script = _Script(responder=responder)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self.requests: list[RecordedRequest] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> FakeProviderServer:
        """Bind a free port on 127.0.0.1 and serve on a daemon thread."""
        self._httpd = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-provider", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake delayed handlers, stop serving and close the socket."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeProviderServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`, the root (the Anthropic SDK's base URL)."""
        assert self._httpd is not None, "start the server first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def openai_base_url(self) -> str:
        """The OpenAI SDK's base URL (`.../v1`)."""
        return f"{self.base_url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        """The Anthropic SDK's base URL (it appends `/v1/messages` itself)."""
        return self.base_url

    # -- scripting ---------------------------------------------------------------------------------------
    def enqueue(self, *behaviours: Behaviour) -> None:
        """Serve `behaviours` to the next requests, in order."""
        with self._lock:
            self._script.queue.extend(behaviours)

    def set_responder(self, responder: Responder | None) -> None:
        """Answer with `responder(request)` whenever the queue is empty."""
        with self._lock:
            self._script.responder = responder

    def reject_response_format(self, *types: str) -> None:
        """Refuse Chat Completions requests whose `response_format.type` is one of `types` (HTTP 400)."""
        with self._lock:
            self._script.rejected_formats.update(types)

    @property
    def pending(self) -> int:
        """Behaviours queued but not yet served."""
        with self._lock:
            return len(self._script.queue)

    def reset(self) -> None:
        """Forget the queue, rejections, responder and recorded requests."""
        with self._lock:
            self._script = _Script()
            self.requests.clear()

    # -- serving (called on handler threads) -------------------------------------------------------------
    def _serve(self, request: RecordedRequest) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            self.requests.append(request)
            behaviour = self._scripted(request)
            responder = self._script.responder
        if behaviour is None:
            behaviour = _from_responder(responder, request)
        if behaviour.delay_s:
            self._stopping.wait(behaviour.delay_s)
        if isinstance(behaviour, Failure):
            return _render_failure(behaviour, request.wire)
        return 200, {}, self._render_success(behaviour, request)

    def _scripted(self, request: RecordedRequest) -> Behaviour | None:
        if request.wire is None:
            return Failure(404, f"fake provider: no endpoint at {request.path}")
        fmt = request.response_format_type
        if request.wire == "openai" and fmt in self._script.rejected_formats:
            # Worded like vLLM / LM Studio rejections: the provider's fallback keys on "response_format".
            refusal = f"response_format type '{fmt}' is not supported by this server"
            return Failure(400, refusal, param="response_format")
        return self._script.queue.popleft() if self._script.queue else None

    def _render_success(self, behaviour: Answer | RawText, request: RecordedRequest) -> dict[str, Any]:
        number = next(self._ids)
        if request.wire == "anthropic":
            return _anthropic_message(behaviour, request.body, number)
        return _openai_completion(behaviour, request.body, number)


def _from_responder(responder: Responder | None, request: RecordedRequest) -> Behaviour:
    # Called outside the lock: a responder may be slow, or enqueue() more behaviours itself.
    if responder is None:
        return Failure(418, "FakeProviderServer has no scripted reply left: enqueue() one or set a responder")
    chosen = responder(request)
    return chosen if isinstance(chosen, (Answer, RawText, Failure)) else Answer(chosen)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default listen backlog of 5 drops SYNs under concurrent load tests (clients then wait 1 s to retry).
    request_queue_size = 256
    # Delayed handlers may still be sleeping at shutdown; don't join them.
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], fake: FakeProviderServer):
        self.fake = fake
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' connection pools expect
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = RecordedRequest("POST", self.path, headers, body, _wire_of(self.path))
        status, extra_headers, payload = self.server.fake._serve(request)
        self._send(status, extra_headers, payload)

    def do_GET(self) -> None:
        self._send(200, {}, {"status": "ok"}) if self.path == "/health" else self._send(404, {}, {"error": "not found"})

    def _send(self, status: int, extra_headers: Mapping[str, str], payload: Mapping[str, Any]) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra_headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to deliver

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _wire_of(path: str) -> Wire | None:
    route = path.split("?", 1)[0].rstrip("/")
    if route.endswith("/chat/completions"):
        return "openai"
    if route.endswith("/v1/messages"):
        return "anthropic"
    return None


def _openai_completion(behaviour: Answer | RawText, body: Any, number: int) -> dict[str, Any]:
    text = behaviour.text if isinstance(behaviour, RawText) else json.dumps(dict(behaviour.data))
    return {
        "id": f"chatcmpl-fake-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": _model_of(body),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": behaviour.input_tokens,
            "completion_tokens": behaviour.output_tokens,
            "total_tokens": behaviour.input_tokens + behaviour.output_tokens,
        },
    }


def _anthropic_message(behaviour: Answer | RawText, body: Any, number: int) -> dict[str, Any]:
    forced = _forced_tool(body)
    if isinstance(behaviour, Answer) and forced:
        content = [{"type": "tool_use", "id": f"toolu_fake_{number}", "name": forced, "input": dict(behaviour.data)}]
        stop_reason = "tool_use"
    else:
        text = behaviour.text if isinstance(behaviour, RawText) else json.dumps(dict(behaviour.data))
        content = [{"type": "text", "text": text}]
        stop_reason = "end_turn"
    return {
        "id": f"msg_fake_{number}",
        "type": "message",
        "role": "assistant",
        "model": _model_of(body),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": behaviour.input_tokens, "output_tokens": behaviour.output_tokens},
    }


def _forced_tool(body: Any) -> str | None:
    choice = body.get("tool_choice") if isinstance(body, dict) else None
    if isinstance(choice, dict) and choice.get("type") == "tool":
        return str(choice.get("name"))
    return None


def _model_of(body: Any) -> str:
    return str(body.get("model", "fake-model")) if isinstance(body, dict) else "fake-model"


_OPENAI_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 429: "rate_limit_exceeded"}
_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def _render_failure(failure: Failure, wire: Wire | None) -> tuple[int, dict[str, str], dict[str, Any]]:
    headers = {"Retry-After": failure.retry_after} if failure.retry_after is not None else {}
    if wire == "anthropic":
        kind = _ANTHROPIC_ERROR_TYPES.get(failure.status, "api_error")
        return failure.status, headers, {"type": "error", "error": {"type": kind, "message": failure.message}}
    kind = _OPENAI_ERROR_TYPES.get(failure.status, "server_error" if failure.status >= 500 else "invalid_request_error")
    error = {"message": failure.message, "type": kind, "param": failure.param, "code": failure.code}
    return failure.status, headers, {"error": error}


@pytest.fixture
def fake_provider() -> Iterator[FakeProviderServer]:
    """A started `FakeProviderServer`, stopped after the test."""
    with FakeProviderServer() as server:
        yield server


@pytest.fixture
def fake_provider_env(fake_provider: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    """`fake_provider`, with OPENAI_*/ANTHROPIC_* key and base-URL variables aimed at it."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-fake")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_provider.openai_base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-fake")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_provider.anthropic_base_url)
    return fake_provider
