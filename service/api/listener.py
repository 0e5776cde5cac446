"""`serve --workers N`: every worker listens on a socket of its own, and the kernel spreads connections over them.

uvicorn hands its workers one listening socket, and asyncio accepts every connection waiting each time
the socket is ready: the worker whose loop is already running takes a burst (a proxy's keep-alive pool, a
benchmark at concurrency 8) before the others wake, and keeps those connections for their life. Measured:
8:3, 9:2 and 10:1 connections per worker, and in one run one worker did all the work (9.06 s of CPU
against 0.06 s). With `SO_REUSEPORT` each worker binds its own socket to the port and Linux picks the
socket per connection by its addresses, so a burst is shared out whatever each worker is doing.

The supervisor reserves the port with a bound socket that never listens (it checks the address once and
keeps another program from taking the port); a socket that does not listen is never given connections.
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

#: Set by `netreason serve --workers N` (N > 1): its workers listen on sockets of their own.
REUSE_PORT_ENV = "NETREASON_REUSE_PORT"


def reuse_port_supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def reserve_port(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) with SO_REUSEPORT, not listening, inheritable by the workers.

    Raises:
        OSError: the address cannot be bound (in use by another program, not local, no permission).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = _bound(socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP), (host, port))
    sock.set_inheritable(True)
    return sock


def own_socket(shared: socket.socket) -> socket.socket:
    """A new socket bound, with SO_REUSEPORT, to the address `shared` is bound to."""
    return _bound(socket.socket(shared.family, shared.type, shared.proto), shared.getsockname())


def _bound(sock: socket.socket, address: Any) -> socket.socket:
    """`sock` bound to `address` with SO_REUSEADDR and SO_REUSEPORT (closed if that fails)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def listen_on_own_sockets(loop: asyncio.AbstractEventLoop) -> None:
    """Servers created on `loop` from now on, given a TCP socket, listen on a socket of their own bound to its
    address instead (uvicorn creates its server after the app's lifespan has started)."""
    create = loop.create_server

    async def create_server(protocol_factory: Any, *args: Any, sock: socket.socket | None = None,
                            **kwargs: Any) -> asyncio.AbstractServer:
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock = own_socket(sock)
        return await create(protocol_factory, *args, sock=sock, **kwargs)

    loop.create_server = create_server  # type: ignore[method-assign,assignment]


def own_sockets_wanted() -> bool:
    """Whether this process is a worker of `serve --workers N` that should listen on its own socket."""
    return os.environ.get(REUSE_PORT_ENV) == "1"
