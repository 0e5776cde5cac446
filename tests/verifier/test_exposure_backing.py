"""Exposure's Services per workload (`exposure_report._backing`) are those of checking every Service's selector
against every workload.

A namespace with few workloads has each one checked directly, a larger one is indexed by label first
(`DIRECT_CHECK`): both must find every selecting Service, in bundle order, and nothing else.
"""

from __future__ import annotations

from unittest.mock import patch

from hypothesis import given
from hypothesis import strategies as st

from verifier.engine.exposure_report import _backing, _selects
from verifier.model.bundle import Bundle, Service, Workload

NAMESPACES = ("a", "b")
label_sets = st.dictionaries(st.sampled_from(("app", "tier", "team")), st.sampled_from(("x", "y")), max_size=3)
selectors = st.one_of(st.none(), label_sets)


@st.composite
def bundles(draw: st.DrawFn) -> Bundle:
    workloads = tuple(Workload("Deployment", draw(st.sampled_from(NAMESPACES)), f"w{i}", draw(label_sets))
                      for i in range(draw(st.integers(0, 14))))
    services = tuple(Service(draw(st.sampled_from(NAMESPACES)), f"s{i}", draw(selectors))
                     for i in range(draw(st.integers(0, 8))))
    return Bundle({}, workloads, services, ())


def _every_pair(bundle: Bundle) -> dict[str, list[Service]]:
    out: dict[str, list[Service]] = {}
    for w in bundle.workloads:
        chosen = [svc for svc in bundle.services if _selects(svc, w)]
        if chosen:
            out[w.id] = chosen
    return out


@given(bundles(), st.sampled_from((0, 1, 3, 8, 100)))
def test_the_services_of_each_workload_are_those_of_checking_every_pair(bundle: Bundle, direct: int) -> None:
    with patch("verifier.engine.exposure_report.DIRECT_CHECK", direct):
        got = _backing(bundle)
    assert got == _every_pair(bundle)
    assert all(lst == [s for s in bundle.services if s in lst] for lst in got.values())  # bundle order
