"""Checks on a manifest object's fields, shared by every validator: typed access, metav1 types, messages.

`validate` (NetworkPolicy, workloads, Services, Namespaces) and `admin_validate` (AdminNetworkPolicy)
describe their kinds' schemas; the steps every schema repeats live here: read a field as a mapping or a
list (reporting anything else), reject unknown fields as `kubectl --validate=strict` does, check label
selectors and object metadata as apimachinery does, and word the messages.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..model.bundle import PROTOCOLS, Severity
from ..suggest import closest_names
from . import naming
from .documents import FieldPath, Key


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem in one field of an object (the path is relative to the object root)."""

    path: FieldPath
    message: str
    severity: Severity = "error"


Out = list[Violation]


SELECTOR_FIELDS = frozenset({"matchLabels", "matchExpressions"})
REQUIREMENT_FIELDS = frozenset({"key", "operator", "values"})
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


# --- metav1 types ----------------------------------------------------------------------


def label_selector(value: Any, path: FieldPath, out: Out) -> None:
    selector = mapping(value, path, out)
    if selector is None:
        return
    unknown_fields(selector, SELECTOR_FIELDS, path, out)
    label_map(selector.get("matchLabels"), (*path, "matchLabels"), out)
    exprs = list_of(selector.get("matchExpressions"), (*path, "matchExpressions"), out)
    for i, expr in enumerate(exprs):
        _requirement(expr, (*path, "matchExpressions", i), out)


def _requirement(value: Any, path: FieldPath, out: Out) -> None:
    req = fields(value, REQUIREMENT_FIELDS, path, out)
    key, operator = req.get("key"), req.get("operator")
    values = list_of(req.get("values"), (*path, "values"), out)
    if not isinstance(key, str):
        out.append(Violation((*path, "key"), "Required value: a label key is required" if key is None
                             else f"must be a string, got {kind_of(key)}"))
    else:
        add(out, (*path, "key"), f"invalid label key {key!r}", naming.qualified_name(key))
    if operator in ("In", "NotIn") and not values:
        out.append(Violation((*path, "values"), f"must be specified when `operator` is '{operator}'"))
    elif operator in ("Exists", "DoesNotExist") and values:
        out.append(Violation((*path, "values"), f"may not be specified when `operator` is '{operator}'"))
    elif operator not in OPERATORS:
        hint = case_hint(operator, OPERATORS)
        out.append(Violation((*path, "operator"), f"{operator!r} is not a valid selector operator: "
                             f"use In, NotIn, Exists or DoesNotExist{hint}"))
    for i, item in enumerate(values):
        if not isinstance(item, str):
            out.append(Violation((*path, "values", i), f"must be a string, got {kind_of(item)}{quote_hint(item)}"))
        else:
            add(out, (*path, "values", i), f"invalid label value {item!r}", naming.label_value(item))


def label_map(value: Any, path: FieldPath, out: Out) -> None:
    for key, item in (mapping(value, path, out) or {}).items():
        if type(key) is str and type(item) is str and _valid_label(key, item):
            continue  # the common case, decided by the cached checks below
        where = (*path, Key(str(key)))
        if not isinstance(key, str):
            out.append(Violation(where, f"label keys must be strings, got {kind_of(key)}{quote_hint(key)}"))
        else:
            add(out, where, f"invalid label key {key!r}", naming.qualified_name(key))
        if not isinstance(item, str):
            out.append(Violation(where, f"label values must be strings, got {kind_of(item)}{quote_hint(item)}"))
        else:
            add(out, where, f"invalid label value {item!r}", naming.label_value(item))


@lru_cache(maxsize=65536)
def _valid_label(key: str, value: str) -> bool:
    """Whether a label passes both checks of `label_map` (manifests repeat the same labels)."""
    return not naming.qualified_name(key) and not naming.label_value(value)


def object_meta(obj: dict[str, Any], name_rule: Callable[[str], Collection[str]], out: Out,
                 namespaced: bool = True) -> None:
    meta = mapping(obj.get("metadata"), ("metadata",), out)
    if meta is None:
        if obj.get("metadata") is None:
            out.append(Violation(("metadata",), "Required value: metadata.name is required"))
        return
    name = meta.get("name")
    if name is None or name == "":
        out.append(Violation(("metadata", "name"), "Required value: give the object a name"))
    elif not isinstance(name, str):
        out.append(Violation(("metadata", "name"), f"must be a string, got {kind_of(name)}{quote_hint(name)}"))
    else:
        add(out, ("metadata", "name"), f"invalid name {name!r}", name_rule(name))
    namespace = meta.get("namespace")
    if namespaced and namespace is not None:
        if not isinstance(namespace, str):
            out.append(Violation(("metadata", "namespace"), f"must be a string, got {kind_of(namespace)}"))
        elif namespace:
            add(out, ("metadata", "namespace"), f"invalid namespace {namespace!r}", naming.dns1123_label(namespace))
    label_map(meta.get("labels"), ("metadata", "labels"), out)
    string_map(meta.get("annotations"), ("metadata", "annotations"), out)


# --- typed access ------------------------------------------------------------------------


def mapping(value: Any, path: FieldPath, out: Out) -> dict[str, Any] | None:
    """`value` as a mapping; None (JSON null) means absent; anything else is an error."""
    if value is None or isinstance(value, dict):
        return value
    out.append(Violation(path, f"must be a mapping (an object with fields), got {kind_of(value)}"))
    return None


def fields(value: Any, known: frozenset[str], path: FieldPath, out: Out) -> dict[str, Any]:
    """`value` as a mapping of `known` fields: {} when absent or not a mapping, unknown fields reported."""
    obj = mapping(value, path, out) or {}
    unknown_fields(obj, known, path, out)
    return obj


def list_of(value: Any, path: FieldPath, out: Out) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    out.append(Violation(path, f"must be a list, got {kind_of(value)}"))
    return []


def string_map(value: Any, path: FieldPath, out: Out) -> None:
    for key, item in (mapping(value, path, out) or {}).items():
        if not isinstance(key, str) or not isinstance(item, str):
            bad = key if not isinstance(key, str) else item
            out.append(Violation((*path, Key(str(key))),
                                 f"keys and values must be strings, got {kind_of(bad)}{quote_hint(bad)}"))


def required_string(value: Any, path: FieldPath, out: Out) -> None:
    if value is None or value == "":
        out.append(Violation(path, "Required value"))
    elif not isinstance(value, str):
        out.append(Violation(path, f"must be a string, got {kind_of(value)}{quote_hint(value)}"))


def optional_int(value: Any, path: FieldPath, out: Out, minimum: int) -> None:
    if value is None:
        return
    if not is_int(value):
        out.append(Violation(path, f"must be an integer, got {kind_of(value)}{quote_hint(value, unquote=True)}"))
    elif value < minimum:
        out.append(Violation(path, f"must be greater than or equal to {minimum}"))


def protocol(value: Any, path: FieldPath, out: Out) -> None:
    # "The protocol (TCP, UDP, or SCTP) which traffic must match. If not specified, this
    # field defaults to TCP."
    if value is None or value in PROTOCOLS:
        return
    hint = case_hint(value, PROTOCOLS)
    out.append(Violation(path, f"Unsupported value: {value!r}: supported values: \"TCP\", \"UDP\", \"SCTP\"{hint}"))


def unknown_fields(obj: dict[str, Any], known: frozenset[str], path: FieldPath, out: Out) -> None:
    if known.issuperset(obj):
        return
    for key in obj:
        if key not in known:
            close = closest_names(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known fields: {', '.join(sorted(known))})"
            out.append(Violation((*path, str(key)), f"unknown field {str(key)!r}{hint}; "
                                 "kubectl rejects unknown fields by default (--validate=strict)"))


def get_path(obj: dict[str, Any], path: FieldPath) -> Any:
    node: Any = obj
    for seg in path:
        if not isinstance(node, dict):
            return None
        node = node.get(seg)
    return node


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def add(out: Out, path: FieldPath, subject: str, problems: Collection[str]) -> None:
    if problems:
        out.extend([Violation(path, f"{subject}: {problem}") for problem in problems])


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             list: "a list", dict: "a mapping"}
    name = names.get(type(value), f"a {type(value).__name__}")
    return f"{name} ({_short(value)})" if isinstance(value, (bool, int, float, str)) else name


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def quote_hint(value: Any, unquote: bool = False) -> str:
    """Point out YAML's implicit typing (`on`, `1.10`, `true`) or a quoted number."""
    if unquote and isinstance(value, str) and value.strip().isdigit():
        return "; write the number without quotes"
    if not unquote and isinstance(value, (bool, int, float)):
        return "; YAML read this as a non-string, so quote it"
    return ""


def case_hint(value: Any, allowed: tuple[str, ...]) -> str:
    if isinstance(value, str):
        for option in allowed:
            if option.lower() == value.lower():
                return f" (values are case-sensitive: write {option})"
    return ""
