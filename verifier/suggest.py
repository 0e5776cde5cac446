""""Did you mean ...?": the one place that picks the names closest to a misspelt one.

Every caller ranks candidates with difflib's ratio; they differ only in how many names they
offer and how close a name must be, which stays as it was per caller so messages do not change:
0.6 (difflib's default) for names typed in claims, questions, scopes and manifest fields,
0.5 for names in dependency files and `check`/`ask` targets, where a short name is often a
prefix of the real one (`api` for `api-gateway`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

#: difflib's own default: a name at least this close counts as a probable typo.
CUTOFF = 0.6
#: For dependency files and CLI targets, where short names are common.
LOOSE_CUTOFF = 0.5


def closest_names(name: str, candidates: Iterable[str], n: int = 3, cutoff: float = CUTOFF) -> list[str]:
    """The (at most `n`) candidates most like `name`, best first; ties in reverse name order (difflib's)."""
    return difflib.get_close_matches(name, sorted(set(candidates)), n=n, cutoff=cutoff)


def or_hint(name: str, candidates: Iterable[str], n: int = 2, cutoff: float = CUTOFF) -> str:
    """` (did you mean a or b?)`, or "" when nothing is close."""
    close = closest_names(name, candidates, n, cutoff)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def list_hint(name: str, candidates: Iterable[str], n: int = 3, cutoff: float = CUTOFF) -> str:
    """`; did you mean a, b, c?`, or "" when nothing is close."""
    close = closest_names(name, candidates, n, cutoff)
    return f"; did you mean {', '.join(close)}?" if close else ""


__all__ = ["CUTOFF", "LOOSE_CUTOFF", "closest_names", "list_hint", "or_hint"]
