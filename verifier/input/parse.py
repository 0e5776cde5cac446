"""Manifest text to Documents: multi-document YAML (libyaml), JSON, and `kind: List`.

YAML goes through `yaml.CSafeLoader` one document at a time, exactly as `load_all` does,
but keeping the composed root node long enough to note where the document (and each List
item) starts. JSON goes through the C `json` decoder; item positions come from decoding
element by element. Field lines are not recorded here (see `documents.field_lines`).

Hostile input: libyaml refuses nesting deeper than 1000 levels; the JSON decoder's
recursion error is reported as a syntax error; a YAML document whose aliases expand it
by more than MAX_ALIAS_EXPANSION nodes (a "billion laughs") or refer to themselves is
rejected before it is constructed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import yaml

from ..model.bundle import SourceRef
from ..model.errors import ManifestSyntaxError
from .construct import FastLoader
from .documents import Document, FieldLines, Locator

#: Nodes that aliases may add to one document beyond its own size.
MAX_ALIAS_EXPANSION = 1_000_000
#: How deep `kind: List` objects may nest inside each other.
MAX_LIST_DEPTH = 4

ParseResult = tuple[list[Document], list[ManifestSyntaxError]]


def parse_text(text: str, name: str) -> ParseResult:
    """Split manifest text into documents, with the syntax errors met on the way.

    JSON text (starting with `{` or `[`) is read with the JSON decoder, falling back to
    YAML, which also accepts flow-style documents. Documents before a YAML syntax error
    are kept; nothing after it can be read.
    """
    if text.lstrip()[:1] in ("{", "["):
        try:
            return _json_documents(text, name), []
        except (ValueError, RecursionError) as exc:
            docs, errors = _yaml_documents(text, name)
            return (docs, []) if not errors else ([], [_json_error(exc, name)])
    return _yaml_documents(text, name)


def list_items(value: Any) -> list[Any] | None:
    """The objects inside a `kind: List` (or `*List`) object or a plain list, else None."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        kind, items = value.get("kind"), value.get("items")
        if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
            if kind != "List":
                _type_items(kind[: -len("List")], value.get("apiVersion"), items)
            return items
    return None


def _type_items(kind: str, api_version: Any, items: list[Any]) -> None:
    """Give the items of a typed list (`PodList`, `NetworkPolicyList`) their kind.

    The API server leaves `kind` and `apiVersion` out of the items of a typed list
    (`GET /api/v1/pods` returns a PodList); the list names them for all its items.
    """
    for item in items:
        if isinstance(item, dict):
            if not item.get("kind"):
                item["kind"] = kind
            if not item.get("apiVersion") and isinstance(api_version, str) and api_version:
                item["apiVersion"] = api_version


# --- YAML ------------------------------------------------------------------------------


def _yaml_documents(text: str, name: str) -> ParseResult:
    docs: list[Document] = []
    errors: list[ManifestSyntaxError] = []
    guard = "&" in text and "*" in text  # an alias needs an anchor: skip the check otherwise
    loader = FastLoader(text)
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            assert node is not None  # check_node() said a document follows
            problem = _alias_problem(node) if guard else None
            if problem:
                errors.append(_error(problem, SourceRef(name, node.start_mark.line + 1, index)))
            else:
                docs.extend(_yaml_docs(loader.construct_fast(node, guard), node, text, name, index))
            index += 1
    except yaml.YAMLError as exc:
        errors.append(_yaml_error(exc, name, index))
    finally:
        loader.dispose()
    return docs, errors


def _yaml_docs(value: Any, node: yaml.Node, text: str, name: str, index: int, depth: int = 0) -> Iterator[Document]:
    if value is None:
        return  # an empty document or a null List item
    items = list_items(value)
    if items is None or depth >= MAX_LIST_DEPTH:
        locator = Locator(text, node.start_mark.index, node.end_mark.index, node.start_mark.line + 1,
                          node.start_mark.column)
        # Policy field lines are recorded now, while the node tree exists: findings point at fields.
        fields = FieldLines(node) if isinstance(value, dict) and value.get("kind") == "NetworkPolicy" else None
        yield Document(value, SourceRef(name, locator.line, index), locator, fields)
        return
    nodes = _yaml_item_nodes(node)
    if len(nodes) != len(items):  # merge keys or the like: fall back to the List's position
        nodes = [node] * len(items)
    for item, item_node in zip(items, nodes):
        yield from _yaml_docs(item, item_node, text, name, index, depth + 1)


def _yaml_item_nodes(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        for key, value in reversed(node.value):  # the last duplicate key wins, as in construction
            if key.value == "items" and isinstance(value, yaml.SequenceNode):
                return list(value.value)
    return []


def _alias_problem(root: yaml.Node) -> str | None:
    """Why a document's aliases make it unsafe to expand, or None when they don't."""
    sizes: dict[int, int] = {}
    opened: set[int] = set()
    stack = [root]
    while stack:
        node = stack[-1]
        key = id(node)
        if key in sizes:
            stack.pop()
            continue
        children = _children(node)
        if key in opened:
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            stack.pop()
            continue
        opened.add(key)
        for child in children:
            if id(child) in opened and id(child) not in sizes:
                return "a YAML alias refers to a node that contains it (a recursive structure)"
            stack.append(child)
    extra = sizes[id(root)] - len(sizes)
    if extra > MAX_ALIAS_EXPANSION:
        return (f"YAML aliases expand this document by {extra:,} nodes (limit {MAX_ALIAS_EXPANSION:,}); "
                "refusing a possible 'billion laughs' document")
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _yaml_error(exc: yaml.YAMLError, name: str, index: int) -> ManifestSyntaxError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None:
        problem += f" ({context} at line {context_mark.line + 1}, column {context_mark.column + 1})"
    elif context:
        problem += f" ({context})"
    line = mark.line + 1 if mark is not None else 0
    where = f" at column {mark.column + 1}" if mark is not None else ""
    return _error(f"invalid YAML{where}: {problem}; nothing after this point in the file was loaded",
                  SourceRef(name, line, index))


def _error(message: str, source: SourceRef) -> ManifestSyntaxError:
    return ManifestSyntaxError(message, source)


# --- JSON ------------------------------------------------------------------------------

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


def _json_documents(text: str, name: str) -> list[Document]:
    """Every top-level JSON value in `text` (one object, an array, or several in a row)."""
    lines = _LineCounter(text)
    docs: list[Document] = []
    pos, index = _skip(text, 0), 0
    while pos < len(text):
        value, end, spans = _decode_top(text, pos)
        docs.extend(_json_docs(value, text, pos, end, name, index, lines, spans=spans))
        pos, index = _skip(text, end), index + 1
    return docs


Span = tuple[int, int]


def _decode_top(text: str, pos: int) -> tuple[Any, int, list[Span] | None]:
    """Decode the value at `pos` once, noting the offsets of the elements of its List on the way.

    The offsets are those of the value's elements (an array) or of its `items` array (an
    object), None when there are none. Anything the walk does not accept is decoded again
    by the decoder alone, which gives the same value, or raises its own error with line and
    column.
    """
    try:
        if text.startswith("[", pos):
            items, end, spans = _array_with_spans(text, pos)
            return items, end, spans
        if text.startswith("{", pos):
            return _object_with_item_spans(text, pos)
    except ValueError:
        pass
    value, end = _DECODER.raw_decode(text, pos)
    return value, end, None


def _array_with_spans(text: str, pos: int) -> tuple[list[Any], int, list[Span]]:
    """The array at `pos` (a `[`), its end offset, and each element's (start, end)."""
    items: list[Any] = []
    spans: list[Span] = []
    pos = _skip(text, pos + 1)
    if text.startswith("]", pos):
        return items, pos + 1, spans
    while True:
        value, end = _DECODER.raw_decode(text, pos)
        items.append(value)
        spans.append((pos, end))
        pos = _skip(text, end)
        if text.startswith("]", pos):
            return items, pos + 1, spans
        if not text.startswith(",", pos):
            raise ValueError("expected ',' or ']'")
        pos = _skip(text, pos + 1)


def _object_with_item_spans(text: str, pos: int) -> tuple[dict[str, Any], int, list[Span] | None]:
    """The object at `pos` (a `{`), its end offset, and the element spans of its last `items` array."""
    obj: dict[str, Any] = {}
    spans: list[Span] | None = None
    pos = _skip(text, pos + 1)
    if text.startswith("}", pos):
        return obj, pos + 1, None
    while True:
        if not text.startswith('"', pos):
            raise ValueError("expected a member name")
        key, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        if not text.startswith(":", pos):
            raise ValueError("expected ':'")
        pos = _skip(text, pos + 1)
        if key == "items":
            spans = None
            if text.startswith("[", pos):
                obj[key], pos, spans = _array_with_spans(text, pos)
            else:
                obj[key], pos = _DECODER.raw_decode(text, pos)
        else:
            obj[key], pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text.startswith("}", pos):
            return obj, pos + 1, spans
        if not text.startswith(",", pos):
            raise ValueError("expected ',' or '}'")
        pos = _skip(text, pos + 1)


def _json_docs(value: Any, text: str, start: int, end: int, name: str, index: int,
               lines: _LineCounter, depth: int = 0, spans: list[Span] | None = None) -> Iterator[Document]:
    if value is None:
        return
    items = list_items(value)
    if items is None or depth >= MAX_LIST_DEPTH:
        line, column = lines.position(start)
        yield Document(value, SourceRef(name, line, index), Locator(text, start, end, line, column))
        return
    if spans is None:
        spans = _json_item_spans(text, start, isinstance(value, list))
    if len(spans) != len(items):
        spans = [(start, end)] * len(items)
    for item, (item_start, item_end) in zip(items, spans):
        yield from _json_docs(item, text, item_start, item_end, name, index, lines, depth + 1)


def _json_item_spans(text: str, start: int, is_array: bool) -> list[tuple[int, int]]:
    """Start/end offsets of the elements of the array at `start`, or of its `items` array."""
    pos = start if is_array else _json_member(text, start, "items")
    if pos < 0:
        return []
    spans: list[tuple[int, int]] = []
    pos = _skip(text, pos + 1)
    while pos < len(text) and text[pos] != "]":
        _, end = _DECODER.raw_decode(text, pos)
        spans.append((pos, end))
        pos = _skip(text, end)
        pos = _skip(text, pos + 1) if text.startswith(",", pos) else pos
    return spans


def _json_member(text: str, start: int, wanted: str) -> int:
    """Offset of the value of the (last) member `wanted` of the object at `start`, or -1."""
    found, pos = -1, _skip(text, start + 1)
    while pos < len(text) and text[pos] == '"':
        key, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, _skip(text, pos) + 1)  # past the ':'
        if key == wanted:
            found = pos
        _, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        pos = _skip(text, pos + 1) if text.startswith(",", pos) else pos
    return found


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


class _LineCounter:
    """Line and column of offsets that mostly increase, counting newlines incrementally."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offset = 0
        self.line = 1

    def position(self, offset: int) -> tuple[int, int]:
        if offset < self.offset:
            self.offset, self.line = 0, 1
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line, offset - (self.text.rfind("\n", 0, offset) + 1)


def _json_error(exc: Exception, name: str) -> ManifestSyntaxError:
    if isinstance(exc, json.JSONDecodeError):
        return _error(f"invalid JSON at column {exc.colno}: {exc.msg}", SourceRef(name, exc.lineno))
    if isinstance(exc, RecursionError):
        return _error("invalid JSON: nested too deeply", SourceRef(name, 1))
    return _error(f"invalid JSON: {exc}", SourceRef(name, 1))
