"""Markdown that fits where it goes: a PR comment holds at most 65,536 characters (GitHub rejects more).

When the full lint or diff Markdown is too long, these compact forms replace it: every error-severity
item is kept (denied dependencies, error findings); the rest is counted (flows by namespace pair,
findings by rule) and listed in `<details>` for as long as the budget lasts; a closing line says what
was left out and how to get all of it (`-o json`, or the report link).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

#: GitHub's limit on an issue or pull-request comment body.
MARKDOWN_LIMIT = 65_536
#: Kept free for the closing note and the caller's own lines around the report.
RESERVE = 1_500


class Budget:
    """Characters still free; `take` adds lines while they fit and counts the ones that did not."""

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.dropped: Counter[str] = Counter()

    def add(self, lines: list[str], out: list[str]) -> bool:
        size = sum(len(line) + 1 for line in lines)
        if size > self.left:
            return False
        out += lines
        self.left -= size
        return True

    def charge(self, lines: list[str], out: list[str]) -> None:
        """Add lines whatever their size (headers around rows already taken; RESERVE covers them)."""
        out += lines
        self.left -= sum(len(line) + 1 for line in lines)

    def take(self, rows: Iterable[str], out: list[str], what: str) -> int:
        """Add rows until one does not fit; count the rest under `what`. Returns how many were added."""
        added = 0
        for row in rows:
            if self.dropped[what] or not self.add([row], out):
                self.dropped[what] += 1
            else:
                added += 1
        return added


def cell(text: Any) -> str:
    """A table cell: pipes escaped, line breaks kept as <br>."""
    return str(text).replace("|", "\\|").replace("\r\n", "\n").replace("\n", "<br>")


def details(summary: str, body: list[str]) -> list[str]:
    return ["<details><summary>" + summary + "</summary>", "", *body, "", "</details>", ""]


def closing(budget: Budget, how: str) -> list[str]:
    if not budget.dropped:
        return [f"_Shortened to fit a comment: long lists are counted above. {how}_"]
    left = ", ".join(f"{n} {what}" for what, n in sorted(budget.dropped.items()))
    return [f"_Left out to stay under {MARKDOWN_LIMIT:,} characters: {left}. {how}_"]


def _finding_row(f: dict[str, Any], icons: dict[str, str], where: Callable[[dict[str, Any]], str]) -> str:
    return (f"| {icons[f['severity']]} {f['severity']} | `{f['rule']}` | `{f['object']}` | `{cell(where(f))}` | "
            f"{cell(f['message'])} |")


TABLE_HEAD = ["| | rule | object | where | message |", "| --- | --- | --- | --- | --- |"]


def findings_section(findings: list[dict[str, Any]], budget: Budget, icons: dict[str, str],
                     where: Callable[[dict[str, Any]], str], title: str) -> list[str]:
    """Every error finding in a table, the others counted by rule and listed in <details> while room lasts."""
    out: list[str] = []
    errors = [f for f in findings if f["severity"] == "error"]
    others = [f for f in findings if f["severity"] != "error"]
    if errors:
        # Errors are never dropped: they are what blocks the change. Many long ones are shortened instead.
        rows = [_finding_row(f, icons, where) for f in errors]
        if sum(len(r) + 1 for r in rows) > budget.left * 3 // 4:
            short = max(80, budget.left * 3 // 4 // len(errors) - 120)
            rows = [_finding_row({**f, "message": _shorten(f["message"], short)}, icons, where) for f in errors]
        out += [f"### {title}: errors ({len(errors)})", "", *TABLE_HEAD, *rows, ""]
        budget.left -= sum(len(r) + 1 for r in out)
    if others:
        by_rule = Counter((f["rule"], f["severity"]) for f in others)
        counts = ["| rule | severity | count |", "| --- | --- | --- |"]
        counts += [f"| `{rule}` | {sev} | {n} |" for (rule, sev), n in sorted(by_rule.items(), key=lambda kv: -kv[1])]
        budget.add([f"### {title}: warnings and info ({len(others)})", "", *counts, ""], out)
        budget.left -= 200  # the <details> wrapper and table head
        listed: list[str] = []
        shown = budget.take((_finding_row(f, icons, where) for f in others), listed, f"{title.lower()} (warning/info)")
        if shown:
            out += details(f"{shown} of {len(others)} listed", [*TABLE_HEAD, *listed])
    return out


def _shorten(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"


def cap(text: str, limit: int, how: str) -> str:
    """`text` cut to `limit` characters at a line break, saying so, in case the budget was overrun."""
    if len(text) <= limit:
        return text
    note = f"\n\n_Cut at {limit:,} characters. {how}_\n"
    return text[: text.rfind("\n", 0, limit - len(note))] + note


def pair_counts(items: Iterable[dict[str, Any]], src: str, dst: str) -> Counter[tuple[str, str]]:
    """How many items go from each namespace to each namespace (`ns/name` ids)."""
    return Counter((str(i[src]).split("/", 1)[0], str(i[dst]).split("/", 1)[0]) for i in items)
