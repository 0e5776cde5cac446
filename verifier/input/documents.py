"""A parsed manifest document, where it came from, and where each of its fields sits.

Loading keeps only the line where each object starts (cheap: libyaml reports it while
parsing). The line of an individual field is needed only when an issue names that field,
so it is found lazily: the document's own text is re-composed with libyaml, which keeps
line marks, and the field path is walked in the node tree (`field_line`).

This is the one place that walks a YAML node tree to a field's line: `FieldLines` (every rule
field of a policy, recorded once), `field_lines` (the deepest existing step, for validation
errors) and `walk_exact` (used by `rules/locate.py` for findings) share `child_line`.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from ..model.bundle import SourceRef


class Key(str):
    """A map key inside a field path (a label key, say): rendered `[key]`, not `.key`."""

    __slots__ = ()


Segment = str | int
FieldPath = tuple[Segment, ...]

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def render_path(path: FieldPath) -> str:
    """Render a field path the way the API server does: `spec.ingress[0].from[1]`."""
    parts: list[str] = []
    for seg in path:
        if isinstance(seg, (int, Key)):
            parts.append(f"[{seg}]")
        else:
            parts.append(f".{seg}" if parts else seg)
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class Locator:
    """The span of one object in its source text, to find field lines on demand.

    `start`/`end` are character offsets into `text`; `line` (1-based) and `column`
    (0-based) are where `start` sits.
    """

    text: str
    start: int
    end: int
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Document:
    """One manifest object before building: its parsed data and its origin.

    `fields` holds the lines of a NetworkPolicy's rule fields when the parser recorded them.
    """

    data: Any
    source: SourceRef
    locator: Locator | None = None
    fields: FieldLines | None = None


#: How deep below the root `FieldLines` records paths: spec.ingress[0].from[1].namespaceSelector.
FIELD_DEPTH = 6


class FieldLines:
    """The 1-based lines of an object's fields under `spec`, recorded once from its YAML node tree.

    Built while parsing (the node tree is at hand then), or, for JSON input, on the first
    question by composing the object's own span once. A field is at its key's line, a list
    item at its own; a path that does not exist has no line.
    """

    __slots__ = ("_lines", "_locator")

    def __init__(self, node: yaml.Node | None = None, locator: Locator | None = None) -> None:
        self._locator = locator
        self._lines: dict[str, int] | None = None
        if node is not None:
            self._lines = _record(node, 0)

    def line(self, path: str) -> int | None:
        if self._lines is None:
            root = _compose(self._locator) if self._locator is not None else None
            self._lines = _record(root, self._locator.line - 1) if root is not None and self._locator else {}
        return self._lines.get(path)


def _record(root: yaml.Node, offset: int) -> dict[str, int]:
    """Path -> 1-based line for every field and list item under `spec`, down to FIELD_DEPTH."""
    lines: dict[str, int] = {}
    if not isinstance(root, yaml.MappingNode):
        return lines
    # Breadth first, in document order: with duplicate keys, the last one's lines win, as its value does.
    queue: deque[tuple[yaml.Node, str, int]] = deque()
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "spec":
            lines["spec"] = key.start_mark.line + 1 + offset
            queue = deque([(value, "spec", 1)])
    while queue:
        node, path, depth = queue.popleft()
        if depth >= FIELD_DEPTH:
            continue
        for seg, value, line in _children(node):  # the last duplicate key wins, as in the loader
            child = f"{path}[{seg}]" if isinstance(seg, int) else f"{path}.{seg}"
            lines[child] = line + 1 + offset
            queue.append((value, child, depth + 1))
    return lines


def _children(node: yaml.Node) -> Iterator[tuple[Segment, yaml.Node, int]]:
    """Each field (at its key's 0-based line) or list item (at its own) of `node`, in document order."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                yield key.value, value, key.start_mark.line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield i, item, item.start_mark.line


def field_lines(locator: Locator | None, paths: Sequence[FieldPath]) -> list[int | None]:
    """Return the 1-based line of each path inside the located object.

    A field is reported at its key (`except:`), a list element at its item. If a path does
    not exist entirely (a missing required field, say), the line of its deepest existing
    ancestor is returned. Gives None for every path when the object's text cannot be
    re-composed on its own (e.g. an alias to an anchor outside it). The object is composed
    once for all paths.
    """
    root = _compose(locator) if locator is not None and paths else None
    if root is None or locator is None:
        return [None] * len(paths)
    return [locator.line + _walk(root, path) for path in paths]


def _compose(locator: Locator) -> yaml.Node | None:
    # Indent the first line of a block-style object by the original column so block indentation
    # stays consistent and node lines map back onto the file by a plain offset. A flow-style object
    # (JSON) ignores indentation and needs no padding: on single-line JSON the column is the offset
    # into the whole file, and padding every object by it made locating N errors quadratic.
    body = locator.text[locator.start : locator.end]
    flow = body[:1] in ("{", "[")
    snippet = body if flow else " " * locator.column + body
    try:
        node: yaml.Node | None = yaml.compose(snippet, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return None
    return node


def _walk(node: yaml.Node, path: FieldPath) -> int:
    """0-based line of the deepest step of `path` that exists under `node`."""
    line: int = node.start_mark.line
    for seg in path:
        step = child_line(node, seg)
        if step is None:
            break
        node, line = step
    return line


def walk_exact(node: yaml.Node, path: Iterable[Segment]) -> int | None:
    """0-based line of `path` under `node` (a field at its key, a list item at its own line); None if absent."""
    line: int = node.start_mark.line
    for seg in path:
        step = child_line(node, seg)
        if step is None:
            return None
        node, line = step
    return line


def parse_path(field: str) -> FieldPath:
    """`spec.ingress[0].from[1]` as segments: `("spec", "ingress", 0, "from", 1)`."""
    return tuple(key if key else int(index) for key, index in _SEGMENT.findall(field))


def child_line(node: yaml.Node, seg: Segment) -> tuple[yaml.Node, int] | None:
    """One step down the node tree and the 0-based line to report: a list item's own, a field's key."""
    if isinstance(node, yaml.SequenceNode) and isinstance(seg, int):
        if 0 <= seg < len(node.value):
            item: yaml.Node = node.value[seg]
            return item, item.start_mark.line
        return None
    if isinstance(node, yaml.MappingNode) and isinstance(seg, str):
        found: tuple[yaml.Node, int] | None = None
        for key, value, line in _children(node):
            if key == seg:
                found = value, line  # the last duplicate key wins, as in the loader
        return found
    return None
