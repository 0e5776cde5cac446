"""Live-cluster exports (`kubectl get ... -o yaml`) give the same answers as the plain manifests.

The exports are built from ../shared/corpus by `tests.kube_export`: Pods with ownerReferences,
ReplicaSets, status, managedFields, Endpoints and EndpointSlices, as kubectl prints them.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from tests.kube_export import FULL_EXPORT, PODS_EXPORT, Cluster, cluster_from
from tests.service.console import netreason
from tests.shared import CORPUS, require_shared

SOCK_SHOP = [CORPUS / "sock-shop" / "complete-demo.yaml", CORPUS / "sock-shop" / "manifests-policy"]
SOCK_DEPS = str(CORPUS / "sock-shop" / "deps.yaml")


@pytest.fixture(scope="module")
def sock_shop_exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Sock Shop three ways: plain manifests, the README's List export with ReplicaSets, pods only."""
    require_shared()
    cluster = cluster_from(SOCK_SHOP, "sock-shop")
    out = tmp_path_factory.mktemp("exports")
    ways = {"list": cluster.export_yaml(*FULL_EXPORT), "pods": cluster.export_yaml(*PODS_EXPORT),
            "pods-without-owner-references": cluster.export_yaml(*PODS_EXPORT, strip_owner_refs=True),
            "deployments-and-pods": cluster.export_yaml("ns", "pods", "deploy", "svc", "netpol")}
    paths = {"plain": [str(p) for p in SOCK_SHOP]}
    for name, text in ways.items():
        (out / f"{name}.yaml").write_text(text)
        paths[name] = [str(out / f"{name}.yaml")]
    return paths


def _flows(paths: list[str]) -> dict:
    done = netreason("flows", *paths, "-n", "sock-shop", "-o", "json")
    assert done.code == 0, done.stderr
    return json.loads(done.stdout)


def _lint(paths: list[str]) -> dict:
    done = netreason("lint", *paths, "-n", "sock-shop", "--deps", SOCK_DEPS, "-o", "json", "--fail-on", "never")
    assert done.code == 0, done.stderr
    return json.loads(done.stdout)


def _broken(doc: dict) -> list[tuple]:
    return sorted((d["from"], d["to"], d["port"]) for d in doc["dependencies"] if not d["allowed"])


@pytest.mark.parametrize("way", ["list", "pods", "pods-without-owner-references", "deployments-and-pods"])
def test_sock_shop_export_gives_the_same_workloads_flows_and_broken_dependencies(sock_shop_exports, way):
    plain, live = _flows(sock_shop_exports["plain"]), _flows(sock_shop_exports[way])
    workloads = lambda doc: sorted((w["id"], w["kind"], w["replicas"]) for w in doc["workloads"])  # noqa: E731
    assert len(plain["workloads"]) == 14
    assert workloads(live) == workloads(plain)
    assert live["flows"] == plain["flows"]
    plain_lint, live_lint = _lint(sock_shop_exports["plain"]), _lint(sock_shop_exports[way])
    assert _broken(live_lint) == _broken(plain_lint) and len(_broken(plain_lint)) == 4
    assert live_lint["summary"]["by_severity"]["error"] == plain_lint["summary"]["by_severity"]["error"] == 4


def test_pods_of_an_export_keep_their_ips_for_ipblock_rules(sock_shop_exports):
    doc = _flows(sock_shop_exports["pods"])
    pod = yaml.safe_load(Path(sock_shop_exports["pods"][0]).read_text())["items"]
    carts_ip = next(p["status"]["podIP"] for p in pod if p["kind"] == "Pod"
                    and p["metadata"]["labels"].get("name") == "carts")
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "only-carts-ip", "namespace": "sock-shop"},
              "spec": {"podSelector": {"matchLabels": {"name": "carts-db"}},
                       "ingress": [{"from": [{"ipBlock": {"cidr": f"{carts_ip}/32"}}]}]}}
    extra = Path(sock_shop_exports["pods"][0]).parent / "ipblock.yaml"
    extra.write_text(yaml.safe_dump(policy))
    with_ip = _flows([*sock_shop_exports["pods"], str(extra)])
    pairs = {(f["from"], f["to"]) for f in with_ip["flows"]}
    assert ("sock-shop/carts", "sock-shop/carts-db") in pairs
    assert ("sock-shop/orders", "sock-shop/carts-db") not in pairs
    assert any(w["id"] == "sock-shop/carts" for w in doc["workloads"])


def _boutique_cluster() -> Cluster:
    require_shared()
    return cluster_from([CORPUS / "online-boutique"], "default")


def test_a_rollout_in_progress_stays_two_classes_of_one_workload_and_says_so(tmp_path):
    cluster = _boutique_cluster()
    pods = cluster.objects["pods"]
    old = next(p for p in pods if p["metadata"]["labels"].get("app") == "cartservice")
    new = copy.deepcopy(old)
    new["metadata"]["name"] = "cartservice-7d9c8b6f5b-qwxyz"
    new["metadata"]["uid"] = "new-pod-uid"
    new["metadata"]["labels"].update({"pod-template-hash": "7d9c8b6f5b", "version": "v2"})
    new["metadata"]["ownerReferences"][0].update({"name": "cartservice-7d9c8b6f5b", "uid": "new-rs-uid"})
    new["status"]["podIP"] = "10.244.99.99"
    pods.append(new)
    path = tmp_path / "rollout.yaml"
    path.write_text(cluster.export_yaml("pods", "deploy", "rs", "svc", "netpol"))
    done = netreason("flows", str(path), "-o", "json")
    assert done.code == 0, done.stderr
    doc = json.loads(done.stdout)
    variants = {w["id"]: w for w in doc["workloads"] if w["name"].startswith("cartservice")}
    assert set(variants) == {"default/cartservice", "default/cartservice@7d9c8b6f5b"}
    assert all(w["rollout_of"] == "default/cartservice" for w in variants.values())
    assert variants["default/cartservice@7d9c8b6f5b"]["labels"]["version"] == "v2"
    assert any("mid-rollout" in n and "default/cartservice@7d9c8b6f5b" in n for n in doc["notes"])
    table = netreason("flows", str(path))
    assert "mid-rollout" in table.stdout


def test_jobs_fold_into_their_cronjob_and_statefulset_pods_into_the_statefulset(tmp_path):
    docs = [
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
         "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                  "template": {"metadata": {"labels": {"app": "db"}},
                               "spec": {"containers": [{"name": "db", "image": "db",
                                                        "ports": [{"containerPort": 5432}]}]}}}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
         "spec": {"selector": {"matchLabels": {"app": "agent"}},
                  "template": {"metadata": {"labels": {"app": "agent"}},
                               "spec": {"containers": [{"name": "a", "image": "a"}]}}}},
    ]
    cluster = Cluster(docs)
    cron = {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "backup", "namespace": "default", "uid": "cj"},
            "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": {
                "metadata": {"labels": {"app": "backup"}},
                "spec": {"restartPolicy": "OnFailure", "containers": [{"name": "b", "image": "b"}]}}}}}}
    job = {"apiVersion": "batch/v1", "kind": "Job",
           "metadata": {"name": "backup-29000000", "namespace": "default", "uid": "job1",
                        "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "backup", "uid": "cj",
                                             "controller": True}]},
           "spec": {"template": {"metadata": {"labels": {"app": "backup", "job-name": "backup-29000000"}},
                                 "spec": {"restartPolicy": "OnFailure", "containers": [{"name": "b", "image": "b"}]}}}}
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "backup-29000000-abcde", "namespace": "default",
                        "labels": {"app": "backup", "job-name": "backup-29000000"},
                        "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "backup-29000000",
                                             "uid": "job1", "controller": True}]},
           "spec": {"restartPolicy": "OnFailure", "containers": [{"name": "b", "image": "b"}]},
           "status": {"podIP": "10.244.1.1"}}
    export = cluster.export("pods", "sts", "ds")
    export["items"] += [cron, job, pod]
    path = tmp_path / "export.yaml"
    path.write_text(yaml.safe_dump(export))
    for extra in ([], ["--strict"]):
        done = netreason("flows", str(path), "-o", "json", *extra)
        assert done.code == 0, done.stderr
        got = sorted((w["id"], w["kind"], w["replicas"]) for w in json.loads(done.stdout)["workloads"])
        assert got == [("default/agent", "DaemonSet", 2), ("default/backup", "CronJob", 1),
                       ("default/db", "StatefulSet", 3)]
    stripped = tmp_path / "stripped.yaml"
    stripped.write_text(cluster.export_yaml("pods", strip_owner_refs=True))
    got = sorted((w["id"], w["kind"])
                 for w in json.loads(netreason("flows", str(stripped), "-o", "json").stdout)["workloads"])
    assert got == [("default/agent", "DaemonSet"), ("default/db", "StatefulSet")]


def test_a_pod_whose_owner_is_a_replication_controller_folds_into_it(tmp_path):
    rc = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "legacy", "uid": "rc1"},
          "spec": {"replicas": 1, "selector": {"app": "legacy"},
                   "template": {"metadata": {"labels": {"app": "legacy"}},
                                "spec": {"containers": [{"name": "l", "image": "l"}]}}}}
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "legacy-x1y2z", "labels": {"app": "legacy"},
                        "ownerReferences": [{"apiVersion": "v1", "kind": "ReplicationController", "name": "legacy",
                                             "uid": "rc1", "controller": True}]},
           "spec": {"containers": [{"name": "l", "image": "l"}]}}
    path = tmp_path / "rc.yaml"
    path.write_text(yaml.safe_dump_all([rc, pod]))
    doc = json.loads(netreason("flows", str(path), "-o", "json").stdout)
    assert [(w["id"], w["kind"]) for w in doc["workloads"]] == [("default/legacy", "ReplicationController")]
