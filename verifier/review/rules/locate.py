"""Point a finding at the line of the field it is about (`spec.ingress[0].from[1]`), not the object.

Works from the file text handed to `lint` (`texts`); without it, findings keep the object's
line. A field that does not exist in the text leaves the line unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping

import yaml

from ...input.documents import parse_path, walk_exact
from ...model.bundle import SourceRef


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
        line = walk_exact(root, parse_path(field))
        return None if line is None else line + 1

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
                self._docs[file] = [d for d in yaml.compose_all(self.texts.get(file, ""), Loader=loader)
                                    if d is not None]
            except yaml.YAMLError:
                self._docs[file] = []
        return self._docs[file]

