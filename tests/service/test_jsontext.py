"""`service.renderers.jsontext.dumps_indented` writes what `json.dumps(doc, indent=2)` writes, byte for byte."""

from __future__ import annotations

import enum
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.renderers.jsontext import dumps_indented

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text())
keys = st.text() | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none()
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.lists(inner, max_size=3).map(tuple)
    | st.dictionaries(keys, inner, max_size=5),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(documents)
def test_same_text_as_json_dumps_indent_2(doc: Any) -> None:
    assert dumps_indented(doc) == json.dumps(doc, indent=2)


class Level(enum.IntEnum):
    HIGH = 2


class Name(enum.StrEnum):
    WEB = "wéb"


@pytest.mark.parametrize("doc", [
    {}, [], (), {"a": {}, "b": [], "c": ()}, "plain", 0, -1.5, 1e-05, 1e16, math.nan, -math.inf,
    {"ünï": "cödé ✖ \u2028 \x00 \x7f \ud83d\ude00 \"q\" \\ /"},
    {1: "int key", 2.5: "float key", None: 0, False: 1, 3: True},
    {"enum": Level.HIGH, "str_enum": Name.WEB, "nested": [[[{"deep": [1, [2, [3]]]}]]]},
])
def test_edge_values(doc: Any) -> None:
    assert dumps_indented(doc) == json.dumps(doc, indent=2)


def test_what_json_dumps_rejects_raises_its_error() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps_indented({"a": {1, 2}})
    with pytest.raises(TypeError, match="keys must be"):
        dumps_indented({(1, 2): "tuple key"})
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps_indented({"loop": loop})
