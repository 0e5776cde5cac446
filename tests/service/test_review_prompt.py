"""What the review@1 prompt is told about a change."""

from __future__ import annotations

from service.api.review import prompt_variables

EMPTY = {"flows_added": [], "flows_removed": [], "findings_introduced": [], "findings_resolved": []}


def test_outside_egress_changes_reach_the_review_prompt_as_flows():
    diff = {**EMPTY,
            "flows_added": [{"from": "x/a", "to": "x/b", "protocol": "TCP", "ports": [[80, 81]]}],
            "external_added": [{"workload": "x/a", "cidr": "0.0.0.0/0", "protocol": "TCP", "ports": [[443, 443]]}],
            "external_removed": [{"workload": "x/c", "cidr": "10.0.0.0/8", "protocol": "UDP", "ports": [[53, 53]]}]}
    v = prompt_variables(diff)
    assert v["flows_added"].splitlines() == ["x/a -> x/b TCP/80-81", "x/a -> 0.0.0.0/0 (outside) TCP/443"]
    assert v["flows_removed"] == "x/c -> 10.0.0.0/8 (outside) UDP/53"
    assert v["findings_introduced"] == "none"


def test_diffs_without_external_keys_still_render():
    assert prompt_variables(EMPTY)["flows_added"] == "none"
