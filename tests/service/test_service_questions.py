"""Questions whose destination is a Service: its port maps through targetPort to the pods it selects.

Online Boutique's Service emailservice listens on 5000 (named grpc) and targets container port 8080,
which the policies allow from checkoutservice. Through `check`, `ask`, `POST /v1/chat` and Slack.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml

from tests.fakes.api_server import ApiServer
from tests.fakes.slack_server import FakeSlackServer, fake_slack  # noqa: F401 (fixture)
from tests.service.console import netreason
from tests.service.test_slack import _body, _start
from tests.shared import CORPUS, require_shared

BOUTIQUE = CORPUS / "online-boutique"
VIA_5000 = "via: Service default/emailservice port 5000 (grpc) -> targetPort 8080 on default/emailservice"


@pytest.fixture(scope="module")
def boutique() -> str:
    require_shared()
    return str(BOUTIQUE)


@pytest.mark.parametrize("to", ["default/emailservice", "emailservice", "svc/emailservice", "default/svc/emailservice",
                                "emailservice.default.svc.cluster.local"])
def test_check_maps_a_service_port_to_its_target_port(boutique, to):
    done = netreason("check", boutique, "--from", "checkoutservice", "--to", to, "--port", "5000")
    assert done.code == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ALLOWED: default/checkoutservice -> default/emailservice TCP/8080")
    assert VIA_5000 in done.stdout


def test_check_json_says_which_mapping_it_used_and_keeps_every_key(boutique):
    done = netreason("check", boutique, "--from", "checkoutservice", "--to", "svc/emailservice", "--port", "grpc",
                     "-o", "json")
    doc = json.loads(done.stdout)
    assert done.code == 0 and doc["allowed"] is True and doc["port"] == 8080
    assert doc["via"] == VIA_5000.removeprefix("via: ")
    assert {"schema", "from", "to", "port", "protocol", "allowed", "egress", "ingress", "notes",
            "explanation"} <= set(doc)


def test_the_container_port_itself_still_answers_for_the_workload(boutique):
    done = netreason("check", boutique, "--from", "checkoutservice", "--to", "emailservice", "--port", "8080")
    assert done.code == 0 and "via:" not in done.stdout
    denied = netreason("check", boutique, "--from", "frontend", "--to", "svc/emailservice", "--port", "5000")
    assert denied.code == 1 and VIA_5000 in denied.stdout and denied.stdout.startswith("DENIED")


def test_a_port_the_service_does_not_have_is_bad_input_naming_its_ports(boutique):
    done = netreason("check", boutique, "--from", "checkoutservice", "--to", "svc/emailservice", "--port", "smtp")
    assert done.code == 2
    assert "Service default/emailservice has no TCP port 'smtp'; its ports: grpc=TCP/5000" in done.stderr
    bad = netreason("check", boutique, "--from", "checkoutservice", "--to", "emailservice", "--port", "70000")
    assert bad.code == 2 and "not a port" in bad.stderr


def _two_namespaces(tmp_path: Path) -> str:
    docs = []
    for ns, port_name in (("shop", "http"), ("staging", "web")):
        docs += [
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": ns},
             "spec": {"selector": {"matchLabels": {"app": "api"}}, "template": {"metadata": {"labels": {"app": "api"}},
                      "spec": {"containers": [{"name": "api", "image": "api",
                                               "ports": [{"containerPort": 8080, "name": port_name}]}]}}}},
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": ns},
             "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
                      "spec": {"containers": [{"name": "web", "image": "web"}]}}}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api-public", "namespace": ns},
             "spec": {"selector": {"app": "api"}, "ports": [{"name": "https", "port": 443, "targetPort": port_name}]}},
            {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": "api", "namespace": ns},
             "spec": {"podSelector": {"matchLabels": {"app": "api"}},
                      "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                                   "ports": [{"port": 8080}]}]}},
        ]
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    return str(path)


def test_minus_n_defaults_the_namespace_of_from_and_to(tmp_path):
    path = _two_namespaces(tmp_path)
    ambiguous = netreason("check", path, "--from", "web", "--to", "api", "--port", "8080")
    assert ambiguous.code == 2 and "ambiguous" in ambiguous.stderr
    done = netreason("check", path, "-n", "staging", "--from", "web", "--to", "api", "--port", "8080")
    assert done.code == 0 and done.stdout.startswith("ALLOWED: staging/web -> staging/api TCP/8080")


def test_a_named_target_port_resolves_on_the_selected_pods_and_named_ports_work_everywhere(tmp_path):
    path = _two_namespaces(tmp_path)
    done = netreason("check", path, "-n", "shop", "--from", "web", "--to", "api-public", "--port", "443")
    assert done.code == 0, done.stderr
    assert "via: Service shop/api-public port 443 (https) -> targetPort 'http' = 8080 on shop/api" in done.stdout
    named = netreason("check", path, "-n", "staging", "--from", "web", "--to", "api", "--port", "web")
    assert named.code == 0 and "named port 'web' = TCP/8080 on staging/api" in named.stdout
    asked = netreason("ask", path, "can shop/web reach shop/svc/api-public:https?", "-o", "json")
    assert asked.code == 0, asked.stderr
    [a] = json.loads(asked.stdout)["answer"]
    assert (a["to"], a["port"], a["allowed"]) == ("shop/api", 8080, True) and "targetPort 'http'" in a["via"]


def test_ask_answers_the_service_port_question_from_the_issue(boutique):
    done = netreason("ask", boutique, "can checkoutservice reach emailservice:5000?")
    assert done.code == 0
    assert done.stdout.startswith("ALLOWED: default/checkoutservice -> default/emailservice TCP/8080")
    assert VIA_5000 in done.stdout


def test_the_chat_api_answers_for_the_service_port(api_server: ApiServer, boutique):
    manifests = "\n---\n".join(p.read_text() for p in sorted(BOUTIQUE.glob("*.yaml")) if p.name != "deps.yaml")
    with httpx.Client(base_url=api_server.base_url, timeout=30) as client:
        r = client.post("/v1/chat",
                        json={"text": "can checkoutservice reach emailservice:5000?", "manifests": manifests})
    assert r.status_code == 200, r.text
    reply = r.json()
    [v] = reply["answer"]["verdicts"]
    assert (v["from"], v["to"], v["port"], v["allowed"]) == ("default/checkoutservice", "default/emailservice", 8080,
                                                             True)
    assert v["via"] == VIA_5000.removeprefix("via: ") and v["reason"].startswith("via Service default/emailservice")
    assert reply["answer"]["headline"] == "Yes: the connection is allowed."


def test_slack_answers_for_the_service_port(tmp_path, fake_slack: FakeSlackServer, boutique):  # noqa: F811
    manifests = "\n---\n".join(p.read_text() for p in sorted(BOUTIQUE.glob("*.yaml")) if p.name != "deps.yaml")
    for app in _start(tmp_path, fake_slack):
        r = app.client.post("/v1/clusters/boutique", json={"manifests": manifests})
        assert r.status_code == 201, r.text
        app.command("boutique can checkoutservice reach emailservice:5000")
        _, answer = app.slack.wait_for_posts(2)
        body = _body(answer)
        assert "default/checkoutservice → default/emailservice TCP/8080" in body
        assert "via Service default/emailservice port 5000 (grpc) -&gt; targetPort 8080" in body or \
               "via Service default/emailservice port 5000 (grpc) -> targetPort 8080" in body
