"""Progress of long work on stderr ("reading files 120… compiling… rules 12/14"), for people at a terminal.

Shown only when stderr is a terminal (not a pipe, a file or CI log), never with `--quiet` or `TERM=dumb`.
One line, rewritten in place and erased when the work it describes ends, so the report that follows on
stdout (often the same terminal) starts on a clean line. Commands open it once (`start`); the code
doing the work reports through `current()`, which does nothing when progress is off.
"""

from __future__ import annotations

import contextvars
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

#: Seconds between two rewrites of the line (a phase change is always shown).
INTERVAL = 0.1
_ERASE = "\r\x1b[K"


class Progress:
    """One status line on `stream`; every method does nothing when `stream` is None."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self._shown = False
        self._last = 0.0
        self._phase = ""

    @property
    def enabled(self) -> bool:
        return self.stream is not None

    def show(self, message: str, phase: str | None = None) -> None:
        """Rewrite the line; updates within one `phase` (default: the message) come at most every INTERVAL."""
        if self.stream is None:
            return
        now = time.monotonic()
        phase = message if phase is None else phase
        if phase == self._phase and now - self._last < INTERVAL:
            return
        self._phase, self._last = phase, now
        self._write(f"{_ERASE}netreason: {message}...")
        self._shown = True

    def count(self, what: str, done: int, total: int | None = None) -> None:
        """`what done/total`, e.g. "rules 12/14"."""
        self.show(f"{what} {done:,}/{total:,}" if total else f"{what} {done:,}", phase=what)

    def clear(self) -> None:
        """Erase the line (before anything else is written to the terminal)."""
        if self.stream is not None and self._shown:
            self._write(_ERASE)
            self._shown = False
            self._phase = ""

    def _write(self, text: str) -> None:
        stream = self.stream
        if stream is None:
            return
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):  # the terminal went away: the work goes on without progress
            self.stream = None


_OFF = Progress(None)
_current: contextvars.ContextVar[Progress] = contextvars.ContextVar("netreason_progress", default=_OFF)


def wanted(stream: TextIO, quiet: bool) -> bool:
    """Progress on `stream`: not with --quiet or TERM=dumb, only on a terminal."""
    if quiet or os.environ.get("TERM", "") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def start(quiet: bool, stream: TextIO | None = None) -> Progress:
    """Turn progress on for this command (when wanted) and return it; `current()` reports through it."""
    stream = stream or sys.stderr
    progress = Progress(stream if wanted(stream, quiet) else None)
    _current.set(progress)
    return progress


def stop() -> None:
    """Erase the line and turn progress off (the command is done)."""
    current().clear()
    _current.set(_OFF)


def current() -> Progress:
    """The command's progress line, or one that shows nothing."""
    return _current.get()


@contextmanager
def working(message: str) -> Iterator[Progress]:
    """Show `message` while the block runs; erase the line when it ends (however it ends)."""
    progress = current()
    progress.show(message)
    try:
        yield progress
    finally:
        progress.clear()
