"""What the terminal gets: colour only on a terminal that wants it, plain text where boxes would be noise.

Colour follows the conventions other command-line tools share: none when `NO_COLOR` is set to anything
(no-color.org), when `TERM=dumb`, or when the output is not a terminal (a pipe, a file); `FORCE_COLOR`
(set, not empty) turns it on anyway, for pagers such as `less -R`. Renderers stay pure and colourless:
the colour is laid on here, at the edge, over the words a reader scans for.
"""

from __future__ import annotations

import os
import re
import sys
from typing import IO

import click

_VERDICTS = {
    "ALLOWED": "green", "DENIED": "red", "BROKEN": "red", "NO DNS": "red",
    "confirmed": "green", "contradicted": "red", "unverifiable": "yellow",
}
_SEVERITIES = {"error": "red", "warning": "yellow", "info": "cyan"}
# "file:12: error [rule-id] ns/name" (lint text) and "error: ..." lines (issues); verdict words at a word edge.
_SEVERITY = re.compile(r"(?<=: )(error|warning|info)(?= \[)|^(error|warning|info)(?=:)", re.MULTILINE)
_VERDICT = re.compile(r"\b(" + "|".join(re.escape(w) for w in _VERDICTS) + r")\b")
_ADDED_REMOVED = re.compile(r"^(  \+ .*|  - .*)$", re.MULTILINE)


def plain_terminal() -> bool:
    """`TERM=dumb`: a terminal that draws no boxes, rules or colour (Emacs shells, some CI logs)."""
    return os.environ.get("TERM", "") == "dumb"


def colour_wanted(stream: IO[str] | None = None) -> bool:
    """Colour for `stream` (default stdout): NO_COLOR and TERM=dumb say no, FORCE_COLOR yes, else a tty."""
    if os.environ.get("NO_COLOR"):
        return False
    if plain_terminal():
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    stream = stream or sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def paint(text: str) -> str:
    """`text` with severities, verdicts and diff lines coloured (ANSI SGR codes)."""
    text = _SEVERITY.sub(lambda m: click.style(m.group(0), fg=_SEVERITIES[m.group(0)], bold=True), text)
    text = _VERDICT.sub(lambda m: click.style(m.group(0), fg=_VERDICTS[m.group(0)], bold=True), text)
    return _ADDED_REMOVED.sub(lambda m: click.style(m.group(0), fg="green" if m.group(0)[2] == "+" else "red"), text)


def echo(text: str) -> None:
    """Print a human-readable report on stdout, coloured when the terminal wants colour."""
    colour = colour_wanted()
    click.echo(paint(text) if colour else text, nl=not text.endswith("\n"), color=colour)
