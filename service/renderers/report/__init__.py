"""The HTML report: one page design for analyze, review, chat and plan documents.

Self-contained (inline CSS and SVG, no script, no external resource, a Content-Security-Policy that
forbids both), printable, and escaped everywhere. `render_report(doc)` picks the page for a document
by its `schema`; `page`, `netmap`, `truth_parts` and `model_part` hold the pieces.
"""

from .reports import REPORTS, render_report

__all__ = ["REPORTS", "render_report"]
