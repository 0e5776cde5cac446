"""`graph_json` (the analysis document's `ground_truth.graph`) lists exactly what `Connectivity.flows()` yields.

The graph walks the class pairs itself so that it turns a pair's ports into text only while edges are
still listed; the edges, their order, the totals, the self flows and the namespace-pair counts must be
those of the workload pairs `flows()` gives, whatever the edge limit.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

import verifier
from tests.generated import generated_bundle
from service.traffic_graph import graph_json, ports_text
from service.truth import Truth, compute_truth
from tests.verifier.test_explain_selecting import BUNDLES


def _reference(truth: Truth, max_edges: int) -> dict[str, Any]:
    ns_of = {w.id: w.namespace for w in truth.bundle.workloads}
    edges, pairs, self_flows, total = [], Counter[tuple[str, str]](), [], 0
    for src, dst, ports in truth.conn.flows():
        if src == dst:
            self_flows.append(src)
            continue
        total += 1
        pairs[(ns_of[src], ns_of[dst])] += 1
        if len(edges) < max_edges:
            edges.append({"from": src, "to": dst, "ports": ports_text(ports)})
    return {"edges": edges, "edges_total": total, "truncated": total > len(edges), "self_flows": sorted(self_flows),
            "namespace_pairs": [{"from": a, "to": b, "flows": n} for (a, b), n in sorted(pairs.items())]}


def _compare(truth: Truth) -> int:
    total = 0
    for limit in (0, 1, 7, 5000):
        got = graph_json(truth, max_edges=limit)
        want = _reference(truth, limit)
        assert {k: got[k] for k in want} == want, limit
        total = want["edges_total"]
    return total


@pytest.mark.parametrize("name", sorted(BUNDLES))
def test_the_graph_lists_the_flows(name: str) -> None:
    _compare(compute_truth(verifier.load_bundle([str(p) for p in BUNDLES[name]]), fixes=False))


def test_a_generated_cluster_past_the_edge_limit() -> None:
    truth = compute_truth(generated_bundle(), fixes=False)
    assert _compare(truth) > 7  # the small limits truncated the edges
