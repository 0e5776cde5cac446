"""A real HTTP server on 127.0.0.1 that answers every request with fixed raw bytes.

The fake provider (`provider_server.py`) always sends well-formed JSON envelopes; this one sends
whatever a broken or hostile model server might (invalid JSON, an empty body, HTML, an error page
that echoes secrets), so tests can check what reaches the caller.

    with RawHttpServer(200, b"<html>oops</html>", content_type="text/html") as srv:
        ... srv.url ...
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class RawHttpServer:
    """Answers every GET/POST with `status`, `content_type` and `body`; records the paths asked for."""

    def __init__(self, status: int, body: bytes, *, content_type: str = "application/json") -> None:
        self.status, self.body, self.content_type = status, body, content_type
        self.paths: list[str] = []
        self._httpd = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="raw-http", daemon=True)

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> RawHttpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], raw: RawHttpServer) -> None:
        self.raw = raw
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        raw = self.server.raw
        raw.paths.append(self.path)
        self.send_response(raw.status)
        self.send_header("Content-Type", raw.content_type)
        self.send_header("Content-Length", str(len(raw.body)))
        self.end_headers()
        self.wfile.write(raw.body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass
