"""Run a measured subprocess: wall time and the child's own peak RSS (via wait4)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class ProcResult:
    returncode: int
    wall_seconds: float
    maxrss_mb: float
    error: str | None = None  # tail of stderr when the process failed or timed out

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.error is None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run(cmd: list[str], timeout: float, *, cwd: Path, quiet_stdout: bool = False) -> ProcResult:
    """Run `cmd`, killing its process group after `timeout` seconds.

    Peak RSS comes from wait4's rusage, so it is this child's alone, not the harness's.
    """
    with tempfile.TemporaryFile() as err:
        out = subprocess.DEVNULL if quiet_stdout else None
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        started = time.perf_counter()
        status, usage = _wait(proc.pid, started + timeout)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status) if usage is not None else -9
        err.seek(0)
        tail = err.read()[-2000:].decode(errors="replace")
    maxrss = usage.ru_maxrss / 1024 if usage is not None else 0.0
    error = None
    if usage is None:
        error = f"timed out after {timeout:.0f}s"
    elif proc.returncode != 0:
        error = tail.strip() or f"exit code {proc.returncode}"
    return ProcResult(proc.returncode, wall, maxrss, error)


def _wait(pid: int, deadline: float) -> tuple[int, Any]:
    """Poll wait4 until the child exits or the deadline passes (then kill its group)."""
    delay = 0.005
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage
        if time.perf_counter() > deadline:
            os.killpg(pid, signal.SIGKILL)
            os.wait4(pid, 0)
            return 0, None
        time.sleep(delay)
        delay = min(delay * 2, 0.02)


def find_nca(root: Path) -> str | None:
    """NCA's CLI if installed: next to this interpreter, in benchmarks/out/nca-venv, or on PATH."""
    candidates = [Path(sys.executable).parent / "nca", root / "benchmarks" / "out" / "nca-venv" / "bin" / "nca"]
    for c in candidates:
        if c.exists():
            return str(c)
    return shutil.which("nca")
