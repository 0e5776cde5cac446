"""The real netreason API under a real uvicorn on 127.0.0.1, on a free port, in a thread.

    with running_api(Settings(database_url=f"sqlite:///{tmp_path}/db.sqlite")) as server:
        httpx.get(f"{server.base_url}/healthz")

Fixtures: `api_settings` (a fresh SQLite file per test, no auth, no model: override it in a test module
to change the configuration) and `api_server` (started with `api_settings`, yields the `ApiServer`).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from service.app import create_app
from service.settings import Settings


class ApiServer:
    """uvicorn serving `create_app(settings)` on a socket bound before start, so the port is known."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name="api-server", daemon=True)

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self, timeout_s: float = 60.0) -> ApiServer:
        """Start serving; return once the lifespan (database, migrations) has finished.

        Raises:
            RuntimeError: the server did not start within `timeout_s` (its error is in the log).
        """
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start; see the captured log")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit, wait for it, close the socket."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


@contextmanager
def running_api(settings: Settings) -> Iterator[ApiServer]:
    """An `ApiServer` for the duration of the block."""
    server = ApiServer(settings).start()
    try:
        yield server
    finally:
        server.stop()


def sqlite_url(directory: Path) -> str:
    """A database URL for a new SQLite file in `directory`."""
    return f"sqlite:///{directory / 'netreason.db'}"


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    """No auth, no default model, a fresh SQLite file."""
    return Settings(database_url=sqlite_url(tmp_path), api_tokens=(), model=None)


@pytest.fixture
def api_server(api_settings: Settings) -> Iterator[ApiServer]:
    """The API serving `api_settings` on 127.0.0.1."""
    with running_api(api_settings) as server:
        yield server
