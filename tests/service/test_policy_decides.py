"""Claims judged by what policy decides: ports no container serves, and IP-range dependencies.

A NetworkPolicy allows or denies a port whether or not a container listens on it, and an egress rule
decides an IP range outside the cluster; claims about either are confirmed or contradicted, with a note.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from service.cli import cli
from tests.fakes.provider_server import answer

MANIFESTS = """
apiVersion: v1
kind: Namespace
metadata: {name: media}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: image-proxy, namespace: media}
spec:
  selector: {matchLabels: {app: image-proxy}}
  template:
    metadata: {labels: {app: image-proxy}}
    spec: {containers: [{name: p, image: proxy, ports: [{containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: minio, namespace: media}
spec:
  selector: {matchLabels: {app: minio}}
  template:
    metadata: {labels: {app: minio}}
    spec: {containers: [{name: m, image: minio, ports: [{containerPort: 9000}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: proxy-egress, namespace: media}
spec:
  podSelector: {matchLabels: {app: image-proxy}}
  policyTypes: [Egress]
  egress:
    - to: [{podSelector: {matchLabels: {app: minio}}}]
      ports: [{port: 9000}]
    - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]
      ports: [{port: 443}]
"""
DEPS = "- {from: image-proxy, to: 10.1.0.0/24, namespace: media, port: 443, protocol: TCP}\n"


def analyze(srv, tmp_path: Path, claims: list[dict]) -> list[dict]:
    (tmp_path / "all.yaml").write_text(MANIFESTS)
    (tmp_path / "netreason.deps.yaml").write_text(DEPS)
    srv.enqueue(answer({"summary": "s", "claims": claims}))
    result = CliRunner().invoke(cli, ["analyze", str(tmp_path), "-o", "json", "--model", "openai:gpt-4.1-mini",
                                      "--prompt", "breakage"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["model"]["claims"]


def flow(port: int, allowed: bool) -> dict:
    return {"type": "flow", "from": "media/image-proxy", "to": "media/minio", "port": port, "protocol": "TCP",
            "allowed": allowed}


def test_a_flow_claim_to_a_port_no_container_serves_is_judged_by_policy(fake_provider_env, tmp_path):
    checks = analyze(fake_provider_env, tmp_path, [flow(80, False), flow(80, True), flow(9000, True)])
    assert [c["verdict"] for c in checks] == ["confirmed", "contradicted", "confirmed"]
    assert "note: media/minio serves no TCP/80 (it serves TCP/9000); the verdict is what the policies decide" \
        in checks[0]["explanation"]
    assert checks[1]["ground_truth"] == {"allowed": False}
    assert "serves no" not in checks[2]["explanation"]


def broken(to: str, port: int = 443) -> dict:
    return {"type": "dependency_broken", "from": "media/image-proxy", "to": to, "port": port, "protocol": "TCP"}


def test_breakage_claims_about_ip_ranges_are_judged_by_the_source_egress(fake_provider_env, tmp_path):
    checks = analyze(fake_provider_env, tmp_path, [
        broken("10.1.0.0/24"),        # the declared dependency: inside the except, so denied
        broken("10.2.0.0/16"),        # not declared: the ipBlock admits it on 443
        broken("10.2.0.0/16", 8443),  # not declared: no rule admits 8443
        broken("10.2.3.4"),           # a bare address, as models write it
    ])
    assert [c["verdict"] for c in checks] == ["confirmed", "contradicted", "confirmed", "contradicted"]
    assert "no known dependency" not in checks[0]["explanation"]
    assert checks[1]["ground_truth"] == {"broken": False}
    assert "note: no known dependency media/image-proxy -> 10.2.0.0/16:443/TCP; the verdict is what the " \
           "policies decide for egress to that range" in checks[1]["explanation"]
    assert "no egress rule admits 10.2.0.0/16 on TCP/8443" in checks[2]["explanation"]
    assert checks[3]["claim"]["to"] == "10.2.3.4/32"
