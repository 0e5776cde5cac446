"""`-o/--output FORMAT` and `--output-file FILE`, the same on every command.

As in kubectl, `-o`/`--output` names the format (`-o json`); `--format` is kept as its other spelling.
Writing to a file is always `--output-file`: `--output json` can never again leave a file named `json`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from service import terminal

F = TypeVar("F", bound=Callable[..., Any])

#: Formats meant for people: coloured on a terminal. The others (json, csv, sarif, ...) never are.
HUMAN_FORMATS = frozenset({"text", "table", "summary"})


def output_option(formats: Sequence[str], default: str, help_text: str = "") -> Callable[[F], F]:
    """`-o/--output/--format FORMAT`, stored as `fmt`."""
    more = f" {help_text}" if help_text else ""
    return click.option("-o", "--output", "--format", "fmt", type=click.Choice(list(formats)), default=default,
                        show_default=True, help=f"Output format (-o json, as with kubectl).{more}")


def output_file_option(func: F) -> F:
    """`--output-file FILE`, stored as `output_file`."""
    return click.option("--output-file", "output_file", type=click.Path(dir_okay=False, writable=True),
                        metavar="FILE", help="Write the output to FILE instead of stdout.")(func)


def emit(text: str, fmt: str, output_file: str | None = None) -> None:
    """Write `text` to `output_file` (never coloured), or to stdout (coloured for people on a terminal)."""
    if output_file:
        Path(output_file).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        click.echo(f"wrote {output_file}", err=True)
    elif fmt in HUMAN_FORMATS:
        terminal.echo(text)
    else:
        click.echo(text, nl=not text.endswith("\n"))
