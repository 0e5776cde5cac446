"""Plain-language reachability questions, answered by the verifier."""

from __future__ import annotations

from pathlib import Path

import pytest

import verifier
from service.questions import AmbiguousName, Question, answer, parse_question, resolve
from verifier.model.errors import InputError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shop"


@pytest.fixture(scope="module")
def shop():
    return verifier.load_bundle([str(EXAMPLE)])


@pytest.mark.parametrize("text, expected", [
    ("can api reach postgres:5432?", Question("api", "postgres", 5432)),
    ("Can shop/web talk to shop/api on port 8080", Question("shop/web", "shop/api", 8080)),
    ("prod can api connect to payments-api.payments:8443/tcp ?", Question("api", "payments-api.payments", 8443)),
    ("can web reach coredns on 53 udp", Question("web", "coredns", 53, "UDP")),
    ("can web reach api", Question("web", "api", None)),
])
def test_questions_parse(text, expected):
    assert parse_question(text) == expected


def test_non_questions_are_not_parsed():
    assert parse_question("what does the payments namespace allow?") is None


def test_names_resolve_by_id_short_name_and_service(shop):
    assert [w.id for w in resolve(shop, "shop/api")] == ["shop/api"]
    assert [w.id for w in resolve(shop, "postgres")] == ["payments/postgres"]
    assert [w.id for w in resolve(shop, "kube-dns")] == ["kube-system/coredns"]  # through the Service
    assert [w.id for w in resolve(shop, "payments-api.payments")] == ["payments/payments-api"]


def test_unknown_name_suggests_close_ones(shop):
    with pytest.raises(InputError, match=r"did you mean.*postgres"):
        resolve(shop, "postgre")


def test_ambiguous_short_name_asks_for_the_namespace():
    b = verifier.load_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: a}\nspec: {containers: [{name: c, image: "
        "i}]}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: b}\nspec: {containers: [{name: c, image: i}]}\n"
    )
    with pytest.raises(AmbiguousName, match="a/api, b/api"):
        resolve(b, "api")


def test_answer_without_port_checks_every_declared_port(shop):
    verdicts = answer(shop, Question("web", "coredns", None, "UDP"))
    assert [(v.port, v.protocol, v.allowed) for v in verdicts] == [(53, "UDP", True)]
    [denied] = answer(shop, parse_question("can api reach payments-api:8443"))
    assert not denied.allowed and "team=shop" in denied.explain()
