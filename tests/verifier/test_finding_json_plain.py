"""`findings._plain` (each finding's `details` in the lint JSON) is the general reading it shortcuts.

It takes scalar items as they are and plain dicts, lists and tuples without ABC checks; the result must
be what turning every Mapping into a dict with string keys and every list or tuple into a list gives,
for any mix of values, with the types of the copies exactly those.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.model.bundle import SourceRef
from verifier.review.findings import _plain


def _general(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _general(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_general(v) for v in value]
    return value


scalars = st.one_of(st.text(max_size=3), st.integers(), st.floats(allow_nan=False), st.booleans(), st.none(),
                    st.just(SourceRef("a.yaml", 3)), st.frozensets(st.integers(), max_size=2))
keys = st.one_of(st.text(max_size=3), st.integers(), st.booleans(), st.none())
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(keys, inner, max_size=3), st.dictionaries(keys, inner, max_size=3).map(MappingProxyType)),
    max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(values)
def test_plain_is_the_general_reading(value: Any) -> None:
    got, want = _plain(value), _general(value)
    assert repr(got) == repr(want)  # repr spells the types: a tuple or mappingproxy left as it was would show
    assert got == want
