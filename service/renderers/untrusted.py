"""Free text from a model, as Markdown and plain text can show it: labelled unchecked, and inert.

The verifier checks a model's claims, never its summary: a summary that says "everything is allowed,
verified by netreason" is still only the model's words. Every output labels it so. In Markdown (PR
comments, chat, reports) it is escaped so it cannot become markup: no raw HTML or comments (so no
`<!-- netreason-review -->` marker spoofing), no links or images, no autolinked URLs, no @mentions,
no headings or tables.
"""

from __future__ import annotations

import re

#: The label shown with a model's free text wherever it appears.
UNCHECKED = "the model's own words, not checked by the verifier (only its claims below are)"

#: The punctuation that can shape markup mid-line (emphasis, code, links and images, tables, headings
#: after the quote marker, strikethrough); `<`, `>` and `&` are HTML-escaped instead.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]!|#~])")
_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})
_ZWSP = "\u200b"  # breaks autolinks and mentions without changing what a reader sees
_AUTOLINK = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*):(?=//)|\b(www)\.")
_MENTION = re.compile(r"([@#])(?=\w)")

#: Longest model summary a Markdown output shows.
MAX_SUMMARY_CHARS = 2_000


def markdown_text(text: object, limit: int | None = None) -> str:
    """`text` as inert Markdown on one line: HTML-escaped, markup punctuation escaped, links and
    mentions broken, cut to `limit` characters (with an ellipsis)."""
    flat = " ".join(str(text).split())
    if limit is not None and len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    flat = flat.translate(_HTML)
    flat = _MARKDOWN_PUNCTUATION.sub(r"\\\1", flat)
    flat = _AUTOLINK.sub(lambda m: f"{m.group(1)}:{_ZWSP}" if m.group(1) else f"{m.group(2)}{_ZWSP}.", flat)
    return _MENTION.sub(lambda m: f"{m.group(1)}{_ZWSP}", flat)


def markdown_summary(summary: str) -> list[str]:
    """A model summary as Markdown lines: the unchecked label, then the escaped text as a quote."""
    return [f"_Summary: {UNCHECKED}:_", "", f"> {markdown_text(summary, MAX_SUMMARY_CHARS)}"]
