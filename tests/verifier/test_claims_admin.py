"""Claim checking and the brief with AdminNetworkPolicy / BaselineAdminNetworkPolicy in the bundle."""

from __future__ import annotations

from pathlib import Path

import verifier
from service.brief import render_brief
from verifier.claims.check import ClaimIndex, check_answer
from verifier.claims.schema import ModelAnswer

APP = (Path(__file__).parents[1] / "service" / "test_admin_cli.py").read_text().split('APP = """')[1].split('"""')[0]


def truth() -> ClaimIndex:
    bundle = verifier.load_text(APP)
    return ClaimIndex(bundle, verifier.analyze(bundle))


def test_a_flow_claim_that_ignores_the_anp_deny_is_contradicted() -> None:
    answer = ModelAnswer.model_validate({"summary": "", "claims": [
        {"type": "flow", "from": "ads/tracker", "to": "shop/api", "port": 8080, "protocol": "TCP", "allowed": True},
        {"type": "flow", "from": "ads/tracker", "to": "shop/api", "port": 8080, "protocol": "TCP", "allowed": False},
    ]})
    verdicts = [c.verdict for c in check_answer(answer, truth()).checks]
    assert verdicts == ["contradicted", "confirmed"]


def test_policy_selects_claims_about_admin_policies_are_checked_against_their_subject() -> None:
    answer = ModelAnswer.model_validate({"summary": "", "claims": [
        {"type": "policy_selects", "policy": "AdminNetworkPolicy/tenant-isolation", "workloads": ["shop/api"]},
        {"type": "policy_selects", "policy": "BaselineAdminNetworkPolicy/default", "workloads": ["shop/api"]},
    ]})
    checks = check_answer(answer, truth()).checks
    assert [c.verdict for c in checks] == ["confirmed", "contradicted"]
    assert checks[1].truth == {"workloads": ["ads/tracker", "shop/api"]}


def test_the_brief_shows_admin_policies_with_their_order_and_only_when_present() -> None:
    brief = render_brief(verifier.load_text(APP))
    assert "admin policies:" in brief and "order: ANPs by priority" in brief
    assert ("AdminNetworkPolicy/tenant-isolation priority 20: subject {ns tenant=shop}; in[0] 'no-ads': Deny from {ns "
            "tenant=ads}") in brief
    assert "BaselineAdminNetworkPolicy/default: subject {ns *}" in brief
    plain = APP.split("---\napiVersion: policy.networking.k8s.io")[0]
    assert "admin policies" not in render_brief(verifier.load_text(plain))
