"""Property tests: selector and port-set algebra, and the two evaluators agreeing."""

from __future__ import annotations

import itertools
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

import verifier
from verifier.model.bundle import PROTOCOLS
from verifier.sets.ports import PortAtoms, PortSet
from verifier.sets.selectors import LabelIndex, iter_bits, matches

from .strategies import PORTS, admin_bundles, bundles, labels, selectors

# Ports small enough to compare against plain Python sets.
small_ranges = st.lists(st.tuples(st.integers(1, 40), st.integers(0, 8)).map(lambda t: (t[0], t[0] + t[1])), max_size=4)
protocol_ranges = st.fixed_dictionaries({p: small_ranges for p in PROTOCOLS})


def as_set(ps: PortSet) -> set[tuple[str, int]]:
    return {(proto, n) for proto, rs in ps.ranges for lo, hi in rs for n in range(lo, hi + 1)}


def set_of(spec: dict) -> set[tuple[str, int]]:
    return {(proto, n) for proto, rs in spec.items() for lo, hi in rs for n in range(lo, hi + 1)}


@given(st.lists(labels, max_size=8), selectors)
def test_label_index_agrees_with_one_at_a_time_matching(label_sets, selector):
    index = LabelIndex(label_sets)
    chosen = set(iter_bits(index.select(selector)))
    assert chosen == {i for i, ls in enumerate(label_sets) if matches(selector, ls)}


@given(protocol_ranges, protocol_ranges)
def test_port_set_algebra_matches_set_algebra(a, b):
    pa, pb = PortSet.of(a), PortSet.of(b)
    sa, sb = set_of(a), set_of(b)
    assert as_set(pa) == sa
    assert as_set(pa.union(pb)) == sa | sb
    assert as_set(pa.intersection(pb)) == sa & sb
    assert as_set(pa.difference(pb)) == sa - sb
    assert pa.count() == len(sa)


@given(protocol_ranges, st.sampled_from(PROTOCOLS), st.integers(1, 50))
def test_port_set_contains_agrees_with_membership(a, proto, port):
    assert PortSet.of(a).contains(proto, port) == ((proto, port) in set_of(a))


@given(protocol_ranges, protocol_ranges)
def test_port_set_ranges_are_sorted_disjoint_and_not_adjacent(a, b):
    for _, rs in PortSet.of(a).union(PortSet.of(b)).ranges:
        for (lo1, hi1), (lo2, _) in itertools.pairwise(rs):
            assert lo1 <= hi1 < lo2 - 1


@given(protocol_ranges)
def test_port_atoms_represent_every_cut_range_exactly(cuts):
    atoms = PortAtoms(cuts)
    for proto, rs in cuts.items():
        for lo, hi in rs:
            back = atoms.to_portset(atoms.mask(proto, lo, hi))
            assert back == PortSet.of({proto: [(lo, hi)]})
    assert atoms.to_portset(atoms.all) == PortSet.all_ports()


@given(protocol_ranges, st.lists(st.one_of(st.integers(0, 7), st.integers(0, 2**30)), max_size=8), st.integers(0, 3))
def test_port_atoms_to_portset_is_the_atoms_of_the_mask_however_many_are_kept(cuts, masks, kept):
    """`to_portset` keeps one port set per mask, up to `PORTSETS_KEPT`: asked again, or past the bound, it
    gives the union of the mask's atoms."""
    atoms = PortAtoms(cuts)
    with patch("verifier.sets.ports.PORTSETS_KEPT", kept):
        for mask in [m & atoms.all for m in masks] * 2:
            want: dict[str, list[tuple[int, int]]] = {}
            for i in iter_bits(mask):
                proto, lo, hi = atoms.atoms[i]
                want.setdefault(proto, []).append((lo, hi))
            assert atoms.to_portset(mask) == PortSet.of(want)
    assert len(atoms._portsets) <= kept


@settings(max_examples=300, deadline=None)
@given(bundles())
def test_all_pairs_engine_agrees_with_per_pair_reference(bundle):
    assert_engines_agree(bundle)


def assert_engines_agree(bundle) -> None:
    """Every pair, protocol and probe port: the compiled engine's verdict is the reference's."""
    conn = verifier.analyze(bundle)
    explainer = verifier.Explainer(bundle)
    ids = [w.id for w in bundle.workloads]
    for src in ids:
        for dst in ids:
            ports = conn.allowed_ports(src, dst)
            for proto in ("TCP", "UDP"):
                for port in [*PORTS, 1, 54, 8081, 65535]:
                    verdict = explainer.check(src, dst, port, proto)
                    assert conn.is_allowed(src, dst, port, proto) == verdict.allowed, verdict.explain()
                    assert ports.contains(proto, port) == verdict.allowed


@settings(max_examples=100, deadline=None)
@given(bundles())
def test_flows_listing_matches_pair_queries(bundle):
    conn = verifier.analyze(bundle)
    listed = {(s, d): p for s, d, p in conn.flows()}
    for w in bundle.workloads:
        for v in bundle.workloads:
            ports = conn.allowed_ports(w.id, v.id)
            assert listed.get((w.id, v.id), PortSet()) == ports


@settings(max_examples=150, deadline=None)
@given(bundles())
def test_provenance_names_the_same_rules_as_the_per_pair_reference(bundle):
    assert_provenance_matches(bundle)


def _side_rules(side) -> tuple[str, ...]:
    """The rules the reference names for an allowed side: the admin rule that decided it, else NetworkPolicy's."""
    if side.admin is not None:
        return (str(side.admin),)
    return tuple(str(r) for r in side.allowed_by) or ("unrestricted",)


def assert_provenance_matches(bundle) -> None:
    """Every allowed range of every flow: `provenance` names the rules the reference names."""
    conn = verifier.analyze(bundle)
    explainer = verifier.Explainer(bundle)
    for src, dst, _ in conn.flows():
        for ports, egress, ingress in conn.provenance(src, dst):
            for proto, rs in ports.ranges:
                for lo, _hi in rs:
                    v = explainer.check(src, dst, lo, proto)
                    assert v.allowed
                    assert (set(egress), set(ingress)) == (set(_side_rules(v.egress)), set(_side_rules(v.ingress)))


@settings(max_examples=300, deadline=None)
@given(admin_bundles())
def test_engines_agree_with_admin_and_baseline_admin_network_policies(bundle):
    assert_engines_agree(bundle)


@settings(max_examples=150, deadline=None)
@given(admin_bundles())
def test_provenance_names_the_deciding_admin_rules_as_the_reference_does(bundle):
    assert_provenance_matches(bundle)


def assert_sources_to_is_is_allowed_from_every_source(bundle) -> None:
    """`Connectivity.sources_to` (read from the grants toward one class, without the entries when lazy) names
    the classes `is_allowed` allows, for every destination, port and protocol; a lazy connectivity's entries,
    once asked, are the eager ones."""
    from verifier.engine.compile import compile_bundle
    from verifier.engine.connectivity import compute_connectivity

    compiled = compile_bundle(bundle)
    eager, lazy = compute_connectivity(compiled), compute_connectivity(compiled, lazy=True)
    for w in bundle.workloads:
        for port, proto in itertools.product(PORTS, PROTOCOLS):
            want = {compiled.class_of[i] for i, s in enumerate(bundle.workloads)
                    if eager.is_allowed(s.id, w.id, port, proto)}
            got = lazy.sources_to(w.id, port, proto)
            assert {c for c in iter_bits(got) if compiled.classes[c].members} == want
    if compiled.admin is None:
        assert "egress" not in vars(lazy)  # `sources_to` read the grants alone
    assert (lazy.egress, lazy.ingress, lazy.reachable) == (eager.egress, eager.ingress, eager.reachable)


@settings(max_examples=200, deadline=None)
@given(bundles())
def test_sources_to_agrees_with_is_allowed(bundle):
    assert_sources_to_is_is_allowed_from_every_source(bundle)


@settings(max_examples=100, deadline=None)
@given(admin_bundles())
def test_sources_to_agrees_with_is_allowed_under_admin_policies(bundle):
    assert_sources_to_is_is_allowed_from_every_source(bundle)
