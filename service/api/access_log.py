"""The access log without credentials: signed-link signatures never reach a log line.

uvicorn's access log records each request's full path, query included; a report link's `sig=` is a
bearer credential for that report until it expires, so it is replaced with `***` before the record is
formatted.
"""

from __future__ import annotations

import logging
import re

_SECRET_PARAMS = re.compile(r"(?i)([?&](?:sig|signature|token|access_token|api[-_]?key)=)[^&\s]*")


def scrub(path: str) -> str:
    """`path` with the values of credential-like query parameters replaced by `***`."""
    return _SECRET_PARAMS.sub(r"\1***", path)


class ScrubCredentials(logging.Filter):
    """Rewrites the path argument of uvicorn access records (`%s - "%s %s HTTP/%s" %d`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], scrub(args[2]), *args[3:])
        return True


def scrub_access_log(logger_name: str = "uvicorn.access") -> None:
    """Install the filter once on uvicorn's access logger."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, ScrubCredentials) for f in logger.filters):
        logger.addFilter(ScrubCredentials())
