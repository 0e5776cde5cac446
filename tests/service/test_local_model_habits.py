"""Local models' habits: each one through the real OpenAI SDK (openai-compatible provider) and `netreason analyze`.

The fake provider server answers as small local models do; every valid claim must survive, every invalid one
comes back `unparseable` with a one-line reason, and the repair round asks only about the invalid ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import cli
from tests.fakes.provider_server import RawText, answer

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "shop")

BROKEN = ('{"type": "dependency_broken", "from": "shop/api", "to": "payments/payments-api", "port": 8443, '
          '"protocol": "TCP"}')
WEB_TO_API = '{"type": "flow", "from": "shop/web", "to": "shop/api", "port": 8080, "protocol": "TCP", "allowed": true}'
DNS = '{"type": "dns_egress_missing", "workload": "payments/postgres"}'
ANSWER = '{"summary": "api cannot reach payments", "claims": [' + ", ".join((BROKEN, WEB_TO_API, DNS)) + "]}"
VALID_KEYS = [("dependency_broken", "shop/api"), ("flow", "shop/web"), ("dns_egress_missing", None)]


def analyze(srv, *args: str, exit_code: int = 0) -> dict:
    spec = f"openai-compatible:{srv.openai_base_url}#qwen2.5:7b"
    result = CliRunner().invoke(cli, ["analyze", EXAMPLE, "-o", "json", "--model", spec, "--prompt", "breakage",
                                      *args], catch_exceptions=False)
    assert result.exit_code == exit_code, result.output
    return json.loads(result.stdout)


def keys(doc: dict) -> list[tuple[str, str | None]]:
    return [(c["claim"].get("type"), c["claim"].get("from")) for c in doc["model"]["claims"]
            if c["verdict"] != "unparseable"]


HABITS = {
    "think-block": "<think>\nThe user wants {json}. Let me check {\"a\": 1} first.\n</think>\n" + ANSWER,
    "think-close-only": "Okay, let me reason about shop/api.\n</think>\n\n" + ANSWER,
    "code-fence": "```json\n" + ANSWER + "\n```",
    "prose-around": "Sure! Here is the analysis you asked for:\n\n" + ANSWER + "\n\nLet me know if you need more.",
    "trailing-commas": ANSWER.replace('"TCP"}', '"TCP",}').replace("]}", ",]}"),
    "lower-case-protocol": ANSWER.replace('"TCP"', '"tcp"'),
    "case-of-type-and-keys": ANSWER.replace('"type": "flow"',
                                            '"Type": "Flow"').replace('"from": "shop/web"', '"From": "shop/web"'),
    "numeric-strings": ANSWER.replace('"port": 8443', '"port": "8443"').replace('"allowed": true', '"allowed": "true"'),
    "python-literals": ANSWER.replace("true", "True"),
}


@pytest.mark.parametrize("habit", sorted(HABITS), ids=sorted(HABITS))
def test_each_habit_keeps_every_valid_claim_without_a_repair_round(fake_provider, habit):
    fake_provider.enqueue(RawText(HABITS[habit]))
    doc = analyze(fake_provider)
    assert doc["model"]["error"] is None, doc["model"]["error"]
    assert keys(doc) == VALID_KEYS
    assert [c["verdict"] for c in doc["model"]["claims"]] == ["confirmed", "confirmed", "confirmed"]
    assert len(fake_provider.requests) == 1 and doc["model"]["usage"]["repaired"] is False


def test_one_claim_of_an_unknown_type_costs_only_that_claim_and_the_repair_asks_only_about_it(fake_provider):
    bad = '{"type": "path", "from": "shop/web", "to": "shop/api"}'
    text = "<think>hmm</think>" + ANSWER.replace("[", "[" + bad + ", ", 1)
    fake_provider.enqueue(RawText(text), answer({"summary": "", "claims": []}))
    doc = analyze(fake_provider)
    assert keys(doc) == VALID_KEYS
    [rejected] = [c for c in doc["model"]["claims"] if c["verdict"] == "unparseable"]
    assert rejected["claim"] == {"type": "path", "from": "shop/web", "to": "shop/api"}
    assert rejected["explanation"].startswith("claims[0]: unknown claim type 'path' (expected one of flow,")
    assert "\n" not in rejected["explanation"] and "pydantic" not in json.dumps(doc)
    assert doc["totals"]["unparseable"] == 1 and doc["totals"]["confirmed"] == 3
    repair = fake_provider.requests[1].body["messages"][-1]["content"]
    assert "unknown claim type 'path'" in repair and '"type": "path"' in repair
    assert "8443" not in repair  # the valid claims are not asked about again


def test_the_repair_round_adds_the_corrected_claims(fake_provider):
    bad = '{"type": "flow", "from": "shop/web", "to": "shop/api", "port": 99999, "allowed": false}'
    fake_provider.enqueue(RawText(ANSWER.replace("]", ", " + bad + "]")),
                          RawText('{"summary": "", "claims": [{"type": "flow", "from": "shop/web", "to": "shop/api", '
                                  '"port": 8080, "allowed": true, "reason": "corrected port"},]}'))
    doc = analyze(fake_provider)
    assert [c["verdict"] for c in doc["model"]["claims"]] == ["confirmed"] * 4
    assert doc["model"]["usage"]["repaired"] is True and "unparseable" not in json.dumps(doc["model"]["claims"])
    assert "less than or equal to 65535" in fake_provider.requests[1].body["messages"][-1]["content"]


def test_a_claim_still_invalid_after_repair_is_unparseable_with_a_one_line_reason(fake_provider):
    bad = '{"type": "flow", "from": "web", "to": "shop/api", "port": 8080, "allowed": "maybe"}'
    fake_provider.enqueue(RawText(ANSWER.replace("]", ", " + bad + "]")),
                          RawText('{"summary": "", "claims": [' + bad + "]}"))
    doc = analyze(fake_provider)
    assert keys(doc) == VALID_KEYS
    [rejected] = [c for c in doc["model"]["claims"] if c["verdict"] == "unparseable"]
    reason = rejected["explanation"]
    assert reason == ("after repair: claims[0]: from: expected 'namespace/name', got 'web'; "
                      "allowed: Input should be a valid boolean, unable to interpret input (got 'maybe')")
    assert "errors.pydantic.dev" not in json.dumps(doc) and "\n" not in reason


def test_text_with_no_answer_at_all_fails_with_one_line_and_the_ground_truth_stands(fake_provider):
    fake_provider.enqueue(RawText("<think>I am not sure.</think> I cannot help with that."),
                          RawText('{"summary": "still nothing"}'))
    doc = analyze(fake_provider, exit_code=3)  # the model was asked and failed
    assert doc["model"]["error"] == ("openai-compatible: the answer needs a 'claims' list (no 'claims' key) after one "
                                     "repair round")
    assert doc["ground_truth"]["dependencies_broken"]
    assert "I am not sure" not in fake_provider.requests[1].body["messages"][-1]["content"]
