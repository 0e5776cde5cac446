"""The server's heap: when the cyclic collector runs, and giving the memory a burst freed back to the OS.

Full collections. The collector's full (generation 2) collection scans every tracked object while holding
the GIL: during a burst of analyses they took 140-360 ms each, and every request waited, `/healthz`
included (its worst latencies were these pauses). In the server (`server_heap`), what exists once it
has started (modules, the app, pydantic schemas: never garbage) is frozen out of the collector's view,
and full collections no longer run by allocation count: the work pool runs them when it goes idle and at
least every FULL_COLLECTION_EVERY_S seconds (`WorkPool.collect_every`). Young collections run as before.
Modules imported later (the model SDKs and LangChain load on the first analysis: ~75,000 objects) are
frozen at the next idle collection, when no request's objects are alive to be frozen with them;
otherwise every full collection under load would scan them again (55-120 ms each, measured).

Returning memory. CPython returns freed objects to the C library's heap, but glibc keeps freed heap
pages mapped: after 200 analyses the server's RSS stayed tens of MB above where it started.
`malloc_trim(0)` returns every freed page glibc can. It is glibc's, so elsewhere (musl, macOS) only the
collection runs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

#: The longest a server goes without a full collection, busy or not.
FULL_COLLECTION_EVERY_S = 60.0
#: Generation-2 threshold that keeps the collector from starting full collections by itself.
_NEVER = 1 << 30

_lock = threading.Lock()
_servers = 0
_modules_at_freeze = 0
_saved_threshold: tuple[int, int, int] | None = None


@contextmanager
def server_heap() -> Iterator[None]:
    """For a serving app's lifetime: freeze what exists now and leave full collections to the work pool.

    Both are process-wide: with several apps in one process (tests), the first to start applies them and
    the last to stop restores the thresholds and unfreezes (frozen objects become collectable again).
    """
    global _servers, _saved_threshold
    with _lock:
        _servers += 1
        if _servers == 1:
            _saved_threshold = gc.get_threshold()
            gc.set_threshold(_saved_threshold[0], _saved_threshold[1], _NEVER)
        _collect_and_freeze()
    try:
        yield
    finally:
        with _lock:
            _servers -= 1
            if _servers == 0 and _saved_threshold is not None:
                gc.set_threshold(*_saved_threshold)
                gc.unfreeze()


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim if name else None  # type: ignore[assignment]
    except (OSError, AttributeError):  # no C library by that name, or not glibc
        return None
    return trim


def _collect_and_freeze() -> None:
    global _modules_at_freeze
    gc.collect()
    gc.freeze()
    _modules_at_freeze = len(sys.modules)


def release_memory(*, idle: bool = False) -> bool:
    """Collect cycles, then hand freed heap pages back to the OS; whether the C library could (glibc only).

    `idle`: no request is in flight. Then, in a serving process that imported modules since its heap was
    last frozen, what survives the collection is frozen too (modules and long-lived state only, since no
    request's objects are alive). CPU work of a few tens of ms on a large heap: run it off the event loop.
    """
    with _lock:
        if idle and _servers and len(sys.modules) > _modules_at_freeze:
            _collect_and_freeze()
        else:
            gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
