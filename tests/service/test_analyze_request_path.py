"""POST /v1/analyze's request path, through real HTTP: what the steps made cheaper must still answer the same."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import yaml

import verifier
from service.settings import Settings
from service.storage.tables import analyses
from service.store import Store
from tests.fakes.api_server import ApiServer, running_api, sqlite_url
from tests.fakes.provider_server import FakeProviderServer, answer

MODEL = "openai:gpt-4.1-mini"
NO_CLAIMS = {"summary": "nothing to say", "claims": []}


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    return Settings(database_url=sqlite_url(tmp_path), api_tokens=(), model=None, allowed_models=(MODEL,))


@pytest.fixture
def client(api_server: ApiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server.base_url, timeout=60) as c:
        yield c


def _pods(count: int, *, twice: int | None = None) -> str:
    """`count` pods in namespace `a`, each its own workload serving 8080 (pod `twice` declares it in two
    containers), and no policy: every pair is a flow."""
    docs = []
    for i in range(count):
        ports = [{"containerPort": 8080}]
        containers = [{"name": "c", "image": "nginx", "ports": ports}]
        if i == twice:
            containers.append({"name": "d", "image": "nginx", "ports": ports})
        docs.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": f"p{i:02d}", "namespace": "a", "labels": {"app": f"p{i:02d}"}},
                     "spec": {"containers": containers}})
    return yaml.safe_dump_all(docs, sort_keys=False)


def _expected_flow_items(text: str) -> list[dict[str, object]]:
    """Every ordered pair on the destination's declared ports, in bundle order, duplicates dropped, the first
    200 kept (`MAX_FLOW_ITEMS`): built whole, the way the cap is defined."""
    workloads = verifier.load_text(text, name="manifests").workloads
    items = [(s.id, d.id, p.port, p.protocol) for s in workloads for d in workloads if s.id != d.id
             for p in d.ports]
    return [{"from": s, "to": d, "port": port, "protocol": proto, "allowed": True}
            for s, d, port, proto in list(dict.fromkeys(items))[:200]]


@pytest.mark.parametrize("pods", [14, 15, 40])
def test_a_flows_answer_with_no_claims_misses_the_first_pairs_in_bundle_order(
        fake_provider_env: FakeProviderServer, client: httpx.Client, pods: int) -> None:
    """14 pods: 182 pairs, all listed; 15: 210, cut to 200; 40: 1,560 (the check stops early, the list must
    not change)."""
    fake_provider_env.enqueue(answer(NO_CLAIMS))
    text = _pods(pods, twice=3)
    response = client.post("/v1/analyze", json={"manifests": text, "model": MODEL, "prompt": "flows"})
    assert response.status_code == 200, response.text
    doc = response.json()
    missed = [m["item"] for m in doc["missed"] if m["type"] == "flow"]
    assert missed == _expected_flow_items(text)
    assert doc["totals"]["missed"] == len(missed) == min(pods * (pods - 1), 200)


# --- the document encoded once: size check, stored copy and answer -------------------------------------------

#: Outside printable ASCII, each in a different way: accented (2 UTF-8 bytes), DEL, an emoji beyond the BMP
#: (4 bytes, a surrogate pair when escaped), and U+2028 (3 bytes).
ODD = "é\x7f🙂\u2028"


def _odd_files() -> list[dict[str, str]]:
    """examples/shop-like pods in a file whose path is not ASCII: the path is in every finding about them."""
    return [{"path": f"k8s/{ODD}/pods.yaml", "content": _pods(3)}]


def _compact(doc: object, *, ascii_only: bool) -> str:
    return json.dumps(doc, ensure_ascii=ascii_only, separators=(",", ":"))


def test_the_answer_is_the_documents_compact_utf8_json_and_its_stored_copy_reads_back_the_same(
        fake_provider_env: FakeProviderServer, db_url: str) -> None:
    """The JSON answer is written from the text the store keeps (one encoding): both must be the document's
    compact UTF-8 JSON, byte for byte, on SQLite and PostgreSQL, with characters JSON writes in different ways."""
    fake_provider_env.enqueue(answer({"summary": ODD * 3, "claims": []}))
    settings = Settings(database_url=db_url, api_tokens=(), model=None, allowed_models=(MODEL,))
    with running_api(settings) as server, httpx.Client(base_url=server.base_url, timeout=60) as c:
        posted = c.post("/v1/analyze", json={"files": _odd_files(), "model": MODEL})
        assert posted.status_code == 200, posted.text
        assert posted.headers["content-type"] == "application/json"
        assert int(posted.headers["content-length"]) == len(posted.content)
        doc = posted.json()
        assert doc["model"]["summary"] == ODD * 3 and ODD in json.dumps(doc["ground_truth"], ensure_ascii=False)
        assert posted.content == _compact(doc, ascii_only=False).encode("utf-8")
        stored = c.get(posted.headers["location"])
        assert stored.status_code == 200 and stored.content == posted.content
    with closing(Store.open(db_url)) as store:
        assert store.get_analysis(posted.headers["x-netreason-analysis-id"]).result == doc


def _analyze_with_limit(limit: int, fake: FakeProviderServer, tmp_path: Path, summary: str) -> httpx.Response:
    fake.enqueue(answer({"summary": summary, "claims": []}))
    settings = Settings(database_url=sqlite_url(tmp_path / str(limit)), api_tokens=(), model=None,
                        allowed_models=(MODEL,), max_response_bytes=limit)
    with running_api(settings) as server, httpx.Client(base_url=server.base_url, timeout=60) as c:
        return c.post("/v1/analyze", json={"manifests": _pods(3), "model": MODEL})


def _stored_count(tmp_path: Path, limit: int) -> int:
    with closing(Store.open(sqlite_url(tmp_path / str(limit)))) as store, store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(analyses)).scalar_one())


def test_the_size_limit_counts_the_document_as_ascii_json_as_it_always_did(
        fake_provider_env: FakeProviderServer, tmp_path: Path) -> None:
    """NETREASON_MAX_RESPONSE_BYTES is checked against `json.dumps(doc, separators=(",", ":"))`, where every
    character outside printable ASCII takes 6 or 12 characters: a document that fits as UTF-8 (or counted in
    characters) but not as ASCII JSON is refused, with that size, and not stored; one that fits is answered."""
    summary = ODD * 500  # 2,000 characters, 4,500 bytes of UTF-8, 14,000 of ASCII JSON
    reference = _analyze_with_limit(10_000_000, fake_provider_env, tmp_path, summary)
    assert reference.status_code == 200, reference.text
    ascii_size = len(_compact(reference.json(), ascii_only=True))
    assert ascii_size - len(reference.content) > 9_000  # the margin, far beyond the timings' few digits

    limit = ascii_size - 4_000  # over the UTF-8 length, under the ASCII JSON length
    refused = _analyze_with_limit(limit, fake_provider_env, tmp_path, summary)
    assert refused.status_code == 422 and refused.json()["type"] == "urn:netreason:problem:response-too-large"
    size = int(refused.json()["detail"].split(" is ", 1)[1].split(" bytes", 1)[0].replace(",", ""))
    assert abs(size - ascii_size) <= 20, (size, ascii_size)  # the same measure (timings may differ by a digit)
    assert _stored_count(tmp_path, limit) == 0

    roomy = ascii_size + 100
    kept = _analyze_with_limit(roomy, fake_provider_env, tmp_path, summary)
    assert kept.status_code == 200, kept.text
    assert _stored_count(tmp_path, roomy) == 1


# --- the brief: each object's line written once per plan ------------------------------------------------------


def _namespaces_with_policies(count: int) -> str:
    """`count` namespaces, each with two pods, a Service and two policies (one allowing the other namespace's
    pods in); every namespace's brief also shows the kube-dns pod, so objects repeat across briefs."""
    docs: list[dict[str, object]] = [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "coredns", "namespace": "kube-system",
                                                         "labels": {"k8s-app": "kube-dns"}},
         "spec": {"containers": [{"name": "c", "image": "coredns", "ports": [{"containerPort": 53,
                                                                              "protocol": "UDP"}]}]}}]
    for i in range(count):
        ns, other = f"team-{i}", f"team-{(i + 1) % count}"
        docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"team": ns}}})
        for app in ("web", "db"):
            docs.append({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": app, "namespace": ns, "labels": {"app": app}},
                         "spec": {"containers": [{"name": "c", "image": "nginx",
                                                  "ports": [{"containerPort": 8080}]}]}})
        docs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": ns},
                     "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}})
        docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                     "metadata": {"name": "deny", "namespace": ns},
                     "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}})
        docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                     "metadata": {"name": "from-next", "namespace": ns},
                     "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"],
                              "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": other}},
                                                     "podSelector": {"matchLabels": {"app": "web"}}}],
                                           "ports": [{"port": 8080}]}]}})
    return yaml.safe_dump_all(docs, sort_keys=False)


def _sent_prompts(fake: FakeProviderServer) -> list[list[str]]:
    return [[m["content"] for m in r.body["messages"]] for r in fake.requests]


def _fresh_prompts(text: str, prompt: str, budget: str | None, anonymize: bool) -> list[list[str]]:
    """The prompts of each slice the plan asks, each rendered again on its own (no lines shared)."""
    from service import pipeline
    from service.prompting import prepare_prompt
    from service.truth import compute_truth

    truth = compute_truth(verifier.load_text(text, name="manifests"), texts={"manifests": text})
    _budget, slices = pipeline.plan(truth, model=MODEL, prompt=prompt, anonymize=anonymize,
                                    options=pipeline.SliceOptions(budget=budget))
    prompts = []
    for sl in slices:
        rendered = prepare_prompt(prompt, sl.bundle, list(sl.dependencies), anonymize=anonymize).rendered
        prompts.append([rendered.system, *(m["content"] for m in rendered.messages)])
    return prompts


@pytest.mark.parametrize(("budget", "anonymize", "sliced"), [(None, False, False), ("3k:2k", False, True),
                                                             ("3k:2k", True, True)])
def test_each_prompt_is_the_brief_of_its_slice_as_rendered_on_its_own(
        fake_provider_env: FakeProviderServer, client: httpx.Client, budget: str | None, anonymize: bool,
        sliced: bool) -> None:
    """A plan renders every namespace's brief to size it, then the prompt of the whole cluster (or of each
    slice) from the same objects' lines: each prompt sent must be the one rendered afresh for its slice."""
    text = _namespaces_with_policies(6)
    fake_provider_env.set_responder(lambda _request: NO_CLAIMS)
    response = client.post("/v1/analyze", json={"manifests": text, "model": MODEL, "prompt": "flows",
                                                "budget": budget, "anonymize": anonymize})
    assert response.status_code == 200, response.text
    assert (len(response.json()["model"]["slices"]) > 1) == sliced
    sent = _sent_prompts(fake_provider_env)
    assert sorted(sent) == sorted(_fresh_prompts(text, response.json()["prompt"], budget, anonymize))
    assert any("team-" in "".join(p) for p in sent) != anonymize  # pseudonyms, when asked for
