"""`netreason probe plan|check` against a fake `kubectl` on PATH.

The fake answers `kubectl exec ... -- nc -zv -w 2 HOST PORT` as three clusters would: one that
enforces the policies (only the declared dependencies connect), one whose network plugin ignores
policies (everything connects), and one where the carts pods lack the label the policies select
(everything into carts connects). The fake decides from the deps file alone, not from netreason.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from service.cli import cli
from tests.shared import corpus_apps, require_shared

FAKE_KUBECTL = """#!{python}
import json, os, sys
args = sys.argv[1:]
cluster = json.load(open(os.environ["FAKE_CLUSTER"]))
if args[:1] != ["exec"] or "--" not in args:
    sys.exit(2)
ns, target = args[args.index("-n") + 1], args[args.index("-n") + 2]
cmd = args[args.index("--") + 1:]
host, port = cmd[-2], int(cmd[-1])
client = ns + "/" + target.split("/", 1)[1]
allowed = [client, host, port] in cluster["allowed"]
if cluster["mode"] == "ignores":
    allowed = True
elif cluster["mode"] == "mismatch":
    allowed = allowed or host == cluster["unselected_host"]
sys.exit(0 if allowed else 1)
"""


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout


@pytest.fixture(scope="module")
def sock_shop_probes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The probe script for Sock Shop after `plan --replace`, and the app."""
    require_shared()
    app = next(a for a in corpus_apps() if a["name"] == "sock-shop")
    base = tmp_path_factory.mktemp("probe")
    args = [*app["manifest_paths"], "-n", "sock-shop", "--deps", app["deps_path"]]
    code, _ = run("plan", *args, "--replace", "--out", str(base / "plan"))
    assert code == 0
    code, script = run("probe", "plan", *args, "--plan", str(base / "plan"))
    assert code == 0 and script.startswith("#!/usr/bin/env bash")
    (base / "probe.sh").write_text(script)
    return base, app


def fake_cluster(base: Path, app: dict, mode: str) -> dict[str, str]:
    """PATH with the fake kubectl first, and FAKE_CLUSTER describing the cluster's behaviour."""
    bin_dir = base / "bin"
    bin_dir.mkdir(exist_ok=True)
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(FAKE_KUBECTL.format(python=sys.executable))
    kubectl.chmod(kubectl.stat().st_mode | stat.S_IEXEC)
    deps = yaml.safe_load(Path(app["deps_path"]).read_text())
    allowed = [[f"{d['namespace']}/{d['from']}", f"{d['to']}.{d['namespace']}", d["port"]] for d in deps]
    spec = {"mode": mode, "allowed": allowed, "unselected_host": "carts.sock-shop"}
    (base / f"{mode}.json").write_text(json.dumps(spec))
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "FAKE_CLUSTER": str(base / f"{mode}.json")}


def run_script(base: Path, app: dict, mode: str) -> str:
    done = subprocess.run(["bash", str(base / "probe.sh")], env=fake_cluster(base, app, mode), capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def check(results: str) -> tuple[int, dict]:
    code, out = run("probe", "check", "-", "-o", "json", stdin=results)
    return code, json.loads(out)


def test_enforcing_cluster_behaves_as_the_policies_say(sock_shop_probes: tuple[Path, dict]) -> None:
    base, app = sock_shop_probes
    code, doc = check(run_script(base, app, "enforcing"))
    assert code == 0 and doc["ok"]
    expects = {p["expect"] for p in doc["probes"]}
    assert expects == {"connect", "fail"}
    assert sum(p["expect"] == "connect" for p in doc["probes"]) == 15
    assert doc["conclusions"] == ["every probe behaved as the policies say: the rollout is enforced"]


def test_a_plugin_that_ignores_policies_is_named(sock_shop_probes: tuple[Path, dict]) -> None:
    base, app = sock_shop_probes
    code, doc = check(run_script(base, app, "ignores"))
    assert code == 1 and not doc["ok"]
    leaked = [p for p in doc["probes"] if not p["ok"]]
    assert leaked and all(p["expect"] == "fail" and p["outcome"] == "connected" for p in leaked)
    assert "does not enforce NetworkPolicy" in doc["conclusions"][0]
    assert "closest miss" in leaked[0]["diagnosis"]


def test_a_label_mismatch_points_at_the_workload(sock_shop_probes: tuple[Path, dict]) -> None:
    base, app = sock_shop_probes
    code, doc = check(run_script(base, app, "mismatch"))
    assert code == 1
    leaked = [p for p in doc["probes"] if not p["ok"]]
    assert leaked and {p["to"] for p in leaked} == {"sock-shop/carts"}
    (conclusion,) = doc["conclusions"]
    assert "label mismatch" in conclusion and "sock-shop/carts" in conclusion and "does not enforce" not in conclusion


def test_check_refuses_results_without_probes() -> None:
    done = subprocess.run([sys.executable, "-m", "service", "probe", "check", "-"], input="nothing here\n",
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "no probe results" in done.stderr
