"""Claim checking (`verifier.claims.check`): every claim type confirmed, contradicted or unverifiable, and what was
missed.

One small app, written out below: `shop/web` talks to `shop/api` through its Service (port 80 -> targetPort
8080), `shop/api` needs `payments/db` on 5432 but the db's policy admits namespaces labelled `team=shop`,
which `shop` is not (a broken dependency). `shop/web`'s egress policy allows only `shop/api`, so web lost
DNS and cannot reach outside addresses; `shop/api`'s egress is unrestricted. `shop/cache` serves UDP/11211
only and nothing selects it.
"""

from __future__ import annotations

from typing import Any

import pytest

import verifier
from verifier.claims.answers import RejectedClaim
from verifier.claims.check import MAX_REJECTED_CHARS, ClaimReport, ClaimIndex, check_answer
from verifier.claims.schema import ModelAnswer

APP = """
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: payments}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system}
spec:
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec: {containers: [{name: c, image: i, ports: [{containerPort: 53, protocol: UDP}, {containerPort: 53}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: i, ports: [{containerPort: 3000}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: c, image: i, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cache, namespace: shop}
spec:
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec: {containers: [{name: c, image: i, ports: [{containerPort: 11211, protocol: UDP}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: payments}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: i, ports: [{containerPort: 5432}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: payments}
spec: {selector: {app: db}, ports: [{port: 5432}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 8080}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-egress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress: [{to: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 8080}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-shop, namespace: payments}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: shop}}}], ports: [{port: 5432}]}]
"""

DEPS = [
    {"from": "shop/web", "to": "shop/api", "port": 80},
    {"from": "shop/api", "to": "payments/db", "port": 5432},
]


@pytest.fixture(scope="module")
def truth() -> ClaimIndex:
    bundle = verifier.load_text(APP)
    conn = verifier.analyze(bundle)
    deps, issues = verifier.gather_dependencies(bundle, DEPS, "deps.yaml", None, infer=False)
    assert not issues
    results = verifier.evaluate_dependencies(bundle, deps, conn=conn)
    return ClaimIndex(bundle, conn, results, verifier.lint(bundle, results, conn))


def check(truth: ClaimIndex, *claims: dict[str, Any], scope: tuple[str, ...] = (),
          rejected: tuple[RejectedClaim, ...] = ()) -> ClaimReport:
    answer = ModelAnswer.model_validate({"summary": "s", "claims": list(claims)})
    return check_answer(answer, truth, scope, rejected)


def verdicts(report: ClaimReport) -> list[str]:
    return [c.verdict for c in report.checks]


def flow(src: str, dst: str, port: int, allowed: bool, protocol: str = "TCP") -> dict[str, Any]:
    return {"type": "flow", "from": src, "to": dst, "port": port, "protocol": protocol, "allowed": allowed}


def broken(src: str, dst: str, port: int, protocol: str = "TCP") -> dict[str, Any]:
    return {"type": "dependency_broken", "from": src, "to": dst, "port": port, "protocol": protocol}


# --- flow ----------------------------------------------------------------------------------------------


def test_a_flow_claim_that_matches_the_policies_is_confirmed_and_says_which_rule_decides(truth) -> None:
    report = check(truth, flow("shop/web", "shop/api", 8080, True))
    (c,) = report.checks
    assert c.verdict == "confirmed" and c.truth is None
    assert "api-from-web" in c.explanation


def test_a_flow_claim_that_the_policies_deny_is_contradicted_with_the_truth(truth) -> None:
    (c,) = check(truth, flow("shop/api", "payments/db", 5432, True)).checks
    assert c.verdict == "contradicted" and c.truth == {"allowed": False}
    assert "db-from-shop" in c.explanation


def test_a_denied_flow_claimed_denied_is_confirmed(truth) -> None:
    assert verdicts(check(truth, flow("shop/cache", "shop/api", 8080, False))) == ["confirmed"]


def test_a_flow_claim_naming_a_missing_workload_is_unverifiable_with_the_closest_names(truth) -> None:
    (c,) = check(truth, flow("shop/webb", "shop/api", 8080, True)).checks
    assert c.verdict == "unverifiable"
    assert c.explanation == "no workload 'shop/webb' exists (did you mean shop/web or shop/cache?)"
    (d,) = check(truth, flow("shop/web", "nowhere/xyz", 8080, True)).checks
    assert d.verdict == "unverifiable" and d.explanation == "no workload 'nowhere/xyz' exists"


def test_a_flow_claim_on_a_port_no_container_serves_is_judged_by_policy_with_a_note(truth) -> None:
    # api-from-web admits TCP/8080 only: 9090 is denied by policy although nothing listens there either.
    (c,) = check(truth, flow("shop/web", "shop/api", 9090, False)).checks
    assert c.verdict == "confirmed"
    assert "shop/api serves no TCP/9090 (it serves TCP/8080)" in c.explanation


def test_the_protocol_of_a_flow_claim_matters(truth) -> None:
    # The api policy admits TCP/8080 (the default protocol); UDP/8080 from web is not admitted.
    assert verdicts(check(truth, flow("shop/web", "shop/api", 8080, True, "UDP"))) == ["contradicted"]
    # cache is selected by no policy: every port and protocol is open to it, UDP/11211 included.
    assert verdicts(check(truth, flow("shop/api", "shop/cache", 11211, True, "UDP"))) == ["confirmed"]


def test_a_flow_to_a_workload_that_declares_no_ports_gets_no_port_note(truth) -> None:
    (c,) = check(truth, flow("shop/web", "shop/cache", 11211, False, "UDP")).checks
    assert c.verdict == "confirmed"  # web's egress admits only shop/api
    assert "serves no" not in c.explanation  # cache serves UDP/11211: no note


# --- dependency_broken ----------------------------------------------------------------------------------


def test_a_broken_dependency_claim_is_confirmed_by_the_service_or_the_workload_name(truth) -> None:
    by_service = check(truth, broken("shop/api", "payments/db", 5432))
    assert verdicts(by_service) == ["confirmed"]
    assert "db-from-shop" in by_service.checks[0].explanation


def test_a_dependency_through_a_service_port_is_matched_by_service_port_or_target_port(truth) -> None:
    # web -> svc/api:80 maps to api:8080 and is allowed: claiming it broken is contradicted either way.
    assert verdicts(check(truth, broken("shop/web", "shop/api", 80))) == ["contradicted"]
    (c,) = check(truth, broken("shop/web", "shop/api", 8080)).checks
    assert c.verdict == "contradicted" and c.truth == {"broken": False}


def test_a_broken_claim_about_no_known_dependency_is_unverifiable(truth) -> None:
    (c,) = check(truth, broken("shop/web", "payments/db", 5432)).checks
    assert c.verdict == "unverifiable"
    assert c.explanation == "no known dependency shop/web -> payments/db:5432/TCP (declared, observed or inferred)"


def test_a_broken_claim_with_the_wrong_protocol_matches_no_dependency(truth) -> None:
    assert verdicts(check(truth, broken("shop/api", "payments/db", 5432, "UDP"))) == ["unverifiable"]


def test_a_broken_claim_naming_a_missing_destination_suggests_workloads_and_services(truth) -> None:
    (c,) = check(truth, broken("shop/api", "payments/dbb", 5432)).checks
    assert c.verdict == "unverifiable"
    assert c.explanation == "no workload or Service 'payments/dbb' exists (did you mean payments/db?)"
    (d,) = check(truth, broken("shop/apii", "payments/db", 5432)).checks
    assert d.verdict == "unverifiable" and d.explanation.endswith("(did you mean shop/api or shop/cache?)")


def test_a_broken_claim_about_an_ip_range_is_judged_by_the_sources_egress(truth) -> None:
    (web,) = check(truth, broken("shop/web", "203.0.113.0/24", 443)).checks
    assert web.verdict == "confirmed"  # web's egress admits only shop/api
    assert "no known dependency shop/web -> 203.0.113.0/24:443/TCP" in web.explanation
    (api,) = check(truth, broken("shop/api", "203.0.113.7/32", 443)).checks
    assert api.verdict == "contradicted" and api.truth == {"broken": False}  # api's egress is unrestricted


def test_a_range_written_with_host_bits_is_the_same_range(truth) -> None:
    assert verdicts(check(truth, broken("shop/web", "203.0.113.9/24", 443))) == ["confirmed"]
    assert verdicts(check(truth, broken("shop/api", "2001:db8::1/64", 443))) == ["contradicted"]


# --- dns_egress_missing --------------------------------------------------------------------------------


def test_dns_claims_are_confirmed_for_the_workload_that_lost_dns_and_contradicted_otherwise(truth) -> None:
    report = check(truth, {"type": "dns_egress_missing", "workload": "shop/web"},
                   {"type": "dns_egress_missing", "workload": "shop/api"})
    assert verdicts(report) == ["confirmed", "contradicted"]
    assert report.checks[1].truth == {"dns_egress_missing": False}
    assert report.checks[1].explanation == "shop/api can reach cluster DNS on UDP/53 and TCP/53"


def test_a_dns_claim_about_a_missing_workload_is_unverifiable(truth) -> None:
    assert verdicts(check(truth, {"type": "dns_egress_missing", "workload": "shop/ghost"})) == ["unverifiable"]


# --- finding ---------------------------------------------------------------------------------------------


def test_finding_claims_are_checked_against_the_lint_findings(truth) -> None:
    report = check(truth, {"type": "finding", "rule": "dns-egress-missing", "object": "shop/web"},
                   {"type": "finding", "rule": "dns-egress-missing", "object": "shop/api"},
                   {"type": "finding", "rule": "dns-egress-missing", "object": "shop/nope"})
    assert verdicts(report) == ["confirmed", "contradicted", "unverifiable"]
    contradicted = report.checks[1]
    assert contradicted.truth == {"findings_for_object": sorted(
        rule for rule, obj in truth.findings if obj == "shop/api")}
    assert report.checks[2].explanation == "no workload, policy or namespace 'shop/nope' exists"


def test_a_finding_claim_about_a_policy_is_checked_not_unverifiable(truth) -> None:
    (c,) = check(truth, {"type": "finding", "rule": "no-such-rule", "object": "payments/db-from-shop"}).checks
    assert c.verdict == "contradicted" and c.explanation.startswith("no no-such-rule finding for payments/db-from-shop")


# --- policy_selects ---------------------------------------------------------------------------------------


def test_policy_selects_claims_need_the_exact_set(truth) -> None:
    report = check(truth, {"type": "policy_selects", "policy": "shop/api-from-web", "workloads": ["shop/api"]},
                   {"type": "policy_selects", "policy": "shop/api-from-web", "workloads": ["shop/api", "shop/web"]},
                   {"type": "policy_selects", "policy": "shop/api-from-web", "workloads": []})
    assert verdicts(report) == ["confirmed", "contradicted", "contradicted"]
    assert report.checks[1].truth == {"workloads": ["shop/api"]}


def test_policy_selects_claims_about_missing_policies_or_workloads_are_unverifiable(truth) -> None:
    report = check(truth, {"type": "policy_selects", "policy": "shop/api-from-webb", "workloads": ["shop/api"]},
                   {"type": "policy_selects", "policy": "shop/api-from-web", "workloads": ["shop/ghost"]})
    assert verdicts(report) == ["unverifiable", "unverifiable"]
    assert report.checks[0].explanation == ("no NetworkPolicy 'shop/api-from-webb' exists "
                                            "(did you mean shop/api-from-web?)")
    assert report.checks[1].explanation == "no workload 'shop/ghost' exists"


# --- unparseable, missed, totals -----------------------------------------------------------------------


def test_rejected_claims_are_unparseable_and_long_ones_are_cut(truth) -> None:
    long = {"type": "flow", "note": "x" * (2 * MAX_REJECTED_CHARS)}
    report = check(truth, rejected=(RejectedClaim(0, {"type": "flow"}, "claims[0].from: missing"),
                                    RejectedClaim(1, "not even an object", "claims[1]: not an object"),
                                    RejectedClaim(2, long, "claims[2].note: extra field")))
    assert verdicts(report) == ["unparseable"] * 3
    assert report.checks[0].explanation == "claims[0].from: missing"
    assert report.checks[1].claim == {"value": "not even an object"}
    cut = report.checks[2].claim
    assert set(cut) == {"excerpt"} and len(cut["excerpt"]) == MAX_REJECTED_CHARS + 3


def test_missed_lists_in_scope_truth_no_claim_mentions(truth) -> None:
    report = check(truth, flow("shop/web", "shop/api", 8080, True),
                   scope=("flow", "dependency_broken", "dns_egress_missing"))
    missed = {(m.type, tuple(sorted(m.item.items()))) for m in report.missed}
    assert ("dependency_broken", (("from", "shop/api"), ("port", 5432), ("protocol", "TCP"),
                                  ("to", "payments/db"))) in missed
    assert ("dns_egress_missing", (("workload", "shop/web"),)) in missed
    assert ("flow", (("allowed", False), ("from", "shop/api"), ("port", 5432), ("protocol", "TCP"),
                     ("to", "payments/db"))) in missed
    # web -> api:8080 was claimed: it is not missed.
    assert not any(m.type == "flow" and m.item["from"] == "shop/web" for m in report.missed)


def test_claims_out_of_scope_produce_no_missed_items_and_a_mentioned_item_is_not_missed(truth) -> None:
    assert check(truth).missed == ()
    report = check(truth, broken("shop/api", "payments/db", 5432), scope=("dependency_broken",))
    assert report.missed == ()


def test_totals_and_accuracy_count_every_verdict(truth) -> None:
    report = check(truth, flow("shop/web", "shop/api", 8080, True), flow("shop/api", "payments/db", 5432, True),
                   flow("shop/x", "shop/api", 8080, True), rejected=(RejectedClaim(3, {}, "empty"),))
    assert report.totals == {"confirmed": 1, "contradicted": 1, "unverifiable": 1, "unparseable": 1,
                             "missed": 0, "claims": 4}
    assert report.accuracy == 0.25
    assert check(truth).accuracy is None
    doc = report.to_json()
    assert [c["verdict"] for c in doc["claims"]] == verdicts(report) and doc["accuracy"] == 0.25
