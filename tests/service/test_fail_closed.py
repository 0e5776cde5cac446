"""Exit codes that fail closed: a command that could not read or check its input never exits 0.

0 success, 1 denied / findings at --fail-on, 2 bad input or configuration, 3 the model was
asked and failed (the ground truth is still printed). All through the console entry point.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
import yaml

from tests.fakes.provider_server import answer, server_error
from tests.service.console import netreason
from tests.shared import CORPUS, require_shared

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "shop")

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
       "spec": {"containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80, "name": "http"}]}]}}
BAD_CIDR = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "bad"},
            "spec": {"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}]}}


def _write(path: Path, *docs: dict) -> str:
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return str(path)


def test_unparseable_yaml_through_flows_is_exit_2_with_file_and_line(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text(yaml.safe_dump(POD) + "---\nkind: [unclosed\n")
    for command in (["flows"], ["lint"], ["check", "--from", "web", "--to", "web", "--port", "80"], ["analyze"]):
        done = netreason(*command, str(bad))
        assert done.code == 2, (command, done.stdout, done.stderr)
        assert f"{bad}:" in done.stderr and "could not parse" in done.stderr
        assert "Allowed flows" not in done.stdout and "finding(s)" not in done.stdout


def test_an_input_without_workloads_checks_nothing_and_exits_2(tmp_path):
    policy = _write(tmp_path / "policy.yaml", {**BAD_CIDR, "spec": {"podSelector": {}}})
    for command in (["flows"], ["lint"], ["analyze"]):
        done = netreason(*command, policy)
        assert done.code == 2, (command, done.stdout)
        assert "no workloads" in done.stderr and "1 NetworkPolicies" in done.stderr


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "markdown"])
def test_an_invalid_object_is_an_error_finding_in_every_lint_format(tmp_path, fmt):
    path = _write(tmp_path / "app.yaml", POD, BAD_CIDR)
    line = Path(path).read_text().splitlines().index("        cidr: 10.0.0.0/33") + 1
    done = netreason("lint", path, "-o", fmt)
    assert done.code == 1, done.stdout
    assert "invalid-object" in done.stdout and "10.0.0.0/33" in done.stdout
    if fmt == "json":
        [finding] = [f for f in json.loads(done.stdout)["findings"] if f["rule"] == "invalid-object"]
        assert (finding["severity"], finding["file"], finding["line"]) == ("error", path, line)
        assert finding["object"] == "default/bad"
    if fmt == "sarif":
        run = json.loads(done.stdout)["runs"][0]
        [result] = [r for r in run["results"] if r["ruleId"] == "invalid-object"]
        assert result["level"] == "error"
        assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == line
    assert netreason("lint", path, "-o", fmt, "--fail-on", "never").code == 0


def test_a_model_spec_without_a_provider_is_exit_2_before_any_work(tmp_path):
    done = netreason("analyze", EXAMPLE, "--model", "llama3.1")
    assert done.code == 2 and done.stdout == ""
    assert "ollama:llama3.1" in done.stderr
    done = netreason("ask", EXAMPLE, "can shop/web reach shop/api:8080?", "--model", "nosuch:thing")
    assert done.code == 2 and done.stdout == "" and "unknown provider 'nosuch'" in done.stderr


def test_a_missing_api_key_is_exit_2_before_any_work():
    done = netreason("analyze", EXAMPLE, "--model", "openai:gpt-4.1-mini", env={"OPENAI_API_KEY": None})
    assert done.code == 2 and done.stdout == ""
    assert "OPENAI_API_KEY" in done.stderr


def test_ollama_alias_talks_to_the_local_openai_compatible_endpoint(fake_provider, monkeypatch):
    good = {"summary": "web reaches api.", "claims": [
        {"type": "flow", "from": "shop/web", "to": "shop/api", "port": 8080, "protocol": "TCP", "allowed": True}]}
    fake_provider.enqueue(answer(good))
    monkeypatch.setenv("NETREASON_OLLAMA_URL", fake_provider.openai_base_url)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    done = netreason("analyze", EXAMPLE, "--model", "ollama:llama3.1", "-o", "json")
    assert done.code == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["model"]["name"] == "ollama:llama3.1" and doc["model"]["claims"][0]["verdict"] == "confirmed"
    assert fake_provider.requests[0].body["model"] == "llama3.1"
    assert "authorization" not in {k.lower() for k in fake_provider.requests[0].headers}


def test_a_model_that_was_asked_and_failed_prints_the_truth_and_exits_3(fake_provider_env):
    fake_provider_env.enqueue(server_error(500), server_error(500), server_error(500))
    done = netreason("analyze", EXAMPLE, "--model", "openai:gpt-4.1-mini")
    assert done.code == 3
    assert "Ground truth" in done.stdout and "shop/api" in done.stdout
    assert "the model failed (ProviderUnavailable)" in done.stderr


def test_the_deps_file_beside_the_manifests_is_never_read_as_manifests():
    require_shared()
    app = CORPUS / "online-boutique"
    done = netreason("analyze", str(app), "--deps", str(app / "deps.yaml"), "--strict", "-o", "json")
    assert done.code == 0, done.stderr
    assert "needs a kind" not in done.stderr
    assert len(json.loads(done.stdout)["ground_truth"]["dependencies"]) == 16


def test_the_flows_file_inside_a_manifest_directory_is_not_a_manifest(tmp_path):
    _write(tmp_path / "app.yaml", POD)
    (tmp_path / "hubble.json").write_text("")
    done = netreason("lint", str(tmp_path), "--flows", str(tmp_path / "hubble.json"), "-o", "json")
    assert done.code == 0, done.stderr


def _chart(tmp_path: Path) -> Path:
    chart = tmp_path / "mychart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: mychart\nversion: 0.1.0\n")
    (chart / "templates" / "pod.yaml").write_text("{{- if .Values.enabled }}\n" + yaml.safe_dump(POD) + "{{- end }}\n")
    return chart


def _no_tools_path(tmp_path: Path) -> str:
    empty = tmp_path / "emptybin"
    empty.mkdir(exist_ok=True)
    return str(empty)


def test_a_helm_chart_without_helm_is_exit_2_with_the_command_to_run(tmp_path):
    chart = _chart(tmp_path)
    done = netreason("lint", str(chart), env={"PATH": _no_tools_path(tmp_path)})
    assert done.code == 2 and "0 finding(s)" not in done.stdout
    assert f"helm template mychart {chart} | netreason <command> -" in done.stderr
    nested = netreason("lint", str(tmp_path), env={"PATH": _no_tools_path(tmp_path)})
    assert nested.code == 2 and "is a Helm chart" in nested.stderr


def test_a_helm_chart_is_rendered_with_helm_template_when_helm_is_installed(tmp_path):
    chart = _chart(tmp_path)
    # A stand-in for the helm binary (not installable here): it records its arguments and prints
    # what `helm template` prints for this chart, so the test checks netreason's side of the seam.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "helm-args"
    helm = bin_dir / "helm"
    helm.write_text(f"#!/bin/sh\necho \"$@\" > {log}\ncat <<'EOF'\n---\n# Source: mychart/templates/pod.yaml\n"
                    f"{yaml.safe_dump(POD)}EOF\n")
    helm.chmod(helm.stat().st_mode | stat.S_IEXEC)
    done = netreason("flows", str(chart), "-o", "json", env={"PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert done.code == 0, done.stderr
    assert log.read_text().split() == ["template", "mychart", str(chart)]
    assert [w["id"] for w in json.loads(done.stdout)["workloads"]] == ["default/web"]


def _kustomization(tmp_path: Path) -> Path:
    base = tmp_path / "overlay"
    base.mkdir()
    _write(base / "pod.yaml", POD)
    (base / "kustomization.yaml").write_text("resources:\n- pod.yaml\nnamespace: shop\nnamePrefix: prod-\n")
    return base


def test_a_kustomize_directory_without_kubectl_is_exit_2_with_the_command(tmp_path):
    base = _kustomization(tmp_path)
    for args in ([str(base)], ["-k", str(base)]):
        done = netreason("flows", *args, env={"PATH": _no_tools_path(tmp_path)})
        assert done.code == 2
        assert f"kubectl kustomize {base} | netreason <command> -" in done.stderr


@pytest.mark.skipif(shutil.which("kubectl") is None,
                    reason="kubectl is not installed (.ci/run installs it with apt when it can)")
def test_a_kustomize_directory_is_rendered_with_kubectl_kustomize(tmp_path):
    base = _kustomization(tmp_path)
    for args in ([str(base)], ["-k", str(base)]):
        done = netreason("flows", *args, "-o", "json")
        assert done.code == 0, done.stderr
        assert [w["id"] for w in json.loads(done.stdout)["workloads"]] == ["shop/prod-web"]
