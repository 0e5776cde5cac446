"""Run the `netreason` console entry point in-process: exit code, stdout and stderr, as a shell sees them.

`service.cli.main` is what the console script calls: it maps NetreasonError to exit 2
and usage errors as click does, so the exit codes tested here are the real ones.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from click.testing import CliRunner

from service.cli import main


@dataclass(frozen=True)
class Done:
    code: int
    stdout: str
    stderr: str


def netreason(*args: str, input: str | None = None, env: dict[str, str | None] | None = None) -> Done:
    """`netreason ARGS...` with `input` on stdin and `env` over the environment."""
    runner = CliRunner()
    argv = sys.argv
    with runner.isolation(input=input, env=env) as (out, err, _):
        sys.argv = ["netreason", *args]
        code: int = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        finally:
            sys.argv = argv
        return Done(code, out.getvalue().decode(), err.getvalue().decode())
