"""API-server validation of NetworkPolicies (and shape checks of other kinds), with lines."""

from __future__ import annotations

from textwrap import dedent, indent

import pytest

from verifier.model.errors import ValidationFailed
from verifier.input.load import load_text
from verifier.model.bundle import Issue

HEADER = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: p
  namespace: ns
spec:
"""
FIRST_SPEC_LINE = 7  # the snippet's first line in the file


def policy(spec: str) -> str:
    return HEADER + indent(dedent(spec).strip("\n") + "\n", "  ")


def errors_of(text: str, name: str = "p.yaml") -> list[Issue]:
    return [i for i in load_text(text, name=name).issues if i.severity == "error"]


def single_error(spec: str) -> Issue:
    errors = errors_of(policy(spec))
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


# (id, spec snippet, field path, line within the snippet (1-based), message fragment)
FAILING = [
    ("label-key", """
        podSelector:
          matchLabels:
            "bad key": x
     """, "spec.podSelector.matchLabels[bad key]", 3, "invalid label key 'bad key'"),
    ("label-value", """
        podSelector:
          matchLabels:
            app: -x-
     """, "spec.podSelector.matchLabels[app]", 3, "invalid label value '-x-'"),
    ("label-value-not-string", """
        podSelector:
          matchLabels:
            enabled: yes
     """, "spec.podSelector.matchLabels[enabled]", 3, "quote it"),
    ("in-without-values", """
        podSelector:
          matchExpressions:
          - key: app
            operator: In
     """, "spec.podSelector.matchExpressions[0].values", 3, "must be specified when `operator` is 'In'"),
    ("notin-empty-values", """
        podSelector:
          matchExpressions:
          - {key: app, operator: NotIn, values: []}
     """, "spec.podSelector.matchExpressions[0].values", 3, "'NotIn'"),
    ("exists-with-values", """
        podSelector:
          matchExpressions:
          - key: app
            operator: Exists
            values: [a]
     """, "spec.podSelector.matchExpressions[0].values", 5, "may not be specified when `operator` is 'Exists'"),
    ("unknown-operator", """
        podSelector:
          matchExpressions:
          - key: app
            operator: in
            values: [a]
     """, "spec.podSelector.matchExpressions[0].operator", 4, "write In"),
    ("expression-key", """
        podSelector:
          matchExpressions:
          - key: a/b/c
            operator: Exists
     """, "spec.podSelector.matchExpressions[0].key", 3, "at most one '/'"),
    ("protocol", """
        ingress:
        - ports:
          - protocol: tcp
            port: 80
     """, "spec.ingress[0].ports[0].protocol", 3, "write TCP"),
    ("port-zero", """
        ingress:
        - ports:
          - port: 0
     """, "spec.ingress[0].ports[0].port", 3, "between 1 and 65535"),
    ("port-too-big", """
        egress:
        - ports:
          - port: 70000
     """, "spec.egress[0].ports[0].port", 3, "between 1 and 65535"),
    ("port-quoted-number", """
        ingress:
        - ports:
          - port: "80"
     """, "spec.ingress[0].ports[0].port", 3, "write it without quotes"),
    ("port-name-double-hyphen", """
        ingress:
        - ports:
          - port: web--x
     """, "spec.ingress[0].ports[0].port", 3, "two consecutive '-'"),
    ("port-name-too-long", """
        ingress:
        - ports:
          - port: a-very-long-port-name
     """, "spec.ingress[0].ports[0].port", 3, "no more than 15 characters"),
    ("port-name-uppercase", """
        ingress:
        - ports:
          - port: web_1
     """, "spec.ingress[0].ports[0].port", 3, "only lowercase"),
    ("port-float", """
        ingress:
        - ports:
          - port: 80.5
     """, "spec.ingress[0].ports[0].port", 3, "must be a port number or a port name"),
    ("endport-with-name", """
        egress:
        - ports:
          - port: http
            endPort: 90
     """, "spec.egress[0].ports[0].endPort", 4, "non-numeric"),
    ("endport-below-port", """
        egress:
        - ports:
          - port: 90
            endPort: 80
     """, "spec.egress[0].ports[0].endPort", 4, "greater than or equal to `port`"),
    ("endport-too-big", """
        egress:
        - ports:
          - port: 90
            endPort: 65536
     """, "spec.egress[0].ports[0].endPort", 4, "between 1 and 65535"),
    ("endport-without-port", """
        egress:
        - ports:
          - protocol: UDP
            endPort: 80
     """, "spec.egress[0].ports[0].endPort", 4, "`port` is not specified"),
    ("empty-peer", """
        ingress:
        - from:
          - {}
     """, "spec.ingress[0].from[0]", 3, "must specify a peer"),
    ("null-selector-peer", """
        ingress:
        - from:
          - podSelector: null
     """, "spec.ingress[0].from[0]", 3, "must specify a peer"),
    ("ipblock-and-selector", """
        egress:
        - to:
          - ipBlock:
              cidr: 10.0.0.0/8
            namespaceSelector: {}
     """, "spec.egress[0].to[0]", 3, "may not specify both ipBlock and another peer"),
    ("cidr-missing-prefix", """
        egress:
        - to:
          - ipBlock:
              cidr: 10.0.0.0
     """, "spec.egress[0].to[0].ipBlock.cidr", 4, "add a prefix length"),
    ("cidr-garbage", """
        egress:
        - to:
          - ipBlock:
              cidr: 300.1.2.0/24
     """, "spec.egress[0].to[0].ipBlock.cidr", 4, "must be a valid CIDR value"),
    ("cidr-host-bits", """
        egress:
        - to:
          - ipBlock:
              cidr: 10.0.0.1/24
     """, "spec.egress[0].to[0].ipBlock.cidr", 4, "write 10.0.0.0/24 for the subnet or 10.0.0.1/32"),
    ("cidr-leading-zeros", """
        egress:
        - to:
          - ipBlock:
              cidr: 010.0.0.0/8
     """, "spec.egress[0].to[0].ipBlock.cidr", 4, "leading 0s"),
    ("cidr-ipv4-mapped", """
        egress:
        - to:
          - ipBlock:
              cidr: ::ffff:10.0.0.0/104
     """, "spec.egress[0].to[0].ipBlock.cidr", 4, "IPv4-mapped"),
    ("cidr-missing", """
        egress:
        - to:
          - ipBlock:
              except: [10.0.0.0/8]
     """, "spec.egress[0].to[0].ipBlock.cidr", 3, "Required value"),
    ("except-outside", """
        ingress:
        - from:
          - ipBlock:
              cidr: 10.0.0.0/24
              except:
              - 10.1.0.0/16
     """, "spec.ingress[0].from[0].ipBlock.except[0]", 6, "10.1.0.0/16 is not within 10.0.0.0/24"),
    ("except-equal", """
        ingress:
        - from:
          - ipBlock:
              cidr: 10.0.0.0/24
              except: [10.0.0.0/24]
     """, "spec.ingress[0].from[0].ipBlock.except[0]", 5, "10.0.0.0/24 equals 10.0.0.0/24"),
    ("except-other-family", """
        ingress:
        - from:
          - ipBlock:
              cidr: 10.0.0.0/8
              except: ["2001:db8::/64"]
     """, "spec.ingress[0].from[0].ipBlock.except[0]", 5, "is not within"),
    ("except-invalid", """
        ingress:
        - from:
          - ipBlock:
              cidr: 10.0.0.0/8
              except: [10.0.0.0/40]
     """, "spec.ingress[0].from[0].ipBlock.except[0]", 5, "must be a valid CIDR value"),
    ("policy-type-unknown", """
        policyTypes:
        - ingress
     """, "spec.policyTypes[0]", 2, "write Ingress"),
    ("policy-types-three", """
        policyTypes: [Ingress, Egress, Ingress]
     """, "spec.policyTypes", 1, "more than two"),
    ("unknown-field-typo", """
        egress:
        - to:
          - ipBlock:
              cidr: 10.0.0.0/8
              excepts: [10.1.0.0/16]
     """, "spec.egress[0].to[0].ipBlock.excepts", 5, "did you mean 'except'"),
    ("rules-not-a-list", """
        ingress:
          from: []
     """, "spec.ingress", 1, "must be a list"),
]


@pytest.mark.parametrize(("spec", "path", "line", "fragment"), [c[1:] for c in FAILING], ids=[c[0] for c in FAILING])
def test_invalid_policy_is_reported_at_the_offending_field(spec: str, path: str, line: int, fragment: str) -> None:
    issue = single_error(spec)
    assert issue.field_path == path
    assert issue.source is not None and issue.source.file == "p.yaml"
    assert issue.source.line == FIRST_SPEC_LINE + line - 1
    assert fragment in issue.message
    assert issue.object == "NetworkPolicy ns/p"


PASSING = [
    ("in-with-values", "podSelector: {matchExpressions: [{key: app, operator: In, values: [a]}]}"),
    ("exists-without-values", "podSelector: {matchExpressions: [{key: app, operator: DoesNotExist}]}"),
    ("prefixed-label-key", "podSelector: {matchLabels: {app.kubernetes.io/name: web, tier: ''}}"),
    ("sctp", "ingress: [{ports: [{protocol: SCTP, port: 65535}]}]"),
    ("named-port", "ingress: [{ports: [{port: http-alt, protocol: UDP}]}]"),
    ("endport-equal", "egress: [{ports: [{port: 80, endPort: 80}]}]"),
    ("except-inside", "egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 10.2.3.4/32]}}]}]"),
    ("ipv6", "egress: [{to: [{ipBlock: {cidr: '2001:db8::/32', except: ['2001:db8:1::/48']}}]}]"),
    ("both-selectors", "ingress: [{from: [{podSelector: {}, namespaceSelector: {matchLabels: {a: b}}}]}]"),
    ("null-rule-allows-all", "ingress: [null]"),
    ("policy-types-both", "policyTypes: [Egress, Ingress]"),
    ("no-spec-fields", "podSelector: {}"),
]


@pytest.mark.parametrize("spec", [c[1] for c in PASSING], ids=[c[0] for c in PASSING])
def test_valid_policy_has_no_errors_and_is_kept(spec: str) -> None:
    bundle = load_text(policy(spec), name="p.yaml")
    assert [str(i) for i in bundle.issues] == []
    assert [p.id for p in bundle.policies] == ["ns/p"]


def test_error_message_names_file_line_and_field_as_in_the_issue_example() -> None:
    text = dedent("""\
        # Source: api/templates/netpol.yaml
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: api-to-db
          namespace: payments
        spec:
          podSelector: {}
          ingress:
          - from:
            - podSelector: {matchLabels: {app: api}}
            - ipBlock:
                cidr: 10.0.0.0/24
                except: [10.1.0.0/16]
        """)
    (issue,) = errors_of(text, name="policies/api.yaml")
    assert str(issue) == ("policies/api.yaml:14: spec.ingress[0].from[1].ipBlock.except[0]: "
                          "10.1.0.0/16 is not within 10.0.0.0/24: every except must be a strict subset of `cidr`")
    assert issue.object == "NetworkPolicy payments/api-to-db"


def test_every_error_of_every_document_is_reported_and_invalid_policies_are_left_out() -> None:
    bad = policy("""
        podSelector: {matchLabels: {"a b": x}}
        ingress:
        - from: [{}]
          ports: [{port: 0}]
    """)
    good = HEADER.replace("name: p", "name: q") + "  podSelector: {}\n"
    bundle = load_text(bad + "---\n" + good + "---\n" + bad.replace("name: p", "name: r"), name="p.yaml")
    errors = [i for i in bundle.issues if i.severity == "error"]
    assert len(errors) == 6
    assert {i.object for i in errors} == {"NetworkPolicy ns/p", "NetworkPolicy ns/r"}
    assert [p.name for p in bundle.policies] == ["q"]
    second_doc_start = len((bad + "---\n" + good + "---\n").splitlines()) + 1
    assert errors[3].source is not None and errors[3].source.line == second_doc_start + 6


def test_strict_mode_raises_with_every_error_after_checking_all_documents() -> None:
    text = policy("ingress: [{ports: [{port: 0}]}]") + "---\n" + policy("egress: [{to: [{}]}]")
    with pytest.raises(ValidationFailed) as caught:
        load_text(text, name="p.yaml", strict=True)
    assert [i.field_path for i in caught.value.issues] == ["spec.ingress[0].ports[0].port", "spec.egress[0].to[0]"]
    assert "2 validation error(s)" in str(caught.value)


def test_strict_mode_passes_a_valid_bundle() -> None:
    bundle = load_text(policy("podSelector: {}"), strict=True)
    assert len(bundle.policies) == 1


@pytest.mark.parametrize(("name", "fragment"), [
    ("Bad_Name", "RFC 1123 subdomain"),
    ("x" * 254, "no more than 253 characters"),
])
def test_policy_name_must_be_a_dns_subdomain(name: str, fragment: str) -> None:
    (issue,) = errors_of(HEADER.replace("name: p", f"name: {name}") + "  podSelector: {}\n")
    assert issue.field_path == "metadata.name" and issue.source is not None and issue.source.line == 4
    assert fragment in issue.message


def test_missing_name_is_an_error_at_metadata() -> None:
    text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  namespace: ns\nspec: {}\n"
    (issue,) = errors_of(text)
    assert issue.field_path == "metadata.name" and "Required value" in issue.message
    assert issue.source is not None and issue.source.line == 3


def test_misspelt_peer_field_is_unknown_and_leaves_an_empty_peer() -> None:
    errors = errors_of(policy("ingress: [{from: [{podselector: {}}]}]"))
    assert [(e.field_path, e.message[:30]) for e in errors] == [
        ("spec.ingress[0].from[0].podselector", "unknown field 'podselector' (d"),
        ("spec.ingress[0].from[0]", "must specify a peer: set podSe"),
    ]


def test_repeated_policy_type_is_only_a_warning_as_the_api_server_accepts_it() -> None:
    bundle = load_text(policy("policyTypes: [Egress, Egress]"), name="p.yaml")
    assert [(i.severity, i.field_path) for i in bundle.issues] == [("warning", "spec.policyTypes[1]")]
    assert bundle.policies[0].policy_types == ("Egress",)


def test_namespace_field_must_be_a_dns_label() -> None:
    (issue,) = errors_of(HEADER.replace("namespace: ns", "namespace: My.NS") + "  podSelector: {}\n")
    assert issue.field_path == "metadata.namespace" and "RFC 1123 label" in issue.message


# --- other kinds: enough shape checking that garbage never crashes ---------------------

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: c
    ports:
    - containerPort: {port}
"""


@pytest.mark.parametrize(("port", "fragment"), [('"8080"', "write the number without quotes"),
                                                ("0", "between 1 and 65535"),
                                                ("null", "Required value"),
                                                ("[1]", "must be an integer")])
def test_bad_container_port_is_an_error_and_the_pod_is_left_out(port: str, fragment: str) -> None:
    bundle = load_text(POD.format(port=port), name="pod.yaml")
    (issue,) = bundle.issues
    assert issue.field_path == "spec.containers[0].ports[0].containerPort" and fragment in issue.message
    assert issue.source is not None and issue.source.line == 9
    assert bundle.workloads == ()


@pytest.mark.parametrize(("text", "path"), [
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: {name: c}}\n", "spec.containers"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: []}\n", "spec.containers"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n", "spec"),
    ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {template: 3}\n", "spec.template"),
    ("apiVersion: v1\nkind: Pod\nmetadata: [a]\nspec: {containers: [{name: c}]}\n", "metadata"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, env: [{name: X, value: 5}]}]}\n",
     "spec.containers[0].env[0].value"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c}]}\nstatus: {podIP: 10.0.0.999}\n",
     "status.podIP"),
    ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, targetPort: '8080'}]}\n",
     "spec.ports[0].targetPort"),
    ("apiVersion: v1\nkind: Service\nmetadata: {name: 1abc}\nspec: {ports: [{port: 80}]}\n", "metadata.name"),
    ("apiVersion: v1\nkind: Namespace\nmetadata: {name: a.b}\n", "metadata.name"),
])
def test_garbage_in_other_kinds_becomes_an_error_issue(text: str, path: str) -> None:
    bundle = load_text(text)
    assert [i.field_path for i in bundle.issues if i.severity == "error"] == [path]
    assert bundle.workloads == () and bundle.services == ()


@pytest.mark.parametrize("text", ["just a string\n", "- 1\n- 2\n", "kind: Pod\nmetadata: {name: a}\n",
                                  "apiVersion: v1\nmetadata: {name: a}\n", "42\n"])
def test_documents_that_are_not_objects_are_errors_not_crashes(text: str) -> None:
    bundle = load_text(text)
    assert bundle.issues and all(i.severity == "error" for i in bundle.issues)
