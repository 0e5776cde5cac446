"""Block Kit rendering of chat replies: within Slack's limits, summarised with a link to the full report."""

from __future__ import annotations

import json

import pytest

from service.renderers.blocks import (
    MAX_BLOCKS,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    MAX_VERDICT_LINES,
    escape,
    fallback_text,
    fit,
    reply_blocks,
    section,
    sections,
)
from tests.fakes.slack_server import block_problems
from tests.service.chat_support import reply_doc, verdict

REPORT = "https://netreason.example/v1/analyses/abc?format=html"


def _texts(blocks):
    for b in blocks:
        if "text" in b:
            yield b["text"]["text"]
        for e in b.get("elements") or ():
            yield e["text"]


def test_a_short_reply_has_header_headline_verdicts_and_a_footer_link():
    blocks = reply_blocks(reply_doc([verdict(0, allowed=True, reason="egress: allowed by rule 0 of a")]))
    assert [b["type"] for b in blocks] == ["header", "section", "section", "context"]
    assert blocks[0]["text"]["text"].startswith("can the workloads of namespace ns")
    assert ":white_check_mark: `ns/src-0 → ns/db TCP/5432`" in blocks[2]["text"]["text"]
    assert f"<{REPORT}|full report>" in [e["text"] for e in blocks[-1]["elements"]]
    assert "snapshot prod@3" in blocks[-1]["elements"][0]["text"]


def test_hundreds_of_verdicts_are_summarised_with_a_link_to_the_full_report():
    long_reason = "ingress at ns/db: denied: selected by ns/default-deny; " + "needs app=api; " * 40
    reply = reply_doc([verdict(i, reason=long_reason) for i in range(400)])
    blocks = reply_blocks(reply)
    assert block_problems(blocks) == []
    assert len(blocks) <= MAX_BLOCKS
    body = "\n".join(_texts(blocks))
    assert body.count("`ns/src-") == MAX_VERDICT_LINES
    assert f"…and {400 - MAX_VERDICT_LINES} more connection(s): <{REPORT}|see the full report>" in body


def test_every_text_stays_within_its_limit_even_when_one_line_is_huge():
    reply = reply_doc([verdict(0, reason="x" * 10_000)])
    reply["interpreted_as"] = "can " + "a" * 400 + " reach b?"
    blocks = reply_blocks(reply)
    assert block_problems(blocks) == []
    assert len(blocks[0]["text"]["text"]) == MAX_HEADER_TEXT
    assert all(len(t) <= MAX_SECTION_TEXT for t in _texts(blocks))


def test_model_claims_show_their_verdicts_and_the_truth_when_contradicted():
    model = {"name": "openai:gpt-4.1-mini", "simulated": False, "summary": "Yes, api can reach db.", "error": None,
             "claims": [
                 {"claim": {"type": "flow", "from": "ns/api", "to": "ns/db", "port": 5432, "protocol": "TCP",
                            "allowed": True}, "verdict": "contradicted", "explanation": "denied: no rule matches"},
                 {"claim": {"type": "flow", "from": "ns/web", "to": "ns/api", "port": 80, "protocol": "TCP",
                            "allowed": True}, "verdict": "confirmed", "explanation": "allowed by rule 0"}]}
    blocks = reply_blocks(reply_doc([verdict(0)], model=model))
    body = "\n".join(_texts(blocks))
    assert "*Model* `openai:gpt-4.1-mini`" in body
    assert "> Yes, api can reach db." in body
    assert "❌ contradicted: ns/api can reach ns/db on TCP/5432 — denied: no rule matches" in body
    assert "✅ confirmed: ns/web can reach ns/api on TCP/80" in body
    assert {"type": "divider"} in blocks


def test_a_model_failure_is_stated_beside_the_verifier_answer():
    model = {"name": "openai:x", "simulated": False, "summary": None, "claims": [], "error": "timed out after 5s",
             "error_kind": "ProviderTimeout"}
    body = "\n".join(_texts(reply_blocks(reply_doc([verdict(0)], model=model))))
    assert "the model failed (ProviderTimeout): timed out after 5s" in body


def test_user_text_cannot_inject_slack_markup():
    reply = reply_doc([verdict(0, reason="<!channel> & <https://evil.example|click>")])
    body = "\n".join(_texts(reply_blocks(reply)))
    assert "<!channel>" not in body and "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in body
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_relative_report_links_are_shown_as_text_because_slack_cannot_follow_them():
    reply = reply_doc([verdict(0)], report_url="/v1/analyses/abc?format=html")
    footer = reply_blocks(reply)[-1]
    assert footer["elements"][-1]["text"] == "full report (`/v1/analyses/abc?format=html`)"


def test_sections_pack_lines_without_splitting_any():
    lines = [f"line {i} " + "y" * 990 for i in range(7)]
    packed = sections(lines)
    assert len(packed) == 3
    assert "\n".join(b["text"]["text"] for b in packed) == "\n".join(lines)


@pytest.mark.parametrize("count", [10, 49, 50, 120])
def test_fit_never_returns_more_than_fifty_blocks(count):
    blocks = fit([section(f"part {i}") for i in range(count)], {"type": "context", "elements": []}, REPORT)
    assert len(blocks) == min(count + 1, MAX_BLOCKS)
    assert blocks[-1]["type"] == "context"
    if count + 1 > MAX_BLOCKS:
        assert f"{count - (MAX_BLOCKS - 2)} more part(s)" in blocks[-2]["text"]["text"]


def test_fallback_text_is_the_question_and_the_headline():
    text = fallback_text(reply_doc([verdict(0), verdict(1, allowed=True)]))
    assert text == "can the workloads of namespace ns reach db on TCP/5432? Partly: 1 of 2 connections are allowed."
    json.dumps(reply_blocks(reply_doc([verdict(0)])))  # serialisable as sent
