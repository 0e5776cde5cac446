"""`Explainer.selecting` from the compiled policy targets is the selector match it replaces.

Lint and analyze hand the explainer the compiled bundle, so the policies isolating a workload come
from the classes each policy selects (one pass) instead of a selector match per policy per workload.
Both must name the same policies in the same order, for every workload and direction.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import verifier
from tests.generated import generated_bundle
from verifier.engine.compile import compile_bundle
from verifier.engine.explain import Explainer

ROOT = Path(__file__).resolve().parents[2]
FINDINGS = ROOT / "tests" / "verifier" / "data" / "findings"
CORPUS = ROOT.parent / "shared" / "corpus"

BUNDLES = {
    "shop": [ROOT / "examples" / "shop"],
    **{p.stem: [FINDINGS / "_common.yaml", p] for p in sorted(FINDINGS.glob("*.yaml")) if not p.stem.startswith("_")},
    **({d.name: [d] for d in sorted(CORPUS.iterdir()) if d.is_dir()} if CORPUS.is_dir() else {}),
}


@pytest.mark.parametrize("name", sorted(BUNDLES))
def test_compiled_targets_name_the_policies_a_selector_match_names(name: str) -> None:
    bundle = verifier.load_bundle([str(p) for p in BUNDLES[name]])
    matched, compiled = Explainer(bundle), Explainer(bundle, compile_bundle(bundle))
    for w in bundle.workloads:
        for direction in ("ingress", "egress"):
            assert ([p.id for p in compiled.selecting(w, direction)]
                    == [p.id for p in matched.selecting(w, direction)]), (w.id, direction)


def test_a_generated_cluster_of_many_namespaces() -> None:
    bundle = generated_bundle()
    assert bundle.policies and bundle.workloads
    matched, compiled = Explainer(bundle), Explainer(bundle, compile_bundle(bundle))
    selected = 0
    for w in bundle.workloads:
        for direction in ("ingress", "egress"):
            want = [p.id for p in matched.selecting(w, direction)]
            assert [p.id for p in compiled.selecting(w, direction)] == want, (w.id, direction)
            selected += len(want)
    assert selected  # the comparison covered policies that do select something


def test_a_compiled_bundle_of_another_bundle_is_not_used() -> None:
    shop = verifier.load_bundle([str(ROOT / "examples" / "shop")])
    other = verifier.load_bundle([str(FINDINGS / "_common.yaml")])
    explainer = Explainer(shop, compile_bundle(other))
    w = shop.workloads[0]
    assert explainer.selecting(w, "ingress") == Explainer(shop).selecting(w, "ingress")


@pytest.mark.parametrize("mask", [0, 1, 2, 0b1011000, 1 << 20_000, (1 << 20_000) | (1 << 19_998) | 8, (1 << 300) - 1],
                         ids=lambda m: f"{m.bit_count()}-of-{m.bit_length()}")
def test_the_bits_of_a_mask_from_its_lowest_set_bit(mask: int) -> None:
    """`iter_bits`' shortcuts (one bit; no digits below the lowest set bit) give what reading every digit gives."""
    from verifier.sets.selectors import iter_bits

    assert iter_bits(mask) == [i for i in range(mask.bit_length()) if mask >> i & 1]


@pytest.mark.parametrize("mask", [1, 2, 0b1011000, 1 << 20_000, (1 << 20_000) | (1 << 19_998), (1 << 300) - 1],
                         ids=lambda m: f"{m.bit_count()}-of-{m.bit_length()}")
def test_the_lowest_bit_of_a_mask(mask: int) -> None:
    from verifier.sets.selectors import iter_bits, lowest_bit

    assert lowest_bit(mask) == iter_bits(mask)[0] == next(i for i in range(mask.bit_length()) if mask >> i & 1)
