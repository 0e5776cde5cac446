"""`service.renderers.jsontext.dumps_indented` writes what `json.dumps(doc, indent=2)` writes, byte for byte,
except NaN and infinities, which it writes as null (strict JSON)."""

from __future__ import annotations

import enum
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.renderers import jsontext
from service.renderers.jsontext import dumps_indented, dumps_indented_bytes

class Level(enum.IntEnum):
    HIGH = 2


class Name(enum.StrEnum):
    WEB = "wéb"


scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text())
keys = st.text() | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none()
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.lists(inner, max_size=3).map(tuple)
    | st.dictionaries(keys, inner, max_size=5),
    max_leaves=40,
)


def strict(doc: Any) -> Any:
    """`doc` with NaN and infinities as None: what `json.dumps` then writes is the text expected."""
    if isinstance(doc, float) and not math.isfinite(doc):
        return None
    if isinstance(doc, dict):
        return {k: strict(v) for k, v in doc.items()}
    if isinstance(doc, (list, tuple)):
        return [strict(v) for v in doc]
    return doc


def expected(doc: Any) -> str:
    return json.dumps(strict(doc), indent=2)


def via_bytes(doc: Any) -> str:
    """What the commands write (`dumps_indented_bytes`): ASCII, the same text."""
    data = dumps_indented_bytes(doc)
    assert isinstance(data, bytes)
    return data.decode("ascii")


#: Each test holds both entry points to `json.dumps`' text: the str the API sends and the bytes commands write.
encoders = pytest.mark.parametrize("encode", [dumps_indented, via_bytes], ids=["str", "bytes"])


@encoders
@settings(max_examples=400, deadline=None)
@given(documents)
def test_same_text_as_json_dumps_indent_2(encode: Any, doc: Any) -> None:
    assert encode(doc) == expected(doc)


floats = st.floats(allow_nan=False, allow_infinity=False)


@encoders
@settings(max_examples=400, deadline=None)
@given(st.lists(floats | st.floats(max_value=1e-3, min_value=-1e-3) | st.builds(
    lambda m, e: float(f"{m}e{e}"), st.integers(1, 9), st.integers(-330, 308)), max_size=8))
def test_floats_of_every_magnitude(encode: Any, values: list[float]) -> None:
    # orjson spells floats below 1e-4 its own way: those documents must be written by the exact encoder
    assert encode({"values": values}) == expected({"values": values})


def test_the_fast_encoder_writes_a_plain_document() -> None:
    # The speed is orjson's: a document of strings, ints, seconds and nested containers must not fall back
    # ("service-2" holds "e-2", as a one-digit exponent does)
    doc = {"schema": "netreason.lint/v1", "seconds": 0.1234, "findings": [
        {"line": 3, "fix": None, "ok": True, "object": "web/service-2", "details": {"ports": [80, 443]}}]}
    data = jsontext._by_orjson(doc)
    assert data is not None and data == json.dumps(doc, indent=2).encode()


@pytest.mark.parametrize("doc", [
    {"ünï": "cödé ✖ \u2028 \x7f \U0001F600 \x1f"}, {"delete": "only \x7f is not ASCII-printable"},
    {"sci": 1.5e-07}, {"small": 1e-05}, {1: "int key"}, {"big": 2**64}, {"enum": Level.HIGH},
    {"surrogate": "\ud83d"},
])
@encoders
def test_what_orjson_writes_otherwise_is_written_exactly(doc: Any, encode: Any) -> None:
    assert encode(doc) == json.dumps(doc, indent=2)


@pytest.mark.parametrize("doc", [
    {}, [], (), {"a": {}, "b": [], "c": ()}, "plain", 0, -1.5, 1e-05, 1e16, math.nan, -math.inf,
    {"ünï": "cödé ✖ \u2028 \x00 \x7f \ud83d\ude00 \"q\" \\ /"},
    {1: "int key", 2.5: "float key", None: 0, False: 1, 3: True},
    {"enum": Level.HIGH, "str_enum": Name.WEB, "nested": [[[{"deep": [1, [2, [3]]]}]]]},
])
@encoders
def test_edge_values(doc: Any, encode: Any) -> None:
    assert encode(doc) == expected(doc)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@encoders
def test_nan_and_infinities_are_null(value: float, encode: Any) -> None:
    # json.dumps writes NaN/Infinity, which JSON.parse, jq --strict and Starlette's responses refuse
    for doc in ({"v": value}, {"v": value, "small": 1e-05}, {"v": value, 1: "exact encoder"}):
        assert json.loads(encode(doc))["v"] is None


@encoders
def test_what_json_dumps_rejects_raises_its_error(encode: Any) -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        encode({"a": {1, 2}})
    with pytest.raises(TypeError, match="keys must be"):
        encode({(1, 2): "tuple key"})
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        encode({"loop": loop})
