"""Tolerant answer parsing: JSON found through a model's wrapping, claims validated one at a time."""

from __future__ import annotations

import pytest

from verifier.claims.answers import AnswerShapeError, extract_json_object, parse_answer


def test_commas_and_braces_inside_strings_are_left_alone():
    text = 'Note {x}: {"summary": "a, }b] True,", "claims": [],}'
    assert extract_json_object(text) == {"summary": "a, }b] True,", "claims": []}


def test_an_object_holding_claims_wins_over_an_example_in_the_prose():
    text = 'For example {"port": 80}. Answer: {"summary": "s", "claims": []}'
    assert extract_json_object(text) == {"summary": "s", "claims": []}


def test_unclosed_json_is_no_object():
    assert extract_json_object('{"summary": "cut off", "claims": [') is None


def test_valid_claims_are_kept_and_each_invalid_one_gets_a_reason():
    parsed = parse_answer({"Summary": "s", "claims": [
        {"type": "DNS-egress-missing", "workload": " a/b "},
        {"type": "flow", "from": "a/b", "to": "a/c", "port": "80", "protocol": "udp", "allowed": "no"},
        "not a claim",
        {"type": "flow", "from": "a/b", "to": "a/c", "port": 80},
    ]})
    assert [c.type for c in parsed.answer.claims] == ["dns_egress_missing", "flow"]
    assert parsed.answer.claims[1].port == 80 and parsed.answer.claims[1].protocol == "UDP"
    assert parsed.answer.claims[1].allowed is False and parsed.answer.summary == "s"
    assert [r.reason for r in parsed.rejected] == ["claims[2]: a claim must be an object, got a string",
                                                   "claims[3]: allowed: Field required"]


@pytest.mark.parametrize(("data", "message"), [
    ([], "the answer is not a JSON object (got a list)"),
    ({"summary": "s"}, "the answer needs a 'claims' list (no 'claims' key)"),
    ({"claims": "none"}, "the answer needs a 'claims' list ('claims' is a string)"),
])
def test_an_answer_without_a_claims_list_is_refused_in_one_line(data, message):
    with pytest.raises(AnswerShapeError, match=None) as info:
        parse_answer(data)
    assert str(info.value) == message
