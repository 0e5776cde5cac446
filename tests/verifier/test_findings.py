"""Review findings: each rule fires on its mistake and is silent on the fixed manifest.

Every case in data/findings/ is `_common.yaml` (namespaces app and db, cluster DNS, default deny
everywhere, DNS allowed in db) plus `_cni_calico.yaml` (an enforcing plugin; left out of the
cni-* cases) plus the case file. `NAME.yaml` holds one mistake, `NAME.fixed.yaml` the repair,
which must produce no finding at all.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import verifier
from benchmarks.bench_broken_deps import write_case
from verifier.deps.dependencies import evaluate_dependencies
from verifier.review.findings import coverage, lint, lint_json, lint_report, sort_findings
from verifier.model.records import Dependency, Finding
from verifier.review import findings as findings_module
from verifier.review.fixes import GENERATORS
from verifier.review.rules.catalog import RULES_BY_ID
from verifier.review.rules.context import LintContext

DATA = Path(__file__).parent / "data" / "findings"
EXAMPLE = Path(__file__).parents[2] / "examples" / "shop"

# case -> the (rule, severity, object) findings it must produce, exactly.
CASES: dict[str, set[tuple[str, str, str]]] = {
    "dns-egress-missing": {("dns-egress-missing", "error", "app/web")},
    "dns-egress-missing-udp-only": {("dns-egress-missing", "warning", "app/web")},
    "ipblock-without-dns": {("dns-egress-missing", "error", "app/web"), ("ipblock-without-dns", "warning", "app/web")},
    "egress-without-ingress": {("egress-without-ingress", "warning", "app/web-to-db")},
    "ingress-without-egress": {("ingress-without-egress", "warning", "db/db-from-web")},
    "selector-too-broad-peer": {("selector-too-broad", "warning", "db/db-from-web"),
                                ("policy-selects-nothing", "warning", "db/db-from-web")},
    "selector-too-broad-policy": {("selector-too-broad", "warning", "tools/loki-from-grafana")},
    "selector-too-broad-dns": {("selector-too-broad", "info", "app/allow-dns")},
    "namespace-label-missing": {("namespace-label-missing", "warning", "db/db-from-web"),
                                ("egress-without-ingress", "warning", "app/web-to-db")},
    "policy-selects-nothing": {("policy-selects-nothing", "warning", "db/db-from-web"),
                               ("egress-without-ingress", "warning", "app/web-to-db")},
    "policy-selects-nothing-peer": {("policy-selects-nothing", "warning", "db/db-from-web"),
                                    ("egress-without-ingress", "warning", "app/web-to-db")},
    "no-default-deny": {("no-default-deny", "warning", "monitoring")},
    "legacy-isolation-annotation": {("legacy-isolation-annotation", "warning", "legacy")},
    "cni-not-enforcing": {("cni-not-enforcing", "warning", "kube-system/kube-flannel-ds")},
    "cni-unknown": {("cni-not-enforcing", "info", "kube-system")},
    "hostname-intent": {("hostname-intent", "warning", "app/web-to-stripe")},
    "hostname-intent-annotation": {("hostname-intent", "warning", "app/mailer")},
    "policy-not-evaluated": {("policy-not-evaluated", "warning", "monitoring/deny-all")},
    "anp-denies-networkpolicy-allow": {("anp-denies-networkpolicy-allow", "warning", "db/db-from-web"),
                                       ("egress-without-ingress", "warning", "app/web-to-db")},
    "anp-same-priority-overlap": {("anp-same-priority-overlap", "warning", "a-allow-app")},
}


def case_files(name: str) -> list[Path]:
    files = [DATA / "_common.yaml"]
    if not name.startswith("cni-"):
        files.append(DATA / "_cni_calico.yaml")
    return [*files, DATA / f"{name}.yaml"]


def lint_case(name: str, fixed: bool = False) -> list[Finding]:
    files = case_files(name)
    if fixed:
        files[-1] = DATA / f"{name}.fixed.yaml"
    bundle = verifier.load_bundle([str(f) for f in files])
    assert not [i for i in bundle.issues if i.severity == "error"], bundle.issues
    texts = {str(f): f.read_text() for f in files}
    return lint(bundle, texts=texts)


def triples(findings: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.rule, f.severity, f.object) for f in findings}


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_produces_exactly_its_findings(name: str) -> None:
    assert triples(lint_case(name)) == CASES[name]


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixed_case_has_no_findings(name: str) -> None:
    assert lint_case(name, fixed=True) == []


def test_every_rule_in_the_catalog_has_a_case_or_a_dependency_test() -> None:
    # invalid-object is tested in every lint format in tests/service/test_fail_closed.py,
    # dependency-unresolved in tests/service/test_outside_and_filters.py.
    covered = {rule for triples_ in CASES.values() for rule, _, _ in triples_} | {
        "dependency-broken", "invalid-object", "dependency-unresolved"}
    assert covered == set(RULES_BY_ID)


#: The one-sided rules run in a fix round only when there are dependencies (`findings._side_findings`).
ONE_SIDED = {"egress-without-ingress", "ingress-without-egress"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_fix_round_finds_every_finding_a_fix_can_be_proposed_for(name: str) -> None:
    """The converged fixes re-lint the fixed bundle to propose what the fixes need; that round skips the rules
    whose findings never get a fix, and only those (their findings would be read and ignored)."""
    bundle = verifier.load_bundle([str(f) for f in case_files(name)])
    everything = lint(bundle)
    fix_round, _ = findings_module._findings(LintContext(bundle, None, (), explanations=False))
    keys = lambda fs: {(f.rule, f.object, str(f.details.get("key"))) for f in fs}  # noqa: E731
    fixable = [f for f in everything if f.rule in GENERATORS and f.rule not in ONE_SIDED]
    assert keys(fixable) <= keys(fix_round) <= keys(everything)
    assert not {f.rule for f in fix_round} - set(GENERATORS)


def test_the_fix_round_finds_selectors_again_only_where_a_fix_changed_the_policy() -> None:
    """policy-selects-nothing remembers its findings per policy for the fix rounds (same workloads and
    namespaces): the policy a fix patched is looked at anew, the untouched ones are not."""
    from verifier.review.fixes import apply_fixes
    from verifier.review.rules.selection import selects_nothing_findings

    bundle = verifier.load_bundle([str(f) for f in case_files("policy-selects-nothing")])
    ctx = LintContext(bundle, None, (), snippets=False)
    before = selects_nothing_findings(ctx)
    assert [f.object for f in before] == ["db/db-from-web"]
    fixed = apply_fixes(bundle, lint_report(bundle).fixes)
    assert fixed.workloads is bundle.workloads  # what lets the fix round share the context's memory
    after = selects_nothing_findings(LintContext(fixed, None, (), explanations=False, shared=ctx))
    assert after == []  # the patched policy selects its pods now; no stale finding from the first pass
    again = selects_nothing_findings(LintContext(bundle, None, (), shared=ctx))
    assert again == before and again[0] is before[0]  # the unchanged policy's finding, remembered


def test_the_fix_round_finds_namespace_labels_again_only_where_a_fix_changed_the_policy() -> None:
    """namespace-label-missing remembers its findings per policy too: the patched policy is read anew."""
    from verifier.review.fixes import apply_fixes
    from verifier.review.rules.selection import namespace_label_findings

    bundle = verifier.load_bundle([str(f) for f in case_files("namespace-label-missing")])
    ctx = LintContext(bundle, None, (), snippets=False)
    before = namespace_label_findings(ctx)
    assert [f.object for f in before] == ["db/db-from-web"]
    fixed = apply_fixes(bundle, lint_report(bundle).fixes)
    assert [p.id for p in fixed.policies if p not in bundle.policies] == ["db/db-from-web"]  # the patched one
    assert namespace_label_findings(LintContext(fixed, None, (), explanations=False, shared=ctx)) == []
    again = namespace_label_findings(LintContext(bundle, None, (), shared=ctx))
    assert again == before and again[0] is before[0]  # the unchanged policy's finding, remembered


def test_each_patch_fix_is_its_patch_applied_to_the_original_policy() -> None:
    """The collector keeps the manifest it checked when it recorded a patch (not applied again at the end):
    it must still be the original policy with every operation of the fix's patch applied, in order."""
    import io

    from tests.generated import generated_bundle
    from verifier.review.policy_manifest import apply_patch, policy_manifest

    bundles = [generated_bundle()]
    bundles += [verifier.load_bundle([str(f) for f in case_files(name)]) for name in sorted(CASES)]
    # one policy with two stale peers: two findings, one patch of two operations
    two = "---\n".join(f.read_text() for f in case_files("policy-selects-nothing-peer")).replace(
        "ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: app}}, podSelector: "
        "{matchLabels: {app: webb}}}], ports: [{port: pg}]}]",
        "ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: app}}, podSelector: "
        "{matchLabels: {app: webb}}}], ports: [{port: pg}]}, {from: [{podSelector: {matchLabels: {app: postgress}}}]}]")
    bundles.append(verifier.load_bundle(["-"], stdin=io.StringIO(two)))
    patches, longest = 0, 0
    for bundle in bundles:
        originals = {p.id: p for p in bundle.policies}
        for fix in lint_report(bundle).fixes:
            if fix.action == "patch":
                assert fix.manifest == apply_patch(policy_manifest(originals[fix.policy]), fix.patch), fix.id
                patches, longest = patches + 1, max(longest, len(fix.patch))
    assert patches > 1 and longest > 1  # several patches, one of more than one operation, were compared


def by_rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


# --- messages, fixes and details ---------------------------------------------------------


def test_dns_finding_names_the_missing_protocol_and_suggests_a_dns_policy() -> None:
    (f,) = by_rule(lint_case("dns-egress-missing-udp-only"), "dns-egress-missing")
    assert f.details["missing"] == ["TCP"]
    assert "53/UDP but not 53/TCP" in f.message
    assert f.fix is not None and "k8s-app: kube-dns" in f.fix and "protocol: TCP" in f.fix
    assert f.source is not None and f.source.file.endswith("_common.yaml") and f.source.line > 0


def test_dns_without_dns_pods_in_the_bundle_uses_the_standard_labels() -> None:
    text = """
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec: {containers: [{name: api, image: api}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Egress]}
"""
    (f,) = by_rule(lint(verifier.load_text(text)), "dns-egress-missing")
    assert f.details["assumed_dns"] is True and "assumed" in f.message
    allow = text + """---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: dns, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}], ports: [{port: 53, protocol: UDP}, {port: 53}]}]
"""
    assert by_rule(lint(verifier.load_text(allow)), "dns-egress-missing") == []


def test_typo_in_policy_selector_suggests_the_existing_label() -> None:
    (f,) = by_rule(lint_case("policy-selects-nothing"), "policy-selects-nothing")
    assert f.details["suggestion"] == {"app": "postgres"}
    assert "app: postgres" in f.message and f.fix is not None and "app: postgres" in f.fix


def test_typo_in_peer_selector_suggests_the_existing_label() -> None:
    (f,) = by_rule(lint_case("policy-selects-nothing-peer"), "policy-selects-nothing")
    assert f.details["suggestion"] == {"app": "web"} and f.details["field"] == "spec.ingress[0].from[0]"


def test_namespace_label_missing_names_the_label_and_the_name_label() -> None:
    (f,) = by_rule(lint_case("namespace-label-missing"), "namespace-label-missing")
    assert f.details["namespace"] == "app"
    assert "team=app" in f.message and "kubernetes.io/metadata.name=app" in f.message
    assert f.fix is not None and "kubernetes.io/metadata.name: app" in f.fix


def test_empty_policy_selector_lists_the_pods_it_alone_isolates() -> None:
    (f,) = by_rule(lint_case("selector-too-broad-policy"), "selector-too-broad")
    assert f.details["isolated_only_by_this"] == ["tools/grafana", "tools/loki"]
    assert "matchLabels: null" in f.message


def test_egress_without_ingress_explains_the_ingress_denial_and_opens_only_what_a_dependency_needs() -> None:
    (f,) = lint_case("egress-without-ingress")
    assert "ingress at db/postgres" in f.message and "denied" in f.message
    assert f.details["example"] == {"from": "app/web", "to": "db/postgres", "protocol": "TCP", "port": 5432}
    assert f.fix is None and "no known dependency uses this rule" in f.message
    files = case_files("egress-without-ingress")
    bundle = verifier.load_bundle([str(p) for p in files])
    dep = Dependency("app/web", 5432, "TCP", dst="db/postgres")
    found = lint(bundle, verifier.evaluate_dependencies(bundle, [dep]))
    (f,) = by_rule(found, "egress-without-ingress")
    assert f.fix is not None and "kubernetes.io/metadata.name: app" in f.fix and "port: 5432" in f.fix
    assert "namespace: db" in f.fix and "Ingress" in f.fix


def test_hostname_intent_points_at_the_comment_line() -> None:
    (f,) = lint_case("hostname-intent")
    text = (DATA / "hostname-intent.yaml").read_text().splitlines()
    assert f.source is not None and "api.stripe.com" in text[f.source.line - 1]
    assert f.details["key"] == "api.stripe.com"


def test_no_default_deny_coverage_table() -> None:
    files = case_files("no-default-deny")
    rows = {r.namespace: r for r in coverage(verifier.load_bundle([str(f) for f in files]))}
    assert (rows["monitoring"].workloads, rows["monitoring"].ingress_isolated, rows["monitoring"].egress_isolated) == (1, 0, 0)
    assert rows["app"].default_deny_ingress == ("app/default-deny",) and rows["app"].ingress_isolated == 1


# --- dependency-broken ---------------------------------------------------------------------


def web_to_db() -> Dependency:
    return Dependency("app/web", 5432, "TCP", dst="db/postgres", evidence="hand-built")


def test_dependency_broken_names_the_denying_side_and_policy() -> None:
    files = case_files("namespace-label-missing")
    bundle = verifier.load_bundle([str(f) for f in files])
    findings = lint(bundle, evaluate_dependencies(bundle, [web_to_db()]))
    (f,) = by_rule(findings, "dependency-broken")
    assert (f.severity, f.object, f.details["key"]) == ("error", "app/web", "db/postgres TCP/5432")
    assert f.details["denied_by"] == ["ingress"] and "db/db-from-web" in f.details["policies"]
    assert "needs namespace team=app" in f.message
    assert f.details["causes"] == ["namespace-label-missing db/db-from-web ingress namespaceSelector team=app"]


def test_dependency_allowed_after_the_fix_gives_no_finding() -> None:
    files = case_files("namespace-label-missing")
    files[-1] = DATA / "namespace-label-missing.fixed.yaml"
    bundle = verifier.load_bundle([str(f) for f in files])
    results = evaluate_dependencies(bundle, [web_to_db()])
    assert results[0].allowed and lint(bundle, results) == []


def test_lint_json_has_the_documented_keys() -> None:
    files = case_files("egress-without-ingress")
    bundle = verifier.load_bundle([str(f) for f in files])
    doc = lint_json(lint_report(bundle, evaluate_dependencies(bundle, [web_to_db()])))
    f = next(f for f in doc["findings"] if f["rule"] == "dependency-broken")
    assert set(f) >= {"rule", "severity", "object", "file", "line", "message", "fix"}
    (d,) = doc["dependencies"]
    assert d | {"explanation": ""} == d | {
        "from": "app/web", "to": "db/postgres", "port": 5432, "protocol": "TCP", "source": "declared",
        "allowed": False, "explanation": "",
    }
    assert doc["summary"]["by_rule"] == {"dependency-broken": 1, "egress-without-ingress": 1}


# --- determinism -------------------------------------------------------------------------------


def test_findings_do_not_depend_on_document_order() -> None:
    bundle = verifier.load_bundle([str(EXAMPLE)])
    shuffled = dataclasses.replace(bundle, workloads=bundle.workloads[::-1], policies=bundle.policies[::-1],
                                   namespaces=dict(reversed(bundle.namespaces.items())))
    # Wording may list policies in document order (the explainer's); identity and order may not.
    keys = [(f.rule, f.severity, f.object, f.details["key"], f.source) for f in lint(bundle)]
    assert keys == [(f.rule, f.severity, f.object, f.details["key"], f.source) for f in lint(shuffled)]
    assert lint(bundle) == lint(bundle) == sort_findings(lint(bundle)[::-1])


def test_finding_keys_are_unique_within_a_bundle() -> None:
    findings = lint(verifier.load_bundle([str(EXAMPLE)]))
    assert len({f.key() for f in findings}) == len(findings)


# --- the bundled example -----------------------------------------------------------------------


def test_example_shop_yields_what_its_readme_says() -> None:
    bundle = verifier.load_bundle([str(EXAMPLE)])
    from verifier.deps.dependencies import gather_dependencies

    deps_file = EXAMPLE / "netreason.deps.yaml"
    deps, _ = gather_dependencies(bundle, deps_file.read_text(), str(deps_file), None)
    findings = lint(bundle, evaluate_dependencies(bundle, deps))
    dns = {f.object for f in by_rule(findings, "dns-egress-missing")}
    assert dns == {"payments/payments-api", "payments/postgres"}
    broken = {f.details["key"] for f in by_rule(findings, "dependency-broken") if f.object == "shop/api"}
    assert broken == {"payments/payments-api TCP/8443"}
    (ns,) = by_rule(findings, "namespace-label-missing")
    assert ns.object == "payments/payments-api-ingress" and "team=shop" in ns.message
    assert {f.object for f in by_rule(findings, "no-default-deny")} == {"monitoring", "kube-system"}


def test_dependency_causes_stay_with_their_own_namespace_among_many(tmp_path: Path) -> None:
    """Each broken dependency names its own namespace's typo'd policy as the cause, never another's: the causes
    are looked up by owner and policy, not scanned, and the lookup must still find exactly the right one."""
    n = 40
    path, _ = write_case(tmp_path, n)
    bundle = verifier.load_bundle([str(path)])
    deps = [Dependency(f"n{i}/client", 5432, "TCP", dst=f"n{i}/database") for i in range(n)]
    findings = lint(bundle, evaluate_dependencies(bundle, deps))
    broken = by_rule(findings, "dependency-broken")
    assert len(broken) == n
    for f in broken:
        ns = f.object.split("/")[0]
        assert [c.split(" ")[:2] for c in f.details["causes"]] == [["policy-selects-nothing", f"{ns}/allow-db"]], f
        assert f.details["fixes"] == [f"add {ns}/allow-database-ingress"]
    # The later fix rounds (egress allows after the default deny) follow their own namespace's deny only.
    no_deny = by_rule(findings, "no-default-deny")
    assert len(no_deny) == n
    for f in no_deny:
        ns = f.object
        assert f.details["fixes"] == [f"add {ns}/default-deny-egress", f"add {ns}/allow-client-egress",
                                      f"add {ns}/allow-dns"], f


def test_a_patch_copies_its_values_into_the_document_it_returns() -> None:
    """RFC 6902 `add`/`replace` into an object or an array: the result shares nothing with the operations
    or the original, so changing one changes neither of the others."""
    from verifier.review.policy_manifest import apply_patch

    doc = {"spec": {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"from": []}]}}
    value = {"matchLabels": {"app": "api"}, "matchExpressions": [{"key": "tier", "operator": "Exists"}]}
    ops = [{"op": "replace", "path": "/spec/podSelector", "value": value},
           {"op": "add", "path": "/spec/ingress/0/from/-", "value": value}]
    out = apply_patch(doc, ops)
    assert out["spec"]["podSelector"] == value and out["spec"]["ingress"][0]["from"] == [value]
    out["spec"]["podSelector"]["matchLabels"]["app"] = "changed"
    out["spec"]["ingress"][0]["from"][0]["matchExpressions"].clear()
    assert value == {"matchLabels": {"app": "api"}, "matchExpressions": [{"key": "tier", "operator": "Exists"}]}
    assert doc == {"spec": {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"from": []}]}}


def test_a_patch_in_place_changes_the_document_it_is_given_and_gives_what_a_copy_gets() -> None:
    """`in_place=True` (a manifest fresh from `policy_manifest`, which nothing else holds): the same result as
    patching a copy, written into the document itself; the operations' values are still copied."""
    from verifier.review.policy_manifest import apply_patch

    def doc() -> dict:
        return {"spec": {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"from": []}]}}

    value = {"matchLabels": {"app": "api"}}
    ops = [{"op": "replace", "path": "/spec/podSelector", "value": value},
           {"op": "add", "path": "/spec/ingress/0/from/-", "value": value}]
    mine = doc()
    out = apply_patch(mine, ops, in_place=True)
    assert out is mine and out == apply_patch(doc(), ops)
    out["spec"]["podSelector"]["matchLabels"]["app"] = "changed"
    assert value == {"matchLabels": {"app": "api"}}
