"""`netreason fix`: the fixes `lint` proposes converge on every corpus app.

Apply every fix (`netreason fix --out DIR`), lint DIR again: no error finding, no broken
dependency, and no in-cluster flow that was not there before, except the dependencies and DNS.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from service.cli import cli
from tests.shared import corpus_apps, require_shared

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def flows_by_pair(paths: list[str], namespace: str) -> dict[tuple[str, str, str], set[int]]:
    code, out, err = run("flows", *paths, "-n", namespace, "--format", "json")
    assert code == 0, err
    pairs: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    for f in json.loads(out)["flows"]:
        for lo, hi in f["ports"]:
            pairs[(f["from"], f["to"], f["protocol"])] |= set(range(lo, min(hi, lo + 70000) + 1))
    return pairs


def needed(lint_doc: dict) -> dict[tuple[str, str, str], set[int]]:
    """Ports each dependency needs, plus DNS (53) to anything in kube-system."""
    out: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    for d in lint_doc["dependencies"]:
        out[(d["from"], d["to"], d["protocol"])].add(d["port"])
    return out


@pytest.mark.parametrize("app", corpus_apps(), ids=lambda a: a["name"])
def test_fixes_converge_on_corpus_app(app: dict, tmp_path: Path) -> None:
    require_shared()
    ns = app["default_namespace"]
    out = tmp_path / "fixed"
    code, stdout, err = run("fix", *app["manifest_paths"], "-n", ns, "--deps", app["deps_path"], "--out", str(out))
    assert code == 0, err
    assert "wrote" in stdout
    code, lint_out, err = run("lint", str(out), "-n", ns, "--deps", app["deps_path"], "--format", "json", "--fail-on",
                              "never")
    doc = json.loads(lint_out)
    errors = [f"{f['rule']} {f['object']}: {f['message']}" for f in doc["findings"] if f["severity"] == "error"]
    assert errors == []
    assert [d for d in doc["dependencies"] if not d["allowed"]] == []
    before = flows_by_pair(app["manifest_paths"], ns)
    after = flows_by_pair([str(out)], ns)
    allowed_new = needed(doc)
    opened = {}
    for key, ports in after.items():
        new = ports - before.get(key, set())
        extra = new - allowed_new.get(key, set()) - ({53} if key[1].startswith("kube-system/") else set())
        if extra:
            opened[key] = sorted(extra)[:5]
    assert opened == {}


def test_sock_shop_fixes_are_unique_placeholder_free_and_dns_once() -> None:
    require_shared()
    app = next(a for a in corpus_apps() if a["name"] == "sock-shop")
    _code, out, _ = run("lint", *app["manifest_paths"], "-n", "sock-shop", "--deps", app["deps_path"], "--format",
                        "json")
    doc = json.loads(out)
    ids = [f["id"] for f in doc["fixes"]]
    assert len(ids) == len(set(ids))
    names = [f["policy"] for f in doc["fixes"] if f["action"] == "add"]
    assert len(names) == len(set(names))
    assert names.count("sock-shop/allow-dns") == 1
    assert not any("<" in (f["fix"] or "") for f in doc["findings"])
    # every broken dependency has a fix, on the side that denies it
    broken = [f for f in doc["findings"] if f["rule"] == "dependency-broken"]
    assert len(broken) == 4 and all(f["fix"] for f in broken)
    by_id = {f["id"]: f for f in doc["fixes"]}
    carts = next(f for f in broken if f["key"] == "sock-shop/carts TCP/80" and f["object"] == "sock-shop/orders")
    carts_fix = by_id[carts["fixes"][0]]["manifest"]
    assert carts_fix["spec"]["podSelector"] == {"matchLabels": {"name": "carts"}}
    assert {"podSelector": {"matchLabels": {"name": "orders"}}} in [p for r in carts_fix["spec"]["ingress"]
                                                                    for p in r["from"]]
    # the placeholder fix of the implicit default deny is gone and the message says a human chooses
    broad = next(f for f in doc["findings"] if f["rule"] == "selector-too-broad")
    assert broad["fix"] is None and "only you know" in broad["message"]
    # the fix YAML is valid manifests that parse
    for f in doc["findings"]:
        if f["fix"]:
            assert all(d["kind"] == "NetworkPolicy" for d in yaml.safe_load_all(f["fix"]) if d)


def test_fix_keeps_patched_files_and_comments_in_place(tmp_path: Path) -> None:
    require_shared()
    app = next(a for a in corpus_apps() if a["name"] == "sock-shop")
    out = tmp_path / "o"
    run("fix", *app["manifest_paths"], "-n", "sock-shop", "--deps", app["deps_path"], "--out", str(out))
    patched = (out / "manifests-policy" / "netpol-cart-access.yaml").read_text()
    assert "name: carts" in patched and "name: cart\n" not in patched
    untouched = Path(app["manifest_paths"][0]).read_text()
    assert (out / "complete-demo.yaml").read_text() == untouched
    assert sorted(p.name for p in (out / "netreason-fixes").iterdir())[0].startswith("01-sock-shop-")


def test_own_allow_dns_is_not_flagged_namespace_label_missing(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x, labels: {app: a}}\n"
        "spec: {containers: [{name: c, image: i}]}\n"
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: x}\n"
        "spec: {podSelector: {}, policyTypes: [Egress]}\n")
    _code, out, _ = run("lint", str(tmp_path), "--format", "json", "--fail-on", "never")
    fix = next(f for f in json.loads(out)["fixes"] if f["name"] == "allow-dns")
    fixed = tmp_path / "fixed"
    run("fix", str(tmp_path), "--out", str(fixed))
    _code, out, _ = run("lint", str(fixed), "--format", "json", "--fail-on", "never")
    rules = [f["rule"] for f in json.loads(out)["findings"]]
    assert "namespace-label-missing" not in rules and "dns-egress-missing" not in rules
    assert fix["manifest"]["spec"]["egress"][0]["to"][0]["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}


def test_fix_refuses_a_non_empty_output_folder(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    done = subprocess.run([sys.executable, "-m", "service", "fix", str(ROOT / "examples" / "shop"), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "not empty" in done.stderr
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"
