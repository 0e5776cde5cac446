"""`Explainer.side_explanation` is the text of `side(...).explain()`, with only the closest miss written.

Lint's one-sided rules explain thousands of denied sides and print one miss of each; the explainer
counts every rule's reasons and writes those of the closest only. Both must give the same text for
every pair, port and direction: allowed, not isolated, no rules, ties between misses, ipBlocks,
hostNetwork and named ports alike.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import verifier
from tests.generated import generated_bundle
from verifier.engine.compile import compile_bundle
from verifier.engine.explain import Explainer
from verifier.model.bundle import Bundle

from .strategies import NAMESPACES, bundles
from .test_explain_selecting import BUNDLES


def _ports(bundle: Bundle) -> list[tuple[int, str]]:
    """Every port a workload serves or a policy names, plus DNS and one nobody names."""
    found = {(53, "UDP"), (53, "TCP"), (1, "TCP"), (9, "SCTP")}
    for w in bundle.workloads:
        found.update((cp.port, cp.protocol) for cp in w.ports)
    for p in bundle.policies:
        for rule in (*p.ingress, *p.egress):
            found.update((pp.port, pp.protocol) for pp in rule.ports or () if isinstance(pp.port, int))
    return sorted(found)


def _compare(bundle: Bundle, max_pairs: int = 4000) -> dict[str, int]:
    """Compare both texts over workload pairs, ports and directions; count the kinds of verdict seen."""
    seen = {"denied": 0, "tied": 0, "allowed": 0}
    ports = _ports(bundle)
    pairs = list(itertools.product(bundle.workloads, repeat=2))[:max_pairs]
    for explainer in (Explainer(bundle), Explainer(bundle, compile_bundle(bundle))):
        for (s, d), (port, proto) in itertools.product(pairs, ports[:12]):
            for direction in ("ingress", "egress"):
                verdict = explainer.side(s, d, port, proto, direction)  # type: ignore[arg-type]
                want = verdict.explain()
                got = explainer.side_explanation(s, d, port, proto, direction)  # type: ignore[arg-type]
                assert got == want, (s.id, d.id, port, proto, direction)
                seen["allowed"] += verdict.allowed
                seen["denied"] += bool(verdict.misses) and not verdict.allowed
                counts = sorted(len(m.reasons) for m in verdict.misses)
                seen["tied"] += len(counts) > 1 and counts[0] == counts[1]
    return seen


@pytest.mark.parametrize("name", sorted(BUNDLES))
def test_the_closest_miss_alone_gives_the_full_explanation(name: str) -> None:
    _compare(verifier.load_bundle([str(p) for p in BUNDLES[name]]))


def test_a_generated_cluster_covers_denials_and_ties() -> None:
    seen = _compare(generated_bundle(), max_pairs=1500)
    assert seen["denied"] and seen["tied"] and seen["allowed"], seen  # the comparison reached every kind


def test_the_finding_cases_cover_denials_and_ties_too() -> None:
    totals = {"denied": 0, "tied": 0, "allowed": 0}
    for name in sorted(BUNDLES):
        if (Path(BUNDLES[name][-1]).parent.name) == "findings":
            seen = _compare(verifier.load_bundle([str(p) for p in BUNDLES[name]]), max_pairs=400)
            totals = {k: totals[k] + seen[k] for k in totals}
    assert all(totals.values()), totals


@settings(max_examples=300, deadline=None)
@given(bundles(), st.sampled_from([None, *NAMESPACES]))
def test_generated_bundles_give_the_full_explanation(bundle: Bundle, unlisted: str | None) -> None:
    """Named ports, ipBlocks, hostNetwork peers, selectors of every operator, and (`unlisted`) workloads in a
    namespace the bundle does not list: the counter over compiled classes counts as the reasons do."""
    if unlisted is not None:
        bundle = dataclasses.replace(bundle, namespaces={n: ns for n, ns in bundle.namespaces.items() if n != unlisted})
    _compare(bundle)
