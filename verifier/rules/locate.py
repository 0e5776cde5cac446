"""Point a finding at the line of the field it is about (`spec.ingress[0].from[1]`), not the object.

Works from the file text handed to `lint` (`texts`); without it, findings keep the object's
line. A field that does not exist in the text leaves the line unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import yaml

from ..model import SourceRef

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class FieldLocator:
    """Caches each file's composed documents; answers `line(source, "spec.ingress[0]")`."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = texts
        self._docs: dict[str, list[yaml.Node]] = {}

    def line(self, source: SourceRef, field: str) -> int | None:
        """1-based line of `field` inside the object that starts at `source`, or None."""
        root = self._document(source)
        if root is None:
            return None
        node: yaml.Node = root
        line: int = root.start_mark.line
        for key, index in _SEGMENT.findall(field):
            step = _child(node, key if key else int(index))
            if step is None:
                return None
            node, line = step
        return line + 1

    def _document(self, source: SourceRef) -> yaml.Node | None:
        docs = self._compose(source.file)
        # The document whose first line is at or before the object's line, the latest such.
        best = None
        for doc in docs:
            if doc.start_mark.line + 1 <= max(source.line, 1):
                best = doc
        return best

    def _compose(self, file: str) -> list[yaml.Node]:
        if file not in self._docs:
            try:
                loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
                self._docs[file] = [d for d in yaml.compose_all(self.texts.get(file, ""), Loader=loader) if d is not None]
            except yaml.YAMLError:
                self._docs[file] = []
        return self._docs[file]


def _child(node: yaml.Node, seg: str | int) -> tuple[yaml.Node, int] | None:
    """The child node and the 0-based line to report: a list item's own, a field's key."""
    if isinstance(node, yaml.SequenceNode) and isinstance(seg, int):
        if 0 <= seg < len(node.value):
            item: yaml.Node = node.value[seg]
            return item, item.start_mark.line
        return None
    if isinstance(node, yaml.MappingNode) and isinstance(seg, str):
        found: tuple[yaml.Node, int] | None = None
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == seg:
                found = value, key.start_mark.line  # the last duplicate wins, as in the loader
        return found
    return None
