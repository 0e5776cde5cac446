"""`netreason serve --workers 2` as a subprocess on a free port of 127.0.0.1, for the tests of its workers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_two_workers(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    """The server on `port` with its own SQLite file and no multiprocess metrics dir of the caller's; not yet up."""
    env = {**os.environ, "NETREASON_DATABASE_URL": f"sqlite:///{tmp_path / 'n.db'}"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return subprocess.Popen([sys.executable, "-m", "service", "serve", "--port", str(port), "--workers", "2",
                             "--log-level", "warning"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
