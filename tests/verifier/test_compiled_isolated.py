"""`CompiledBundle.isolated` answers as the shift of the isolation mask it replaces.

The rules ask it for every workload (coverage, DNS, fixes, the graph's nodes); it reads the mask's
binary digits once per mask instead of shifting a 20,000-bit integer per question.
"""

from __future__ import annotations


import pytest

import verifier
from tests.generated import generated_bundle
from verifier.engine.compile import CompiledBundle, compile_bundle

from .test_explain_selecting import BUNDLES


def _assert_same(c: CompiledBundle) -> int:
    isolated = 0
    for cls in range(len(c.classes) + 3):  # and past the last class: not isolated
        for direction, mask in (("ingress", c.ingress_isolated), ("egress", c.egress_isolated)):
            want = bool(mask >> cls & 1)
            assert c.isolated(cls, direction) is want, (cls, direction)  # type: ignore[arg-type]
            isolated += want
    return isolated


@pytest.mark.parametrize("name", sorted(BUNDLES))
def test_isolated_is_the_bit_of_the_mask(name: str) -> None:
    _assert_same(compile_bundle(verifier.load_bundle([str(p) for p in BUNDLES[name]])))


def test_a_generated_cluster_and_a_replaced_mask() -> None:
    c = compile_bundle(generated_bundle())
    assert _assert_same(c)
    # A mask replaced after a question is read afresh (the compiler ORs into the masks as it goes).
    c.ingress_isolated = int("10" * len(c.classes), 2) & c.all_classes
    c.egress_isolated = 0
    assert 0 < _assert_same(c) < len(c.classes)
