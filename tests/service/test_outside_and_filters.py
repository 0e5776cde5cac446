"""Issue 9, bullet 5 and the gaps after it, through the console script on kubectl-shaped exports.

Sock Shop (../shared/corpus) is applied to a simulated cluster and exported as `kubectl get -o yaml`
prints it (tests.kube_export), with a few objects added to exercise the outside: a policy with an
ipBlock `except` and ports on both sides, a policy whose policyTypes leave its egress rules out, and
a namespace with a workload no policy selects.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.kube_export import FULL_EXPORT, PODS_EXPORT, Cluster, cluster_from, read_docs
from tests.service.console import netreason
from tests.shared import CORPUS, require_shared

SOCK_SHOP = [CORPUS / "sock-shop" / "complete-demo.yaml", CORPUS / "sock-shop" / "manifests-policy"]
SOCK_DEPS = str(CORPUS / "sock-shop" / "deps.yaml")

EXTRA = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: payment-outside, namespace: sock-shop}
spec:
  podSelector: {matchLabels: {name: payment}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{ipBlock: {cidr: 192.168.0.0/16}}]
    ports: [{port: 80, protocol: TCP}]
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]
    ports: [{port: 443, protocol: TCP}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: queue-master-ingress-only, namespace: sock-shop}
spec:
  podSelector: {matchLabels: {name: queue-master}}
  policyTypes: [Ingress]
  egress:
  - to: [{ipBlock: {cidr: 1.2.3.4/32}}]
---
apiVersion: v1
kind: Namespace
metadata: {name: tools}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: debug, namespace: tools, labels: {app: debug}}
spec:
  replicas: 1
  selector: {matchLabels: {app: debug}}
  template:
    metadata: {labels: {app: debug, tier: ops}}
    spec:
      containers: [{name: debug, image: busybox, ports: [{containerPort: 8080}]}]
"""


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Sock Shop plus EXTRA, as the README's List export with ReplicaSets, Endpoints and EndpointSlices."""
    require_shared()
    docs = read_docs(SOCK_SHOP) + [d for d in yaml.safe_load_all(EXTRA) if d]
    cluster = Cluster(docs, "sock-shop").finish_endpoints()
    path = tmp_path_factory.mktemp("outside") / "cluster.yaml"
    path.write_text(cluster.export_yaml(*FULL_EXPORT))
    return str(path)


def _json(*args: str) -> dict[str, Any]:
    done = netreason(*args, "-o", "json")
    assert done.code == 0, done.stderr
    return json.loads(done.stdout)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# --- outside traffic as rows and nodes ------------------------------------------------------------------


def test_json_lists_ingress_from_outside_beside_egress(export: str) -> None:
    doc = _json("flows", export)
    ingress = {(e["to"], e["cidr"], tuple(e["except"]), e["protocol"], tuple(map(tuple, e["ports"])), e["rule"])
               for e in doc["external_ingress"]}
    # front-end's ingress rule has no `from`: every source, outside addresses included, on 8079 only.
    assert ("sock-shop/front-end", "0.0.0.0/0", (), "TCP", ((8079, 8079),),
            "ingress rule 0 of sock-shop/front-end-access") in ingress
    assert ("sock-shop/front-end", "::/0", (), "TCP", ((8079, 8079),),
            "ingress rule 0 of sock-shop/front-end-access") in ingress
    # An ipBlock peer admits its block on the rule's ports; a pod no policy isolates admits everything.
    assert ("sock-shop/payment", "192.168.0.0/16", (), "TCP", ((80, 80),),
            "ingress rule 0 of sock-shop/payment-outside") in ingress
    assert ("tools/debug", "0.0.0.0/0", (), "UDP", ((1, 65535),), "unrestricted") in ingress
    # Isolated pods whose rules name only pods admit nothing from outside.
    assert not [e for e in doc["external_ingress"] if e["to"] == "sock-shop/carts-db"]
    assert {"from", "cidr", "except", "protocol", "ports", "rule"} <= set(doc["external_egress"][0])


def test_csv_has_explicit_outside_rows_with_except_ports_and_policy_types(export: str) -> None:
    done = netreason("flows", export, "-o", "csv")
    assert done.code == 0, done.stderr
    outside = {(r["from"], r["to"], r["protocol"], r["ports"]) for r in _rows(done.stdout)
               if "outside:" in r["from"] + r["to"]}
    assert ("sock-shop/carts", "outside:anywhere", "TCP", "1-65535") in outside  # egress not isolated
    assert ("outside:anywhere", "sock-shop/front-end", "TCP", "8079-8079") in outside
    # payment's egress is isolated: only 443 to 0.0.0.0/0 except 10.0.0.0/8, nothing else outside.
    payment_out = {row for row in outside if row[0] == "sock-shop/payment"}
    assert payment_out == {("sock-shop/payment", "outside:0.0.0.0/0 except 10.0.0.0/8", "TCP", "443-443")}
    assert ("outside:192.168.0.0/16", "sock-shop/payment", "TCP", "80-80") in outside
    # policyTypes [Ingress]: the egress rules are ignored, the egress stays unrestricted.
    assert ("sock-shop/queue-master", "outside:anywhere", "UDP", "1-65535") in outside
    assert not [row for row in outside if "1.2.3.4" in row[1]]


def test_table_dot_and_markdown_show_the_outside_and_say_what_a_missing_row_means(export: str) -> None:
    table = netreason("flows", export, "--limit", "0", env={"TERM": "dumb"})
    assert table.code == 0 and "anything not listed is denied" not in table.stdout
    assert "Workload pairs not listed are denied" in table.stdout
    line = next(x for x in table.stdout.splitlines() if "outside:192.168.0.0/16" in x)
    assert "sock-shop/payment" in line and " 80 " in f"{line} "
    dot = netreason("flows", export, "-o", "dot").stdout
    assert '"outside:anywhere" [shape=ellipse, style=dashed];' in dot
    assert '"outside:anywhere" -> "sock-shop/front-end" [label="TCP/8079"];' in dot
    assert '"sock-shop/payment" -> "outside:0.0.0.0/0 except 10.0.0.0/8" [label="TCP/443"];' in dot
    md = netreason("flows", export, "-o", "markdown")
    assert md.code == 0 and "| outside:anywhere | sock-shop/front-end | 8079 | - | - |" in md.stdout
    assert "| sock-shop/front-end | sock-shop/catalogue | 80 | - | - |" in md.stdout


def test_the_table_screenful_counts_outside_rows_and_says_what_it_left_out(export: str) -> None:
    table = netreason("flows", export, "--limit", "40", env={"TERM": "dumb"})
    rows = [x for x in table.stdout.splitlines() if "/" in x and ("sock-shop/" in x or "tools/" in x)
            and not x.startswith(("...", "note:", "Workload pairs"))]
    assert table.code == 0 and len(rows) <= 40
    assert "outside traffic of" in table.stdout and "--to outside" in table.stdout


def test_markdown_stays_under_its_limit_and_says_what_it_left_out(export: str) -> None:
    from service.renderers.flows_markdown import render_markdown

    doc = _json("flows", export)
    text = render_markdown(doc, limit=3000)
    assert len(text) <= 3000 and "flow rows" in text and "-o csv" in text


# --- filters on flows -----------------------------------------------------------------------------------


def test_from_keeps_only_that_sources_rows_computed_on_the_whole_bundle(export: str) -> None:
    whole = _json("flows", export)
    doc = _json("flows", export, "--from", "sock-shop/front-end")
    assert doc["flows"] and all(f["from"] == "sock-shop/front-end" for f in doc["flows"])
    assert doc["flows"] == [f for f in whole["flows"] if f["from"] == "sock-shop/front-end"]
    assert doc["external_ingress"] == [] and doc["external_egress"]
    assert doc["filter"]["from"] == "sock-shop/front-end" and doc["filter"]["flows_total"] == len(whole["flows"])
    assert doc["workloads"] == whole["workloads"] and doc["summary"] == whole["summary"]


def test_to_takes_a_service_or_outside_and_n_sets_the_namespace_of_bare_names(export: str) -> None:
    via_service = _json("flows", export, "--to", "svc/front-end", "-n", "sock-shop")
    assert via_service["flows"] and {f["to"] for f in via_service["flows"]} == {"sock-shop/front-end"}
    assert {e["to"] for e in via_service["external_ingress"]} == {"sock-shop/front-end"}
    rows = _rows(netreason("flows", export, "--to", "outside", "-o", "csv").stdout)
    assert rows and all(r["to"].startswith("outside:") for r in rows)
    assert {r["from"] for r in rows} >= {"sock-shop/carts", "tools/debug"}


def test_namespace_and_selector_keep_rows_with_a_matching_end(export: str) -> None:
    tools = _rows(netreason("flows", export, "-n", "tools", "-o", "csv").stdout)
    assert tools and all("tools/" in r["from"] + r["to"] for r in tools)
    every = _rows(netreason("flows", export, "-n", "tools", "-A", "-o", "csv").stdout)
    assert len(every) > len(tools)
    picked = _rows(netreason("flows", export, "-l", "name in (carts,carts-db)", "-o", "csv").stdout)
    ends = {"sock-shop/carts", "sock-shop/carts-db"}
    assert picked and all(r["from"] in ends or r["to"] in ends for r in picked)
    assert {("sock-shop/carts", "sock-shop/front-end"), ("sock-shop/carts-db", "outside:anywhere")} <= {
        (r["from"], r["to"]) for r in picked}
    ops = _rows(netreason("flows", export, "-l", "tier=ops,!nosuch", "-o", "csv").stdout)
    assert ops and all("tools/debug" in (r["from"], r["to"]) for r in ops)
    not_ops = netreason("flows", export, "-l", "tier notin (ops)", "-n", "tools")
    assert not_ops.code == 2 and "-l tier notin (ops): no workload in namespace tools" in not_ops.stderr


@pytest.mark.parametrize("args, named", [
    (("--from", "nosuch"), "--from nosuch"),
    (("--to", "sock-shop/nosuch"), "--to sock-shop/nosuch"),
    (("-n", "nons"), "-n nons"),
    (("-l", "name=zzz"), "-l name=zzz"),
    (("-l", "env in ()"), "-l env in ()"),
])
def test_a_filter_that_matches_no_workload_exits_2_naming_it(export: str, args: tuple[str, ...], named: str) -> None:
    for command in ("flows", "lint"):
        done = netreason(command, export, *args)
        assert done.code == 2 and named in done.stderr, (command, done.stderr)


def test_a_filter_that_matches_workloads_but_no_flow_exits_1(export: str) -> None:
    done = netreason("flows", export, "--from", "sock-shop/carts", "--to", "sock-shop/user-db")
    assert done.code == 1 and "no allowed flow matches --from sock-shop/carts --to sock-shop/user-db" in done.stderr
    assert "-n tools" in netreason("flows", export, "-n", "tools", "-o", "summary").stderr
    assert netreason("flows", export, "-n", "tools", "-o", "summary").code == 2


def test_help_explains_the_filters_with_examples() -> None:
    for command in ("flows", "lint"):
        text = netreason(command, "--help").stdout
        assert "--from" in text and "-l app=web,tier!=db" in text and "env in (prod,staging)" in text


# --- filters on lint ------------------------------------------------------------------------------------


def test_lint_from_keeps_the_sources_findings_and_exit_code_follows_them(export: str) -> None:
    done = netreason("lint", export, "--deps", SOCK_DEPS, "--from", "sock-shop/front-end", "-o", "json")
    doc = json.loads(done.stdout)
    assert doc["dependencies"] and {d["from"] for d in doc["dependencies"]} == {"sock-shop/front-end"}
    broken = [f for f in doc["findings"] if f["rule"] == "dependency-broken"]
    assert broken and all(f["object"] == "sock-shop/front-end" for f in broken)
    assert doc["summary"]["findings"] == len(doc["findings"]) and done.code == 1
    assert "finding(s) shown" in done.stderr
    quiet = netreason("lint", export, "--deps", SOCK_DEPS, "-n", "tools", "-o", "json")
    shown = json.loads(quiet.stdout)["findings"]
    assert all(f["rule"] != "dependency-broken" for f in shown)
    assert quiet.code == (1 if any(f["severity"] == "error" for f in shown) else 0)


# --- gaps: deps file in a scanned directory, diff REV:PATH, pods-only labels, unresolved deps -----------


def test_a_deps_file_inside_a_scanned_directory_is_not_read_as_manifests(tmp_path: Path, monkeypatch) -> None:
    require_shared()
    src = CORPUS / "online-boutique"
    for name in ("kubernetes-manifests.yaml", "network-policies.yaml", "deps.yaml"):
        shutil.copy(src / name, tmp_path / name)
    (tmp_path / "team").mkdir()
    shutil.copy(src / "deps.yaml", tmp_path / "team" / "needs.yml")  # any name: recognised by content
    monkeypatch.chdir(tmp_path)
    done = netreason("lint", ".", "-o", "json", "--fail-on", "error")
    assert done.code == 0, done.stderr
    assert not [f for f in json.loads(done.stdout)["findings"] if f["rule"] == "invalid-object"]
    assert "needs.yml" in done.stderr and "--deps" in done.stderr and "needs a kind" not in done.stderr
    with_deps = netreason("analyze", ".", "--deps", "deps.yaml", "--strict", "-o", "json")
    assert with_deps.code == 0 and "needs a kind" not in with_deps.stderr
    assert len(json.loads(with_deps.stdout)["ground_truth"]["dependencies"]) >= 16


def test_corpus_online_boutique_analyze_reads_no_deps_entry_as_an_object(monkeypatch) -> None:
    require_shared()
    monkeypatch.chdir(CORPUS / "online-boutique")
    for args in ((), ("--deps", "deps.yaml")):
        done = netreason("analyze", ".", *args, "--strict")
        assert done.code == 0 and "invalid" not in done.stderr and "needs a kind" not in done.stderr


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=repo, check=True,
                   capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_diff_rev_path_sides_fail_closed_like_plain_paths(tmp_path: Path, monkeypatch) -> None:
    require_shared()
    good = tmp_path / "good"
    good.mkdir()
    (good / "cluster.yaml").write_text(cluster_from(SOCK_SHOP, "sock-shop").export_yaml(*FULL_EXPORT))
    repo = tmp_path / "repo"
    (repo / "k8s").mkdir(parents=True)
    (repo / "k8s" / "broken.yaml").write_text("kind: Deployment\n  metadata: [\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "unparseable")
    monkeypatch.chdir(repo)
    unparseable = netreason("diff", "HEAD:k8s", str(good))
    assert unparseable.code == 2 and "could not parse k8s/broken.yaml" in unparseable.stderr
    (repo / "k8s" / "broken.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    _git(repo, "commit", "-qam", "no workloads")
    nothing = netreason("diff", "HEAD:k8s", "k8s")
    assert nothing.code == 2 and "no workloads" in nothing.stderr
    added = netreason("diff", "HEAD:k8s", str(good), "-o", "json", "--fail-on", "never")
    assert added.code == 0, added.stderr  # one empty side: an app added, a legitimate diff


def test_pods_only_workloads_carry_the_template_labels_not_revision_hashes(tmp_path: Path) -> None:
    require_shared()
    cluster = cluster_from(SOCK_SHOP, "sock-shop")
    pods = tmp_path / "pods.yaml"
    pods.write_text(cluster.export_yaml(*PODS_EXPORT, strip_owner_refs=True))
    plain, live = _json("flows", *map(str, SOCK_SHOP), "-n", "sock-shop"), _json("flows", str(pods))
    labels = lambda doc: {w["id"]: w["labels"] for w in doc["workloads"]}  # noqa: E731
    assert labels(live) == labels(plain)
    assert not [w for w in live["workloads"] if {"pod-template-hash", "controller-revision-hash"} & set(w["labels"])]
    assert live["flows"] == plain["flows"]
    # Selecting by the pods' labels still works: -l matches the folded workloads.
    assert _rows(netreason("flows", str(pods), "-l", "name=carts", "-o", "csv").stdout)


def test_lint_deps_naming_missing_workloads_is_an_error_finding_in_every_format(export: str, tmp_path: Path) -> None:
    deps = tmp_path / "deps.yaml"
    deps.write_text("- from: front-end\n  to: carts\n  namespace: sock-shop\n  port: 80\n"
                    "- from: ghost\n  to: carts\n  namespace: sock-shop\n  port: 80\n")
    base = ("lint", export, "--deps", str(deps))
    doc = json.loads(netreason(*base, "-o", "json").stdout)
    [found] = [f for f in doc["findings"] if f["rule"] == "dependency-unresolved"]
    assert found["severity"] == "error" and "ghost" in found["message"] and found["line"] == 5
    text = netreason(*base)
    assert text.code == 1 and "dependency-unresolved" in text.stdout and "ghost" in text.stdout
    sarif = json.loads(netreason(*base, "-o", "sarif").stdout)
    assert [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "dependency-unresolved"]
    assert "dependency-unresolved" in netreason(*base, "-o", "markdown").stdout
    # A filter never hides it: the entry may concern anything.
    filtered = netreason(*base, "-n", "tools", "-o", "json")
    assert filtered.code == 1 and "dependency-unresolved" in filtered.stdout
