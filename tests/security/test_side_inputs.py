"""Findings 9 and 10: side inputs (deps, observed flows, request paths) are validated, never crash, and
request file paths are never resolved on the server.

Before: a NUL byte in a deps file, a Hubble flow whose `destination` is a string, or one nested 5,000 deep
gave a CLI traceback / API 500; `format=sarif` resolved request paths on the server (`/proc/self/exe` →
the interpreter, `../x.yaml` → the working directory's parent) and a NUL in a path gave a 500.
"""

from __future__ import annotations

import json
import os
import sys

import httpx
import pytest

from .support import netreason

PODS = """apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {app: a}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {app: b}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
"""
#: Selects nothing: a finding located in the policy's file.
POLICY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: nothing, namespace: x}
spec: {podSelector: {matchLabels: {app: ghost}}, policyTypes: [Ingress]}
"""
DEEP = '{"flow": ' + '{"x": ' * 5000 + "{}" + "}" * 5000 + "}\n"
STRING_DESTINATION = json.dumps({"flow": {"source": {"namespace": "x", "pod_name": "a"}, "destination": "b",
                                          "l4": {"TCP": {"destination_port": 80}}}}) + "\n"
BAD_LABELS = json.dumps({"flow": {"source": {"namespace": "x", "labels": "k8s:app=a", "workloads": "w"},
                                  "destination": {"namespace": "x", "labels": [1, None]},
                                  "IP": "nope", "l4": []}}) + "\n"


@pytest.fixture
def bundle(tmp_path):
    (tmp_path / "m.yaml").write_text(PODS)
    return tmp_path


def test_cli_deps_with_a_nul_byte_is_an_error_with_file_and_line(bundle):
    deps = bundle / "deps.yaml"
    deps.write_text("- from: x/a\n  to: x/b\x00\n  port: 80\n")
    proc = netreason("lint", str(bundle / "m.yaml"), "--deps", str(deps), "-o", "json")
    assert "Traceback" not in proc.stderr
    assert proc.returncode != 0 or "deps.yaml:2" in proc.stdout + proc.stderr
    assert "deps.yaml:2" in proc.stdout + proc.stderr, proc.stdout + proc.stderr


@pytest.mark.parametrize("records", [DEEP, STRING_DESTINATION, BAD_LABELS], ids=["deep", "string-destination",
                                                                                 "bad-types"])
def test_cli_hostile_hubble_records_are_reported_not_crashed_on(bundle, records):
    flows = bundle / "hubble.json"
    flows.write_text(records)
    proc = netreason("lint", str(bundle / "m.yaml"), "--flows", str(flows), "-o", "json")
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode in (0, 1, 2)
    assert "hubble.json:1" in proc.stdout + proc.stderr


@pytest.mark.parametrize("observed", [DEEP, STRING_DESTINATION, BAD_LABELS], ids=["deep", "string-destination",
                                                                                  "bad-types"])
def test_api_hostile_observed_flows_are_not_a_500(api_server, observed):
    r = httpx.post(f"{api_server.base_url}/v1/analyze", json={"manifests": PODS, "observed": observed, "save": False},
                   timeout=60)
    assert r.status_code in (200, 422), r.text
    assert "observed" in r.text


def test_api_deps_with_a_nul_byte_is_a_problem_not_a_500(api_server):
    r = httpx.post(f"{api_server.base_url}/v1/analyze", timeout=60,
                   json={"manifests": PODS, "deps": "- from: x/a\n  to: x/b\u0000\n  port: 80\n", "save": False})
    assert r.status_code in (200, 422), r.text
    assert ":2" in r.text


HOSTILE_PATHS = ["/proc/self/exe", f"/proc/self/fd/{3}", "../x.yaml", "../../etc/passwd", "a\u0000b.yaml",
                 "/tmp/../proc/self/cwd/p.yaml"]


def test_api_sarif_never_resolves_request_paths(api_server):
    files = [{"path": "k8s/pods.yaml", "content": PODS}]
    files += [{"path": path, "content": POLICY.replace("nothing", f"nothing{i}")} for i,
              path in enumerate(HOSTILE_PATHS)]
    r = httpx.post(f"{api_server.base_url}/v1/analyze", json={"files": files, "format": "sarif", "save": False},
                   timeout=60)
    assert r.status_code == 200, r.text
    uris = [loc["physicalLocation"]["artifactLocation"]["uri"]
            for result in r.json()["runs"][0]["results"] for loc in result.get("locations", [])]
    assert len(uris) >= len(HOSTILE_PATHS), uris
    server_facts = {sys.executable, os.path.realpath(sys.executable), os.getcwd(), os.path.dirname(os.getcwd())}
    for uri in uris:
        assert not uri.startswith(("/", "file:", "..")), uri
        assert not any(fact.lstrip("/") and fact.lstrip("/") in uri for fact in server_facts if len(fact) > 1), uri
    assert "proc/self/exe" in uris and "x.yaml" in uris
