"""docs/rules.md: the rule catalogue as a page (SARIF `helpUri` points at its anchors).

Regenerate with `python -m service.renderers.rules_doc > docs/rules.md`; a test keeps it in sync.
"""

from __future__ import annotations

from verifier.review.fixes import FIX_HELP
from verifier.review.rules.catalog import RULES

HEADER = """# netreason rules

<!-- Generated from verifier/review/rules/catalog.py by `python -m service.renderers.rules_doc > docs/rules.md`. -->

Every finding of `netreason lint`, `diff` and `analyze` carries one of these rule ids. An id never changes
meaning once published: code scanning and suppressions key on it. Severity is the usual one; a finding may
be raised or lowered case by case. **Fix** says what `netreason fix` (and the `fixes` of the JSON and SARIF
output) changes; all fixes together converge: no broken dependency and no new in-cluster flow beyond the
dependencies and DNS.

| rule | severity | title |
| --- | --- | --- |
"""


def render_rules_markdown() -> str:
    """The whole page, deterministic."""
    rows = "".join(f"| [`{r.id}`](#{r.id}) | {r.severity} | {r.title} |\n" for r in RULES)
    sections = "".join(
        f"\n## {r.id}\n\n**{r.title}** (default severity: {r.severity})\n\n{r.help}\n\n"
        f"**Fix:** {FIX_HELP.get(r.id, 'none: the finding needs a human decision.')}\n"
        for r in RULES
    )
    return HEADER + rows + sections


if __name__ == "__main__":
    print(render_rules_markdown(), end="")
