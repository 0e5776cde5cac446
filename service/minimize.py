"""What a stored cluster snapshot keeps: the manifests minus what no analysis needs.

Secret `data`/`stringData` and ConfigMap `data`/`binaryData` values are never read by an analysis, and
env values only when they name a Service (dependency inference, and then without URL credentials); the
rest is replaced by `"***"` before
the text is stored. Values are replaced in place, newlines kept, so every line number (findings, issues)
still points at the same object in the stored text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import yaml

REDACTED = '"***"'
_DATA_KINDS = {"Secret": ("data", "stringData"), "ConfigMap": ("data", "binaryData")}
_USERINFO = re.compile(r"//[^/@\s]*@")
_HOST_TOKEN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def minimized_text(text: str, service_names: frozenset[str] = frozenset()) -> str:
    """`text` with Secret/ConfigMap data and env values (except ones naming one of `service_names`)
    replaced by `"***"`. Text libyaml cannot compose is returned unchanged (loading reports it)."""
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
    except (yaml.YAMLError, RecursionError):
        return text
    spans = sorted({span for doc in documents if doc is not None for span in _sensitive(doc, service_names)},
                   reverse=True)
    for start, end, replacement in spans:
        text = text[:start] + replacement + "\n" * text.count("\n", start, end) + text[end:]
    return text


def _sensitive(node: yaml.Node, services: frozenset[str]) -> Iterator[tuple[int, int, str]]:
    for mapping in _mappings(node):
        fields = {k.value: v for k, v in mapping.value if isinstance(k, yaml.ScalarNode)}
        kind = fields.get("kind")
        for key in _DATA_KINDS.get(kind.value if isinstance(kind, yaml.ScalarNode) else "", ()):
            data = fields.get(key)
            if isinstance(data, yaml.MappingNode):
                yield from (_span(v, REDACTED) for _, v in data.value if isinstance(v, yaml.ScalarNode))
        env = fields.get("env")
        if isinstance(env, yaml.SequenceNode):
            for item in env.value:
                value = dict((k.value, v) for k, v in item.value) if isinstance(item, yaml.MappingNode) else {}
                scalar = value.get("value")
                if not isinstance(scalar, yaml.ScalarNode):
                    continue
                if not _names_service(scalar.value, services):
                    yield _span(scalar, REDACTED)
                elif _USERINFO.search(scalar.value):
                    # Kept for inference (host and port), less the credentials a URL may carry.
                    yield _span(scalar, json.dumps(_USERINFO.sub("//***@", scalar.value)))


def _mappings(node: yaml.Node) -> Iterator[yaml.MappingNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            yield current
            stack.extend(v for _, v in current.value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


def _span(node: yaml.Node, replacement: str) -> tuple[int, int, str]:
    return node.start_mark.index, node.end_mark.index, replacement


def _names_service(value: str, services: frozenset[str]) -> bool:
    # Dependency inference reads env values such as `redis-cart:6379` or `http://api.shop.svc:80`.
    return any(token.group(0) in services for token in _HOST_TOKEN.finditer(value.lower()))
