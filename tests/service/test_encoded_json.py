"""`EncodedJson`: one encoding of a document, measured as `json.dumps(doc, separators=(",", ":"))` measures it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from starlette.responses import JSONResponse

from service.api.encoded import EncodedJson

# Any code point, lone surrogates and DEL included: each is written differently with and without ensure_ascii.
TEXT = st.text(st.characters() | st.sampled_from(["\x7f", "\u2028", "\ud800", "\udfff", "\U0010ffff"]), max_size=30)
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | TEXT, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(TEXT, inner, max_size=5),
                    max_leaves=30)


@given(JSON)
def test_the_size_is_that_of_compact_ascii_json(doc: Any) -> None:
    assert EncodedJson.of(doc).ascii_size == len(json.dumps(doc, separators=(",", ":")))


@given(JSON)
def test_the_text_is_what_jsonresponse_renders(doc: Any) -> None:
    try:
        expected = JSONResponse(doc).body
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 answer either way
        return
    assert EncodedJson.of(doc).text.encode("utf-8") == expected
