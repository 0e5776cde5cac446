"""Finding 12 (part): no open API on a network by accident, no signatures in the access log.

Before: `NETREASON_API_TOKENS` empty (or " , ") silently turned authentication off, `serve --host 0.0.0.0`
served without tokens, and the access log recorded signed-link signatures.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from .support import ROOT, netreason


def _env(tmp_path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETREASON_")}
    return {**env, "NETREASON_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}", **extra}


@pytest.mark.parametrize("tokens", ["", " , ", ","])
def test_blank_api_tokens_are_refused_not_read_as_auth_off(tmp_path, tokens):
    env = _env(tmp_path, NETREASON_API_TOKENS=tokens)
    proc = netreason("serve", "--port", "0", env=env, timeout=60)
    assert proc.returncode == 2 and "NETREASON_API_TOKENS is set but holds no token" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_non_loopback_address_without_tokens_is_refused(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "service", "serve", "--host", "0.0.0.0", "--port", "0"],
                          env=_env(tmp_path), capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    assert "refusing to serve 0.0.0.0 without authentication" in proc.stderr and "--insecure-no-auth" in proc.stderr


def test_the_access_log_never_records_a_link_signature(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "service", "serve", "--port", str(port), "--log-level", "info"],
                            env=_env(tmp_path), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "netreason serve did not come up"
                time.sleep(0.1)
        r = httpx.get(f"http://127.0.0.1:{port}/v1/analyses/abc123?exp=99999999999&sig=SECRETSIGNATURE42")
        assert r.status_code in (403, 404)
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert "/v1/analyses/abc123" in out, out[-2000:]
    assert "SECRETSIGNATURE42" not in out and "sig=***" in out
