"""`-o/--output FORMAT` and `--output-file FILE`, the same on every command.

As in kubectl, `-o`/`--output` names the format (`-o json`); `--format` is kept as its other spelling.
Writing to a file is always `--output-file`: `--output json` can never again leave a file named `json`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
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


#: Long documents are written a slice of about this many characters at a time (see `pieces`).
PIECE = 1 << 20


def emit(text: str | bytes, fmt: str, output_file: str | None = None) -> None:
    """Write `text` to `output_file` (never coloured), or to stdout (coloured for people on a terminal).

    Bytes (a JSON document as its encoder wrote it, `service.outputs.command_output`) are written as they are.
    """
    if isinstance(text, bytes):
        _emit_bytes(text, output_file)
        return
    end = "" if text.endswith("\n") else "\n"
    if output_file:
        with open(output_file, "w", encoding="utf-8") as out:
            for piece in pieces(text):
                out.write(piece)
            out.write(end)
        click.echo(f"wrote {output_file}", err=True)
    elif fmt in HUMAN_FORMATS:
        terminal.echo(text)
    else:
        for piece in pieces(text):
            click.echo(piece, nl=False)
        click.echo(end, nl=False)


def _emit_bytes(data: bytes, output_file: str | None) -> None:
    end = b"" if data.endswith(b"\n") else b"\n"
    if output_file:
        with open(output_file, "wb") as out:
            out.write(data)
            out.write(end)
        click.echo(f"wrote {output_file}", err=True)
    else:
        click.echo(data, nl=False)
        click.echo(end, nl=False)


def pieces(text: str, size: int = PIECE) -> Iterator[str]:
    """`text` in slices that end at a line break (or the end): the same bytes written, without the copies a
    single write makes of a 40 MB document (click strips ANSI codes into one, the encoder another)."""
    start = 0
    while start < len(text):
        cut = text.find("\n", start + size)
        stop = len(text) if cut < 0 else cut + 1
        yield text[start:stop]
        start = stop
