"""Label selectors written as kubectl takes them (`-l app=web,tier!=db`, `env in (a,b)`, `!canary`).

The grammar is the one `kubectl get -l` parses (apimachinery `labels.Parse`), equality and set
based, joined by commas (a logical AND):

    key=value   key==value   key!=value   key in (v1,v2)   key notin (v1,v2)   key   !key

"!=" and "notin" also match objects without the key, as in Kubernetes (NotIn semantics).
"""

from __future__ import annotations

import re

from verifier.model.bundle import LabelSelector, Requirement

_KEY = r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?"
_VALUE = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET = re.compile(rf"({_KEY})\s+(in|notin)\s*\(([^()]*)\)")
_EQUALITY = re.compile(rf"({_KEY})\s*(==|!=|=)\s*({_VALUE})")
_EXISTS = re.compile(rf"(!?)\s*({_KEY})")


class SelectorSyntaxError(ValueError):
    """A selector kubectl would reject; the message quotes the bad part and shows the grammar."""


def parse_selector(text: str) -> LabelSelector:
    """The LabelSelector a kubectl-style selector string stands for.

    Raises:
        SelectorSyntaxError: a part is not one of the forms in the module docstring.
    """
    parts = _split(text)
    if not parts:
        raise SelectorSyntaxError("empty selector; e.g. -l app=web or -l 'env in (prod,staging)'")
    return LabelSelector(tuple(_requirement(p) for p in parts))


def _split(text: str) -> list[str]:
    """Comma-separated parts, commas inside `( )` kept."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return [p for p in parts if p] if text.strip() else []


def _requirement(part: str) -> Requirement:
    if m := _SET.fullmatch(part):
        values = tuple(v.strip() for v in m.group(3).split(","))
        if not all(values) or not all(re.fullmatch(_VALUE, v) for v in values):
            raise SelectorSyntaxError(f"{part!r}: a set needs one or more label values, e.g. env in (prod,staging)")
        return Requirement(m.group(1), "In" if m.group(2) == "in" else "NotIn", tuple(sorted(set(values))))
    if m := _EQUALITY.fullmatch(part):
        return Requirement(m.group(1), "NotIn" if m.group(2) == "!=" else "In", (m.group(3),))
    if m := _EXISTS.fullmatch(part):
        return Requirement(m.group(2), "DoesNotExist" if m.group(1) else "Exists")
    raise SelectorSyntaxError(f"{part!r} is not a label requirement; use key=value, key!=value, "
                              "key in (a,b), key notin (a,b), key or !key")
