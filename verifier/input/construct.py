"""YAML node trees to Python values, faster than PyYAML's SafeConstructor, same result.

`yaml.CSafeLoader` parses in C but builds values in Python through a general constructor
(recursion guards, generators, merge-key flattening on every mapping). Manifests use
plain mappings, sequences and scalars, so `FastLoader` builds those directly and hands
every other scalar tag to SafeConstructor's own method; a document with anything else
(merge keys, `!!set`, `!!omap`, custom tags, nesting deeper than the recursion limit)
is built by SafeConstructor unchanged. Scalar tag resolution is memoized per value,
since the resolver is a pure function of the value when no path resolvers are set.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError

_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_STR = "tag:yaml.org,2002:str"
_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "binary", "timestamp")
)


class _Unsupported(Exception):
    """A node the fast path does not build; the document goes to SafeConstructor."""


class FastLoader(yaml.CSafeLoader):
    """CSafeLoader with a memoized resolver and a direct constructor (`construct_fast`)."""

    # SafeLoader registers no path resolvers; the shortcuts in `resolve` rely on that.
    assert not yaml.CSafeLoader.yaml_path_resolvers

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._tags: dict[str, str] = {}

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        # With no path resolvers (SafeLoader has none) the tag depends only on the value of
        # a plain scalar; quoted scalars and untagged collections get the default tags.
        if kind is yaml.ScalarNode:
            if not implicit[0]:
                return _STR
            tag = self._tags.get(value)
            if tag is None:
                # PyYAML's Resolver.resolve is unannotated
                tag = self._tags[value] = str(super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]
            return tag
        return _MAP if kind is yaml.MappingNode else _SEQ

    def construct_fast(self, node: yaml.Node, shared: bool) -> Any:
        """Build the document rooted at `node`; `shared` must be True if it has aliases.

        With aliases, each node is built once and reused, as SafeConstructor does, so an
        alias never copies (or multiplies) data.
        """
        try:
            return _Builder(self, shared).build(node)
        except (_Unsupported, RecursionError):
            return self.construct_document(node)


class _Builder:
    def __init__(self, loader: FastLoader, shared: bool) -> None:
        self.loader = loader
        self.memo: dict[int, Any] | None = {} if shared else None

    def build(self, node: yaml.Node) -> Any:
        if self.memo is not None:
            key = id(node)
            if key in self.memo:
                return self.memo[key]
        cls, tag = node.__class__, node.tag
        if cls is yaml.ScalarNode:
            value = node.value if tag == _STR else self._scalar(node, tag)
        elif isinstance(node, yaml.MappingNode) and cls is yaml.MappingNode and tag == _MAP:
            value = self._mapping(node)
        elif cls is yaml.SequenceNode and tag == _SEQ:
            value = [self.build(child) for child in node.value]
        else:
            raise _Unsupported(tag)
        if self.memo is not None:
            self.memo[id(node)] = value
        return value

    def _scalar(self, node: yaml.Node, tag: str) -> Any:
        if tag not in _SCALAR_TAGS:
            raise _Unsupported(tag)
        return self.loader.yaml_constructors[tag](self.loader, node)

    def _mapping(self, node: yaml.MappingNode) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Unsupported("merge key")
            key = self.build(key_node)
            try:
                result[key] = self.build(value_node)
            except TypeError as exc:
                raise ConstructorError("while constructing a mapping", node.start_mark,
                                       "found unhashable key", key_node.start_mark) from exc
        return result
