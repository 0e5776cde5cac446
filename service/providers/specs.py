"""Model specs as they may be shown: credentials inside a spec's URL never leave the process.

`openai-compatible:https://user:key@host/v1?api-key=K#model` carries secrets in its URL; logs, metrics
labels, stored analyses and replies show `openai-compatible:https://***@host/v1?api-key=***#model`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit, urlunsplit

REDACTED = "***"

_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s#]+")


def redact_url(url: str) -> str:
    """`url` with its user-info replaced and every query value hidden (keys are often passed there)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
    query = "&".join(f"{k}={REDACTED}" for k, _ in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def display_spec(spec: str | None) -> str | None:
    """The spec with credentials in any URL inside it redacted (None stays None)."""
    if spec is None:
        return None
    return _URL.sub(lambda m: redact_url(m.group(0)), spec)
