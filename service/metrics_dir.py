"""The directory where `serve --workers N` workers keep their metric values (prometheus_client multiprocess mode).

Kept apart from `service.metrics` on purpose: `prometheus_client` picks its mode when it is first imported, so
the variable must be set before anything imports it, and this module imports nothing of it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: The files prometheus_client writes there (one per kind of metric and process).
_VALUE_FILES = ("counter_*.db", "histogram_*.db", "gauge_*.db", "summary_*.db")


def multiprocess_dir() -> str | None:
    """The directory this process counts into, when it is one of several workers (else None)."""
    return os.environ.get(MULTIPROC_ENV) or None


@contextmanager
def shared_metrics_dir() -> Iterator[Path]:
    """Have the workers started inside count into one directory, so any scrape shows all of them.

    $PROMETHEUS_MULTIPROC_DIR when set (its value files of an earlier run removed: counters start at
    zero with each `serve`), else a temporary directory removed afterwards.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for pattern in _VALUE_FILES:
            for stale in path.glob(pattern):
                stale.unlink(missing_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="netreason-metrics-") as tmp:
        os.environ[MULTIPROC_ENV] = tmp
        try:
            yield Path(tmp)
        finally:
            os.environ.pop(MULTIPROC_ENV, None)
