"""`netreason serve --workers 2`: each worker listens on a socket of its own (SO_REUSEPORT), so the kernel shares
a burst of connections out between them; with one shared socket the worker already awake took most of a burst
(8:3, 9:2, 10:1 per worker, and once all of it) and kept those keep-alive connections."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.net import free_port
from tests.service.workers import ROOT, start_two_workers

SHOP = ROOT / "examples" / "shop"

pytestmark = pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT") or not Path("/proc/net/tcp").exists(),
                                reason="Linux: SO_REUSEPORT, and /proc to see the sockets")


def _listening(port: int) -> int:
    """How many sockets listen on 127.0.0.1:`port` (/proc/net/tcp: state 0A is LISTEN)."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for r in rows if r.split()[1] == f"0100007F:{port:04X}" and r.split()[3] == "0A")


def _children(pid: int) -> list[int]:
    return [int(c) for t in Path(f"/proc/{pid}/task").iterdir() for c in (t / "children").read_text().split()]


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture()
def two_workers(tmp_path: Path) -> Iterator[tuple[str, int, subprocess.Popen[bytes]]]:
    port = free_port()
    proc = start_two_workers(tmp_path, port)
    try:
        deadline = time.monotonic() + 60
        while _listening(port) < 2:
            assert proc.poll() is None, proc.communicate()[1].decode()
            assert time.monotonic() < deadline, f"{_listening(port)} socket(s) listening after 60 s"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", port, proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_each_worker_listens_on_its_own_socket_and_both_take_a_burst(
        two_workers: tuple[str, int, subprocess.Popen[bytes]]) -> None:
    base, port, proc = two_workers
    assert _listening(port) == 2  # one per worker; the supervisor's reserving socket never listens
    workers = [p for p in _children(proc.pid) if _cpu(p) > 0.2]  # the resource tracker barely runs
    assert len(workers) == 2, workers
    files = [{"path": f"shop/{p.name}", "content": p.read_text()} for p in sorted(SHOP.glob("*.yaml"))]
    before = {p: _cpu(p) for p in workers}

    def burst(_: int) -> int:
        with httpx.Client(base_url=base, timeout=60) as client:  # a fresh connection, kept for five requests
            return sum(client.post("/v1/lint", json={"files": files}).status_code == 200 for _ in range(5))

    with ThreadPoolExecutor(16) as pool:
        assert sum(pool.map(burst, range(16))) == 80
    used = {p: _cpu(p) - before[p] for p in workers}
    assert min(used.values()) > 0.1 * sum(used.values()), used  # 16 connections hashed over two sockets


def test_a_port_another_program_listens_on_is_refused_before_any_worker_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "NETREASON_DATABASE_URL": f"sqlite:///{tmp_path / 'n.db'}"}
        done = subprocess.run([sys.executable, "-m", "service", "serve", "--port", str(port), "--workers", "2"],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
