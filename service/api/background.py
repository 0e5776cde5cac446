"""Work a route starts after it has answered (Slack answers, which must be acknowledged within 3 s).

`Background.add` counts a task from the moment it is scheduled until it has finished, so whoever needs
to know that nothing more will happen (a graceful shutdown, a test asserting that a refused command
posted nothing) waits on `wait_idle` instead of sleeping and hoping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import BackgroundTasks


class Background:
    """A count of scheduled-but-unfinished background tasks, with a condition to wait on. Thread-safe."""

    def __init__(self) -> None:
        self._pending = 0
        self._changed = threading.Condition()

    @property
    def pending(self) -> int:
        with self._changed:
            return self._pending

    def add(self, tasks: BackgroundTasks, fn: Callable[..., Awaitable[None]], *args: Any) -> None:
        """Schedule `fn(*args)` on the response's `tasks`, counted from now until it returns or raises."""
        with self._changed:
            self._pending += 1
        tasks.add_task(self._run, fn, *args)

    async def _run(self, fn: Callable[..., Awaitable[None]], *args: Any) -> None:
        try:
            await fn(*args)
        finally:
            with self._changed:
                self._pending -= 1
                self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no background task is pending (True), or `timeout` seconds pass (False)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True
