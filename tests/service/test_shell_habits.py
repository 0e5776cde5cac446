"""Shell habits: -o means the format everywhere, --output-file writes, completion, kubectl plugin, colour."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from service.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "shop")
BIN = Path(sys.executable).parent
ESC = "\x1b["
BOX = set("─━│┃┏┓┗┛┡┩╇╋┳┻")


def _commands(group: click.Group, prefix: str = "netreason") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found += _commands(command, path)
        else:
            found.append((path, command))
    return found


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    return {**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}", **extra}


def _on_a_terminal(args: list[str], **env: str) -> str:
    """Run netreason with stdout on a pseudo-terminal; what it printed there."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([str(BIN / "netreason"), *args], stdout=follower, stderr=subprocess.DEVNULL,
                            env=_env(**env), cwd=ROOT)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


# --- -o / --output / --output-file ------------------------------------------------------------------------


def test_every_o_and_output_option_names_the_format_and_files_are_output_file() -> None:
    commands = _commands(cli)
    assert len(commands) > 10
    for path, command in commands:
        for param in command.params:
            opts = set(getattr(param, "opts", ())) | set(getattr(param, "secondary_opts", ()))
            if opts & {"-o", "--output"}:
                assert opts >= {"-o", "--output"} and isinstance(param.type, click.Choice), path
                assert param.name == "fmt", path
            if isinstance(param, click.Option) and isinstance(param.type, click.Path) and param.type.dir_okay is False \
                    and param.type.writable:
                assert param.opts == ["--output-file"], f"{path} writes a file through {param.opts}"


@pytest.mark.parametrize("args", [
    ["analyze", EXAMPLE, "--output", "json"],
    ["lint", EXAMPLE, "--output", "json", "--fail-on", "never"],
    ["flows", EXAMPLE, "--output", "json"],
    ["check", EXAMPLE, "--from", "shop/web", "--to", "shop/api", "--port", "8080", "--output", "json"],
    ["diff", EXAMPLE, EXAMPLE, "--output", "json"],
])
def test_output_json_prints_json_and_leaves_no_file_named_json(args: list[str], tmp_path: Path) -> None:
    done = subprocess.run([str(BIN / "netreason"), *args], cwd=tmp_path, capture_output=True, text=True, env=_env())
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["schema"].startswith("netreason.")
    assert list(tmp_path.iterdir()) == []


def test_output_file_writes_the_report_and_stdout_stays_empty(tmp_path: Path) -> None:
    for command, extra in (("analyze", []), ("lint", ["--fail-on", "never"]), ("flows", [])):
        target = tmp_path / f"{command}.json"
        done = subprocess.run([str(BIN / "netreason"), command, EXAMPLE, "-o", "json", "--output-file", str(target),
                               *extra], capture_output=True, text=True, env=_env())
        assert done.returncode == 0, done.stderr
        assert done.stdout == "" and f"wrote {target}" in done.stderr
        assert json.loads(target.read_text())["schema"].startswith("netreason.")


def test_a_file_name_given_to_output_is_refused_with_the_formats() -> None:
    done = subprocess.run([str(BIN / "netreason"), "analyze", EXAMPLE, "--output", "report.html"],
                          capture_output=True, text=True, env=_env())
    assert done.returncode == 2
    assert "'report.html' is not one of" in done.stderr and "html" in done.stderr


# --- completion -------------------------------------------------------------------------------------------


def _bash_complete(words: list[str]) -> list[str]:
    script = ("source <(netreason completion bash)\n"
              f"COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
              "_netreason_completion netreason; printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=_env(), cwd=ROOT, check=True)
    return done.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completion_completes_commands_and_format_choices() -> None:
    assert _bash_complete(["netreason", "fl"]) == ["flows"]
    assert _bash_complete(["netreason", "completion", ""]) == ["bash", "zsh", "fish"]
    assert _bash_complete(["netreason", "lint", "examples/shop", "-o", ""]) == ["text", "json", "sarif", "markdown"]


@pytest.mark.parametrize("shell, marker",
                         [("zsh", "#compdef netreason"), ("fish", "complete --no-files --command netreason")])
def test_zsh_and_fish_scripts_are_valid_for_their_shell(shell: str, marker: str) -> None:
    done = subprocess.run([str(BIN / "netreason"), "completion", shell], capture_output=True, text=True, env=_env())
    assert done.returncode == 0 and marker in done.stdout and "_NETREASON_COMPLETE" in done.stdout
    if shutil.which(shell):  # a syntax check where the shell is installed
        subprocess.run([shell, "-n"], input=done.stdout, text=True, check=True)


def test_completion_refuses_an_unknown_shell() -> None:
    done = subprocess.run([str(BIN / "netreason"), "completion", "tcsh"], capture_output=True, text=True, env=_env())
    assert done.returncode == 2 and "'tcsh' is not one of" in done.stderr


# --- kubectl plugin ---------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed on this machine")
def test_kubectl_netreason_check_runs_as_a_kubectl_plugin() -> None:
    args = ["kubectl", "netreason", "check", EXAMPLE, "--from", "shop/api", "--to", "payments/payments-api",
            "--port", "8443"]
    done = subprocess.run(args, capture_output=True, text=True, env=_env())
    assert done.returncode == 1, done.stderr  # denied: exit 1, as netreason check
    assert done.stdout.startswith("DENIED: shop/api -> payments/payments-api TCP/8443")
    usage = subprocess.run(["kubectl", "netreason", "--help"], capture_output=True, text=True, env=_env())
    assert usage.stdout.startswith("Usage: kubectl netreason [OPTIONS] COMMAND")
    listed = subprocess.run(["kubectl", "plugin", "list"], capture_output=True, text=True, env=_env())
    assert str(BIN / "kubectl-netreason") in listed.stdout


# --- colour -----------------------------------------------------------------------------------------------

CHECK = ["check", EXAMPLE, "--from", "shop/api", "--to", "payments/payments-api", "--port", "8443"]


def test_a_terminal_gets_colour() -> None:
    out = _on_a_terminal(CHECK, TERM="xterm-256color")
    assert f"{ESC}31m" in out and "DENIED" in out
    lint = _on_a_terminal(["lint", EXAMPLE], TERM="xterm-256color")
    assert f"{ESC}31m{ESC}1merror{ESC}0m [dependency-broken]" in lint


@pytest.mark.parametrize("env", [{"TERM": "xterm", "NO_COLOR": "1"}, {"TERM": "dumb"}])
def test_no_color_and_dumb_terminals_get_none(env: dict[str, str]) -> None:
    out = _on_a_terminal(CHECK, **env)
    assert "DENIED" in out and ESC not in out


def test_a_pipe_gets_no_colour() -> None:
    done = subprocess.run([str(BIN / "netreason"), *CHECK], capture_output=True, text=True, env=_env(TERM="xterm"))
    assert done.stdout.startswith("DENIED") and ESC not in done.stdout


def test_a_dumb_terminal_gets_tables_without_boxes() -> None:
    flows = _on_a_terminal(["flows", EXAMPLE], TERM="dumb")
    report = _on_a_terminal(["analyze", EXAMPLE, "-m", "simulated:oracle"], TERM="dumb")
    assert "shop/web" in flows and "confirmed" in report and "== Ground truth (verifier) ==" in report
    assert not (set(flows) | set(report)) & BOX
    boxed = _on_a_terminal(["flows", EXAMPLE], TERM="xterm")
    assert set(boxed) & BOX  # the same table, drawn, where the terminal can
