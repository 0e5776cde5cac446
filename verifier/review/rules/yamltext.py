"""Fix snippets as YAML text, written directly: the same bytes as `yaml.safe_dump(data, sort_keys=False,
default_flow_style=False, width=100)`, without PyYAML's Python representer and emitter per fix.

Fixes are small mappings and lists of short strings and numbers. Each distinct scalar is written
once by libyaml (how to quote `'53'`, `'true'` or `a: b` is its decision, memoized); the block
layout around scalars is PyYAML's: two-space indents, list items at their key's indent. Anything
else (multi-line or very long scalars, other types, lists of lists) returns None and the caller
uses the real dumper.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import yaml

_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
#: Scalars longer than this might be folded at the 100-column width: left to the real dumper.
MAX_SCALAR = 60
#: The emitter's width: it breaks a plain or quoted scalar at a space only once a line is longer than this.
_WIDTH = 100


class _Unsupported(Exception):
    """A value this writer does not lay out exactly as PyYAML does."""


def dump(data: Any) -> str | None:
    """`data` as block YAML text, or None when it holds a shape this writer does not handle."""
    lines: list[str] = []
    try:
        if isinstance(data, dict):
            _mapping(data, 0, lines)
        elif isinstance(data, list):
            _sequence(data, 0, lines)
        else:
            return None
    except _Unsupported:
        return None
    if max(map(len, lines), default=0) > _WIDTH and any(len(line) > _WIDTH and " " in line.lstrip() for line in lines):
        return None  # the emitter breaks a scalar at a space once past the width: left to it
    return "\n".join(lines) + "\n" if lines else ""


def _mapping(data: dict[Any, Any], indent: int, lines: list[str], first_prefix: str | None = None) -> None:
    """Lines of a mapping at `indent`; `first_prefix` replaces the first line's indent (`- ` of a list item).

    A fix of a big bundle's policy has about a dozen mappings and thirty scalars (2,185 fixes at benchmark
    tier M): a string key or value already written is one lookup here, without a call of `_scalar`.
    """
    if not data:
        raise _Unsupported  # `{}` at the top or as an item: rare, leave to the dumper
    pad = " " * indent
    lead = pad if first_prefix is None else first_prefix
    strings, append = _STRINGS, lines.append
    for key, value in data.items():
        if type(key) is str and key:
            head = lead + (strings.get(key) or _scalar(key)) + ":"
        elif key == "" or key is None:
            raise _Unsupported  # PyYAML writes an empty key as a complex key (`? ''`)
        else:
            head = lead + _scalar(key) + ":"
        lead = pad
        kind = type(value)
        if kind is str:  # the most common value: no isinstance checks
            append(head + " " + (strings.get(value) or _scalar(value)))
        elif kind is dict or (kind is not list and isinstance(value, dict)):
            if not value:
                append(head + " {}")
            else:
                append(head)
                _mapping(value, indent + 2, lines)
        elif kind is list or isinstance(value, list):
            if not value:
                append(head + " []")
            else:
                append(head)
                _sequence(value, indent, lines)  # PyYAML writes a mapping's list items at the key's indent
        else:
            append(head + " " + _scalar(value))


def _sequence(items: list[Any], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for item in items:
        if isinstance(item, dict):
            _mapping(item, indent + 2, lines, first_prefix=f"{pad}- ")
        elif isinstance(item, list):
            raise _Unsupported
        else:
            lines.append(f"{pad}- {_scalar(item)}")


def _scalar(value: Any) -> str:
    if type(value) is str:  # nearly every scalar of a fix: one lookup (a fix of a big bundle has ~25)
        text = _STRINGS.get(value)
        if text is None:
            if len(_STRINGS) >= _STRINGS_MAX:
                _STRINGS.clear()
            text = _STRINGS[value] = value if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED else \
                _scalar_text("str", value)
        return text
    if value is None or isinstance(value, (bool, int, float, str)):
        return _scalar_text(type(value).__name__, value)
    raise _Unsupported


#: Strings libyaml writes as they are (plain): a letter, then letters, digits and `_./-`, and not a word the
#: YAML 1.1 resolver reads as a bool or null (`yes`, `Off`, `null`, ...; `y`/`n` too, to be safe). Numbers,
#: dates and `.inf` start with a digit, a sign or a dot. The others are asked of libyaml once each.
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_./-]{0,59}")
_RESERVED = frozenset({"yes", "no", "true", "false", "on", "off", "null", "y", "n"})
_STRINGS: dict[str, str] = {}
_STRINGS_MAX = 8192


@lru_cache(maxsize=8192)
def _scalar_text(kind: str, value: Any) -> str:
    if isinstance(value, str) and (len(value) > MAX_SCALAR or not value.isprintable()):
        raise _Unsupported
    text: str = yaml.dump(value, Dumper=_DUMPER, default_flow_style=False, width=100)
    if text.endswith("\n...\n"):
        text = text[: -len("\n...\n")]  # a plain scalar document's end marker
    text = text.rstrip("\n")
    if "\n" in text:
        raise _Unsupported
    return text
