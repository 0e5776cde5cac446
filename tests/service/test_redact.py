"""Redaction and pseudonyms: planted secrets never reach a prompt; anonymized names map back."""

from __future__ import annotations

import base64
import json
import re

import pytest
import yaml

import verifier
from prompts.library import list_prompts
from service.brief import render_brief
from service.prompting import prepare_prompt
from service.redact import REDACTED, Pseudonyms, redact_text, sensitive_values
from tests.prompts.example_bundles import EXAMPLES
from tests.shared import corpus_apps, require_shared
from verifier.input.load import load_bundle, load_text

CANARIES = {
    "secret_data": "canary-secret-data-5e1f",
    "secret_string": "canary-secret-stringdata-90ab",
    "configmap": "canary-configmap-value-77c2",
    "configmap_binary": "canary-configmap-binary-3d4e",
    "env": "canary-env-value-c0de",
    "init_env": "canary-init-env-value-4a4a",
    "pod_env": "canary-pod-env-value-1b1b",
    "annotation": "canary-annotation-text-f00d",
    "template_annotation": "canary-template-annotation-beef",
    "ns_annotation": "canary-namespace-annotation-abba",
    "policy_annotation": "canary-policy-annotation-cafe",
    "service_annotation": "canary-service-annotation-d00d",
    "last_applied": "canary-last-applied-password-e5e5",
    "image": "canary-image-name-0f0f",
    "init_image": "canary-init-image-name-2c2c",
    "command": "canary-command-arg-9d9d",
    "args": "canary-args-value-6e6e",
    "evidence": "canary-dependency-evidence-8a8a",
}
C = CANARIES


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


PLANTED = f"""
apiVersion: v1
kind: Namespace
metadata:
  name: pay
  labels: {{team: payments}}
  annotations: {{owner-notes: "{C['ns_annotation']}"}}
---
apiVersion: v1
kind: Secret
metadata: {{name: db-creds, namespace: pay}}
type: Opaque
data: {{password: {_b64(C['secret_data'])}}}
stringData: {{token: "{C['secret_string']}"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings, namespace: pay}}
data: {{app.properties: "db.url={C['configmap']}"}}
binaryData: {{blob: {_b64(C['configmap_binary'])}}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: pay
  annotations:
    note: "{C['annotation']}"
    kubectl.kubernetes.io/last-applied-configuration: '{{"spec": {{"password": "{C['last_applied']}"}}}}'
spec:
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata:
      labels: {{app: api}}
      annotations: {{sidecar-config: "{C['template_annotation']}"}}
    spec:
      initContainers:
      - name: migrate
        image: registry.example/{C['init_image']}:1.0
        env: [{{name: MIGRATION_KEY, value: "{C['init_env']}"}}]
      containers:
      - name: api
        image: registry.example/{C['image']}:2.1
        command: ["/bin/api", "--key={C['command']}"]
        args: ["--password", "{C['args']}"]
        ports: [{{containerPort: 8080, name: http}}]
        env:
        - {{name: DB_PASSWORD, value: "{C['env']}"}}
        - name: TOKEN
          valueFrom: {{secretKeyRef: {{name: db-creds, key: token}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: db, namespace: pay, labels: {{app: db}}}}
spec:
  containers:
  - name: db
    image: postgres:16
    ports: [{{containerPort: 5432, name: pg}}]
    env: [{{name: POSTGRES_PASSWORD, value: "{C['pod_env']}"}}]
---
apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: pay
  annotations: {{lb-notes: "{C['service_annotation']}"}}
spec:
  selector: {{app: db}}
  ports: [{{port: 5432, targetPort: pg}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-ingress
  namespace: pay
  annotations: {{why: "{C['policy_annotation']}"}}
spec:
  podSelector: {{matchLabels: {{app: db}}}}
  ingress:
  - from: [{{podSelector: {{matchLabels: {{app: api}}}}}}]
    ports: [{{port: pg}}]
"""

DEPS = [{"from": "pay/api", "to": "pay/db", "port": 5432, "protocol": "TCP",
         "evidence": f"env DB_URL=postgres://{C['evidence']}@db:5432", "source": f"env {C['evidence']}"}]
OTHER_VARS = {"focus": "pay/api -> pay/db", "question": "Can pay/api reach pay/db?",
              "flows_added": "pay/api -> pay/db TCP/5432",
              "findings_introduced": "none", "bad_output": "{", "error": "not JSON",
              "plan": "step 1: namespace pay (verified)"}


@pytest.fixture(scope="module")
def planted():
    b = load_text(PLANTED, name="planted.yaml")
    # The model keeps these for dependency inference; the test is only meaningful if they are there.
    env_values = {e.value for w in b.workloads for e in w.env}
    annotations = {v for w in b.workloads
                   for v in w.annotations.values()} | set(b.namespaces["pay"].annotations.values())
    assert C["env"] in env_values and C["pod_env"] in env_values
    assert C["template_annotation"] in annotations and C["ns_annotation"] in annotations
    assert {w.id for w in b.workloads} == {"pay/api", "pay/db"} and len(b.policies) == 1
    return b


def _prompt_text(prepared) -> str:
    r = prepared.rendered
    return "\n".join([r.system, *(m["content"] for m in r.messages), json.dumps(r.json_schema)])


def _leaks(text: str) -> list[str]:
    lowered = text.lower()
    found = [name for name, canary in CANARIES.items() if canary in lowered]
    found += [name for name, canary in CANARIES.items() if _b64(canary) in text]
    return found


@pytest.mark.parametrize("anonymize", [False, True], ids=["plain", "anonymized"])
@pytest.mark.parametrize("ref", [s.ref for s in list_prompts()])
def test_no_planted_secret_reaches_any_prompt(planted, ref, anonymize):
    spec = next(s for s in list_prompts() if s.ref == ref)
    variables = {k: v for k, v in OTHER_VARS.items() if k in spec.variables}
    prepared = prepare_prompt(ref, planted, DEPS, anonymize=anonymize, **variables)
    text = _prompt_text(prepared)
    assert _leaks(text) == []
    if "brief" in spec.variables:  # and the brief really was rendered from the planted bundle
        assert ("pay/db-ingress" in text) != anonymize
        assert ("TCP/port-1" if anonymize else "TCP/pg") in text


def test_env_var_names_and_images_stay_out_of_the_brief(planted):
    brief = render_brief(planted, DEPS)
    for word in ("DB_PASSWORD", "POSTGRES_PASSWORD", "MIGRATION_KEY", "postgres:16", "registry.example", "db-creds",
                 "settings"):
        assert word not in brief


def test_caller_text_is_redacted_against_env_values_and_annotations(planted):
    question = f"Why does api use {C['env']} and the note {C['template_annotation']}?"
    prepared = prepare_prompt("ask", planted, question=question)
    last = prepared.rendered.messages[-1]["content"]
    assert f"Why does api use {REDACTED} and the note {REDACTED}?" in last
    assert _leaks(_prompt_text(prepared)) == []


def test_short_and_public_values_are_not_treated_as_secrets(planted):
    values = sensitive_values(planted)
    assert {C["env"], C["pod_env"], C["template_annotation"], C["ns_annotation"]} <= values
    assert "pay" not in values and "8080" not in values
    assert redact_text("pay/api on 8080", planted) == "pay/api on 8080"


# --- pseudonyms ---------------------------------------------------------------------------


def _corpus_bundle(name):
    require_shared()
    app = next(a for a in corpus_apps() if a["name"] == name)
    b = load_bundle(app["manifest_paths"], default_namespace=app["default_namespace"])
    return b, yaml.safe_load(open(app["deps_path"]))


def _original_words(bundle) -> set[str]:
    words = set(bundle.namespaces)
    for obj in (*bundle.workloads, *bundle.services, *bundle.policies):
        words |= {obj.namespace, obj.name}
    for w in bundle.workloads:
        words |= {k for k in w.labels if not k.startswith("app.kubernetes.io/")} | set(w.labels.values())
    return words


@pytest.mark.parametrize("name", ["sock-shop", "bitnami-wordpress-hardened"])
def test_anonymized_brief_shows_no_original_name_or_label(name):
    bundle, deps = _corpus_bundle(name)
    pseudonyms = Pseudonyms.for_bundle(bundle, deps)
    brief = render_brief(pseudonyms.bundle(bundle), [pseudonyms.dependency(d) for d in deps])
    tokens = set(re.split(r"[\s,;:=(){}\[\]>]+|/(?=[^/]*$)|->", brief))
    leaked = {w for w in _original_words(bundle) if w in tokens or f"{w}/" in brief}
    assert leaked == set()
    assert "ns-1/name-" in brief and "key-1=val-" in brief and "(port-1)" in brief


def test_well_known_names_and_keys_survive_anonymization():
    bundle, _ = EXAMPLES["dns@1"]
    pseudonyms = Pseudonyms.for_bundle(bundle)
    brief = render_brief(pseudonyms.bundle(bundle))
    assert "kube-system/coredns Deployment: k8s-app=kube-dns;" in brief
    assert "{ns kubernetes.io/metadata.name=kube-system; pods k8s-app=kube-dns}" in brief
    assert "app/" not in brief and "a-egress" not in brief


def test_namespace_name_selectors_follow_the_namespace_pseudonym():
    bundle, _ = EXAMPLES["breakage@1"]
    pseudonyms = Pseudonyms.for_bundle(bundle)
    brief = render_brief(pseudonyms.bundle(bundle))
    web = pseudonyms.forward["ns"]["web"]
    assert f"{{ns kubernetes.io/metadata.name={web}; pods " in brief


@pytest.mark.parametrize("name", ["online-boutique", "sock-shop", "bitnami-wordpress-hardened"])
def test_anonymized_bundle_has_the_same_connectivity(name):
    bundle, deps = _corpus_bundle(name)
    pseudonyms = Pseudonyms.for_bundle(bundle, deps)
    original = {(pseudonyms.ref(s), pseudonyms.ref(d), ports) for s, d, ports in verifier.analyze(bundle).flows()}
    anonymized = set(verifier.analyze(pseudonyms.bundle(bundle)).flows())
    assert anonymized == original and original


def test_deanonymize_maps_an_answer_back():
    bundle, deps = EXAMPLES["breakage@1"]
    p = Pseudonyms.for_bundle(bundle, deps)
    worker, db, policy = p.ref("web/worker"), p.ref("data/db"), p.ref("data/db-ingress")
    answer = {
        "summary": f"{worker} cannot reach {db}: {policy} admits only {p.key('app')}={p.value('app', 'api')}.",
        "claims": [
            {"type": "dependency_broken", "from": worker, "to": db, "port": 5432, "protocol": "TCP", "reason": None},
            {"type": "policy_selects", "policy": policy, "workloads": [db], "reason": f"matches {db}"},
            {"type": "finding", "rule": "ingress-without-egress", "object": "name-999/ns-999", "reason": "x"},
        ],
    }
    back = p.deanonymize(answer)
    assert back["summary"] == "web/worker cannot reach data/db: data/db-ingress admits only app=api."
    assert back["claims"][0] == {"type": "dependency_broken", "from": "web/worker", "to": "data/db", "port": 5432,
                                 "protocol": "TCP", "reason": None}
    assert back["claims"][1]["workloads"] == ["data/db"] and back["claims"][1]["reason"] == "matches data/db"
    assert back["claims"][2]["object"] == "name-999/ns-999"  # unknown pseudonyms are left alone
    assert answer["claims"][0]["from"] == worker  # the input is not modified


def test_every_id_round_trips_and_the_mapping_persists():
    bundle, deps = _corpus_bundle("sock-shop")
    p = Pseudonyms.for_bundle(bundle, deps)
    again = Pseudonyms.from_dict(json.loads(json.dumps(p.to_dict())))
    ids = [o.id for o in (*bundle.workloads, *bundle.services, *bundle.policies)]
    assert [again.deanonymize(p.ref(i)) for i in ids] == ids
    assert len({p.ref(i) for i in ids}) == len(set(ids))


def test_pseudonyms_are_deterministic():
    bundle, deps = _corpus_bundle("online-boutique")
    assert Pseudonyms.for_bundle(bundle, deps) == Pseudonyms.for_bundle(bundle, list(reversed(deps)))


def test_anonymized_prompt_maps_caller_ids_and_answers_back():
    bundle, deps = EXAMPLES["review@1"]
    prepared = prepare_prompt("review", bundle, deps, anonymize=True, flows_removed="shop/api -> shop/db TCP/5432")
    p = prepared.pseudonyms
    last = prepared.rendered.messages[-1]["content"]
    assert f"Flows removed:\n{p.ref('shop/api')} -> {p.ref('shop/db')} TCP/5432" in last
    assert "shop" not in last
    answer = {"summary": f"{p.ref('shop/api')} lost DNS",
              "claims": [{"type": "dns_egress_missing", "workload": p.ref("shop/api")}]}
    assert prepared.deanonymize(answer) == {"summary": "shop/api lost DNS",
                                            "claims": [{"type": "dns_egress_missing", "workload": "shop/api"}]}


def test_cidr_dependencies_are_not_taken_for_names():
    from verifier.model.records import Dependency as Record

    bundle, _ = EXAMPLES["review@1"]
    p = Pseudonyms.for_bundle(bundle, [Record("shop/api", 443, cidr="10.0.0.0/8")])
    assert p.dependency(Record("shop/api", 443, cidr="10.0.0.0/8")).dialled == "10.0.0.0/8"
    assert "10.0.0.0" not in p.forward["ns"] and "8" not in p.forward["name"]


def test_a_pseudonymized_dependency_names_no_original_and_drops_its_evidence():
    from verifier.model.records import Dependency as Record

    bundle, _ = EXAMPLES["review@1"]
    dep = Record("shop/web", 8080, dst="shop/api", service="shop/api", service_port=80, source="inferred",
                 evidence="env API_URL=http://api:80")
    p = Pseudonyms.for_bundle(bundle, [dep])
    mapped = p.dependency(dep)
    assert mapped == Record(p.ref("shop/web"), 8080, dst=p.ref("shop/api"), service=p.ref("shop/api"),
                            service_port=80, source="inferred")
    assert (mapped.dialled, mapped.dialled_port) == (p.ref("shop/api"), 80) and "shop" not in mapped.dialled
