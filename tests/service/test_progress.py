"""Long work shows progress on stderr when stderr is a terminal (a pseudo-terminal here), never on a pipe
or with --quiet, and the report on stdout is the same either way."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOP = str(ROOT / "examples" / "shop")
SCRIPT = Path(sys.executable).with_name("netreason")
ERASE = "\r\x1b[K"


def run(args: list[str], *, tty: bool) -> tuple[int, str, str]:
    """The console script with stdout on a pipe and stderr on a pseudo-terminal (`tty`) or a pipe."""
    assert SCRIPT.is_file(), f"the console script {SCRIPT} is not installed (pip install -e .)"
    env = {**os.environ, "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    if not tty:
        done = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        return done.returncode, done.stdout, done.stderr
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(SCRIPT), *args], stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL,
                            env=env, cwd=ROOT)
    os.close(slave)
    err = b""
    while True:  # read the terminal until the child closes it (EIO on Linux once it exits)
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        err += chunk
    os.close(master)
    out = proc.stdout.read().decode() if proc.stdout else ""
    return proc.wait(timeout=120), out, err.decode()


@pytest.mark.parametrize("args, phases", [
    (["lint", SHOP, "-o", "json", "--fail-on", "never"], ["reading files 1", "loaded ", "rules", "fixes"]),
    (["flows", SHOP, "-o", "csv"], ["reading files 1", "compiling policies"]),
])
def test_progress_on_a_terminal_not_on_a_pipe_nor_with_quiet(args: list[str], phases: list[str]) -> None:
    code, out, err = run(args, tty=True)
    assert code == 0, err
    for phase in phases:
        assert f"netreason: {phase}" in err, err
    assert err.endswith(ERASE), "the progress line is erased before the report"
    assert "\r" not in out and "\x1b" not in out

    piped_code, piped_out, piped_err = run(args, tty=False)
    assert piped_code == 0 and piped_out == out
    assert "netreason: reading" not in piped_err and "\x1b" not in piped_err and "\r" not in piped_err

    quiet_code, quiet_out, quiet_err = run([*args, "--quiet"], tty=True)
    assert quiet_code == 0 and quiet_out == out
    assert "netreason: reading" not in quiet_err and ERASE not in quiet_err


def test_warnings_start_on_a_clean_line(tmp_path: Path) -> None:
    """A problem with the input is printed after the progress line is erased, never glued to it."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: a, labels: {app: web}}\n"
                   "spec: {containers: [{name: c, image: i}]}\n---\n"
                   "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\n"
                   "spec: {podSelector: {}, policyTypes: [Sideways]}\n")
    code, _, err = run(["flows", str(bad), "-o", "json"], tty=True)
    assert code == 0 and "netreason: reading files 1" in err
    problems = [line for line in err.replace("\r\n", "\n").split("\n") if "Sideways" in line]
    assert problems, err
    for line in problems:
        assert line.rsplit(ERASE, 1)[-1].startswith(("error:", "warning:")), repr(line)
