"""Fix snippets written as text are byte for byte what `yaml.safe_dump` writes, or left to it."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.review.rules import yamltext
from verifier.review.rules.context import to_yaml

TRICKY = ["53", "true", "no", "null", "~", "", "a: b", "#x", "- x", "*", "&a", "!x", "x #y", "1e3", "0o17", "0x1F",
          "2024-01-01", "app.kubernetes.io/name", "kube-system", "10.0.0.0/8", "café", "'q'", '"q"', "@x",
          "`x", "{x}", "[x]", "x,y", "%x", "?", ":", "yes", "On", "=", "<<", ".inf", "-1", "+1", "1_000", "x y"]

POLICY = {
    "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
    "metadata": {"name": "allow-web-to-api", "namespace": "shop"},
    "spec": {
        "podSelector": {"matchLabels": {"app": "api"}},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "web"}},
                               "podSelector": {"matchLabels": {"app": "web"}}}],
                     "ports": [{"protocol": "TCP", "port": 8080}, {"protocol": "UDP", "port": 53, "endPort": 60}]}],
    },
}

SHAPES: list[Any] = [
    POLICY,
    [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "payments"}}, "podSelector": {}}],
    {"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]}},
    {"egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}], "ports": []}]},
    {"x": None, "y": True, "z": 1.5, "w": [], "v": {}},
    {"labels": {s: s for s in TRICKY if s}},
    {"values": TRICKY},
    [{"key": s} for s in TRICKY],
]


@pytest.mark.parametrize("data", SHAPES, ids=range(len(SHAPES)))
def test_text_is_what_safe_dump_writes(data: Any) -> None:
    expected = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100)
    written = yamltext.dump(data)
    assert written is not None
    assert written == expected


@pytest.mark.parametrize("data", [
    {"long": "x" * 120}, {"multi": "a\nb"}, {"tab": "a\tb"}, [[1, 2]], {}, {"": "x"}, {"set": {1, 2}}, 5,
    # two scalars under 60 characters on one line past the width: the emitter breaks the value at its space
    {"metadata": {"labels": {"0" * 47 + " 0": "0" * 47 + " 0"}}}, {"k": [{"a" * 44: "b" * 54 + " 'q'"}]},
])
def test_shapes_it_does_not_lay_out_are_left_to_the_dumper(data: Any) -> None:
    assert yamltext.dump(data) is None
    if isinstance(data, (dict, list)) and not isinstance(data, set):
        try:
            expected = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100)
        except yaml.representer.RepresenterError:
            return
        assert to_yaml(data) == expected


def test_comment_heads_the_snippet() -> None:
    assert to_yaml({"a": "1"}, "line one\nline two") == "# line one\n# line two\na: '1'\n"


#: The characters of strings `yamltext` writes without asking libyaml (`_PLAIN`) and some it must not, and words
#: that need quotes.
PLAIN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-" + ":# '\"@,"
RESOLVED = ["yes", "No", "TRUE", "false", "On", "OFF", "null", "Null", "NULL", "y", "N", "nULL", "Yes", "true"]


@settings(max_examples=2000, deadline=None)
@given(st.one_of(st.text(PLAIN_CHARS, min_size=1, max_size=70), st.sampled_from(RESOLVED + TRICKY)))
def test_strings_written_without_libyaml_are_what_safe_dump_writes(value: str) -> None:
    data = {"metadata": {"name": value, "labels": {value: value}}, "values": [value]}
    expected = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100)
    written = yamltext.dump(data)
    assert written is None or written == expected
    # A name or label, the common case, is never left to the dumper. A string with a space may be: past the
    # 100th column the emitter breaks it there, which this writer does not do.
    if 0 < len(value) <= yamltext.MAX_SCALAR and value.isprintable() and value[0].isalpha() and " " not in value:
        assert written == expected
