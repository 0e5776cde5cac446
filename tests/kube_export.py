"""Live-cluster exports built from plain manifests, shaped as `kubectl get -o yaml` prints them.

What a cluster adds to applied manifests: uid, resourceVersion, generation, creationTimestamp,
managedFields, the last-applied annotation and `status` on every object; ReplicaSets named
`DEPLOYMENT-HASH` and Pods named `REPLICASET-xxxxx` with controller ownerReferences and the
`pod-template-hash` label; StatefulSet pods `NAME-ORDINAL` and DaemonSet pods with
`controller-revision-hash`; Pod IPs in `status.podIP(s)`; Endpoints and EndpointSlices for
every Service with a selector. Deterministic (names and IPs come from hashes of the input).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

#: kubectl's "safe" alphabet for generated name suffixes (no vowels, no confusable digits).
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_TIME = "2026-11-30T09:12:44Z"


def read_docs(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Every object in the files (directories searched for *.yaml), in order."""
    docs: list[dict[str, Any]] = []
    for path in paths:
        files = sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
        for file in files:
            docs += [d for d in yaml.safe_load_all(file.read_text()) if isinstance(d, dict) and d.get("kind")]
    return docs


def _suffix(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:length])


def _uid(seed: str) -> str:
    h = hashlib.sha256(("uid:" + seed).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _ip(seed: str, prefix: str) -> str:
    b = hashlib.sha256(seed.encode()).digest()
    return f"{prefix}.{b[0] % 250 + 1}.{b[1] % 250 + 1}"


def _live_meta(obj: dict[str, Any], namespace: str | None) -> dict[str, Any]:
    """metadata as the API server returns it, applied with `kubectl apply`."""
    meta = copy.deepcopy(obj.get("metadata") or {})
    kind, name = obj["kind"], meta.get("name", "")
    if namespace is not None:
        meta["namespace"] = namespace
    applied = json.dumps({**obj, "metadata": {k: v for k, v in (obj.get("metadata") or {}).items()}}, sort_keys=True)
    meta.setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = applied + "\n"
    meta.update({
        "uid": _uid(f"{kind}/{namespace}/{name}"), "resourceVersion": str(int(_uid(name)[:6], 16)),
        "creationTimestamp": _TIME, "generation": 1,
        "managedFields": [{
            "apiVersion": obj.get("apiVersion"), "fieldsType": "FieldsV1", "manager": "kubectl-client-side-apply",
            "operation": "Update", "time": _TIME,
            "fieldsV1": {"f:metadata": {"f:annotations": {".": {},
                                                          "f:kubectl.kubernetes.io/last-applied-configuration": {}}},
                         "f:spec": {}},
        }],
    })
    return meta


def _owner(kind: str, api_version: str, meta: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"apiVersion": api_version, "kind": kind, "name": meta["name"], "uid": meta["uid"],
             "controller": True, "blockOwnerDeletion": True}]


class Cluster:
    """Applies plain manifests to a simulated cluster and exports objects as kubectl does."""

    def __init__(self, docs: list[dict[str, Any]], namespace: str = "default") -> None:
        self.namespace = namespace
        self.objects: dict[str, list[dict[str, Any]]] = {}
        for doc in docs:
            self._apply(doc)

    def export(self, *kinds: str, strip_owner_refs: bool = False) -> dict[str, Any]:
        """A `kind: List` of the given kinds (lower-case plural, as on the kubectl command line)."""
        items = [copy.deepcopy(o) for kind in kinds for o in self.objects.get(kind, [])]
        if strip_owner_refs:
            for item in items:
                item["metadata"].pop("ownerReferences", None)
        return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}

    def export_yaml(self, *kinds: str, strip_owner_refs: bool = False) -> str:
        return yaml.safe_dump(self.export(*kinds, strip_owner_refs=strip_owner_refs), sort_keys=True)

    # --- applying ----------------------------------------------------------------------

    def _add(self, plural: str, obj: dict[str, Any]) -> None:
        self.objects.setdefault(plural, []).append(obj)

    def _apply(self, doc: dict[str, Any]) -> None:
        kind = doc["kind"]
        ns = None if kind == "Namespace" else (doc.get("metadata") or {}).get("namespace") or self.namespace
        obj = copy.deepcopy(doc)
        obj["metadata"] = _live_meta(doc, ns)
        if kind == "Namespace":
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
            obj["spec"], obj["status"] = {"finalizers": ["kubernetes"]}, {"phase": "Active"}
            self.objects["ns"] = [o for o in self.objects.get("ns", [])
                                  if o["metadata"]["name"] != obj["metadata"]["name"]]
            self._add("ns", obj)
        elif kind == "Deployment":
            self._deployment(obj)
        elif kind in ("StatefulSet", "DaemonSet"):
            self._revisioned(obj)
        elif kind == "Service":
            self._service(obj)
        elif kind == "NetworkPolicy":
            self._add("netpol", obj)
        else:
            self._add(kind.lower() + "s", obj)

    def _deployment(self, dep: dict[str, Any]) -> None:
        meta, replicas = dep["metadata"], dep["spec"].get("replicas", 1)
        meta.setdefault("annotations", {})["deployment.kubernetes.io/revision"] = "1"
        dep["spec"].setdefault("strategy", {"type": "RollingUpdate",
                                            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
        dep["status"] = {"availableReplicas": replicas, "readyReplicas": replicas, "replicas": replicas,
                         "updatedReplicas": replicas, "observedGeneration": 1,
                         "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]}
        self._add("deploy", dep)
        template_hash = _suffix(f"rs/{meta['namespace']}/{meta['name']}", 10)
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {
            "name": f"{meta['name']}-{template_hash}", "namespace": meta["namespace"],
            "labels": {**dep["spec"]["template"]["metadata"].get("labels", {}), "pod-template-hash": template_hash},
            "annotations": {"deployment.kubernetes.io/desired-replicas": str(replicas),
                            "deployment.kubernetes.io/revision": "1"},
            "uid": _uid(f"rs/{meta['name']}"), "resourceVersion": "4711", "generation": 1,
            "creationTimestamp": _TIME, "ownerReferences": _owner("Deployment", "apps/v1", meta),
            "managedFields": [{"apiVersion": "apps/v1", "fieldsType": "FieldsV1", "manager": "kube-controller-manager",
                               "operation": "Update", "time": _TIME, "fieldsV1": {"f:spec": {}}}]},
            "spec": {"replicas": replicas, "selector": copy.deepcopy(dep["spec"]["selector"]),
                     "template": copy.deepcopy(dep["spec"]["template"])},
            "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas}}
        rs["spec"]["selector"].setdefault("matchLabels", {})["pod-template-hash"] = template_hash
        rs["spec"]["template"]["metadata"].setdefault("labels", {})["pod-template-hash"] = template_hash
        self._add("rs", rs)
        for i in range(replicas):
            rs_name = rs["metadata"]["name"]
            name = f"{rs_name}-{_suffix(f'{i}/{rs_name}', 5)}"
            self._pod(name, rs["spec"]["template"], rs["metadata"], "ReplicaSet", {})

    def _revisioned(self, obj: dict[str, Any]) -> None:
        meta, kind = obj["metadata"], obj["kind"]
        replicas = obj["spec"].get("replicas", 1) if kind == "StatefulSet" else 2
        revision = _suffix(f"rev/{meta['name']}", 10)
        obj["status"] = {"replicas": replicas, "readyReplicas": replicas, "observedGeneration": 1}
        self._add("sts" if kind == "StatefulSet" else "ds", obj)
        for i in range(replicas):
            if kind == "StatefulSet":
                name = f"{meta['name']}-{i}"
                extra = {"controller-revision-hash": f"{meta['name']}-{revision}",
                         "statefulset.kubernetes.io/pod-name": name, "apps.kubernetes.io/pod-index": str(i)}
            else:
                name = f"{meta['name']}-{_suffix(str(i) + '/' + meta['name'], 5)}"
                extra = {"controller-revision-hash": revision, "pod-template-generation": "1"}
            self._pod(name, obj["spec"]["template"], meta, kind, extra)

    def _pod(self, name: str, template: dict[str, Any], owner: dict[str, Any], owner_kind: str,
             extra_labels: dict[str, str]) -> None:
        ns = owner["namespace"]
        spec = copy.deepcopy(template.get("spec") or {})
        spec.update({"nodeName": "node-" + _suffix(name, 1), "dnsPolicy": spec.get("dnsPolicy", "ClusterFirst"),
                     "restartPolicy": "Always", "schedulerName": "default-scheduler",
                     "serviceAccountName": spec.get("serviceAccountName", "default"),
                     "terminationGracePeriodSeconds": 30, "enableServiceLinks": True,
                     "preemptionPolicy": "PreemptLowerPriority"})
        for c in spec.get("containers") or ():
            c.update({"terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                      "imagePullPolicy": c.get("imagePullPolicy", "IfNotPresent")})
            for p in c.get("ports") or ():
                p.setdefault("protocol", "TCP")
        ip = _ip(f"pod/{ns}/{name}", "10.244")
        labels = {**(template.get("metadata") or {}).get("labels", {}), **extra_labels}
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {
            "name": name, "namespace": ns, "labels": labels, "uid": _uid(f"pod/{ns}/{name}"),
            "generateName": name.rpartition("-")[0] + "-", "resourceVersion": "5123", "creationTimestamp": _TIME,
            "annotations": dict((template.get("metadata") or {}).get("annotations") or {}),
            "ownerReferences": _owner(owner_kind, "apps/v1" if owner_kind != "Job" else "batch/v1", owner),
            "managedFields": [{"apiVersion": "v1", "fieldsType": "FieldsV1", "manager": "kubelet",
                               "operation": "Update",
                               "subresource": "status", "time": _TIME,
                               "fieldsV1": {"f:status": {"f:podIP": {},
                                                         "f:podIPs": {".": {}, 'k:{"ip":"' + ip + '"}': {}}}}}]},
            "spec": spec,
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "hostIP": "192.168.49.2",
                       "qosClass": "BestEffort", "startTime": _TIME,
                       "conditions": [{"type": t, "status": "True", "lastTransitionTime": _TIME}
                                      for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
                       "containerStatuses": [{"name": c.get("name"), "ready": True, "restartCount": 0,
                                              "image": c.get("image"), "imageID": "", "started": True,
                                              "state": {"running": {"startedAt": _TIME}}}
                                             for c in spec.get("containers") or ()]}}
        self._add("pods", pod)

    def _service(self, svc: dict[str, Any]) -> None:
        meta, spec = svc["metadata"], svc.setdefault("spec", {})
        ip = _ip(f"svc/{meta['namespace']}/{meta['name']}", "10.96")
        spec.update({"clusterIP": ip, "clusterIPs": [ip], "internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"],
                     "ipFamilyPolicy": "SingleStack", "sessionAffinity": "None", "type": spec.get("type", "ClusterIP")})
        for p in spec.get("ports") or ():
            p.setdefault("protocol", "TCP")
            p.setdefault("targetPort", p["port"])
        svc["status"] = {"loadBalancer": {}}
        self._add("svc", svc)
        self._pending_endpoints = [*getattr(self, "_pending_endpoints", []), svc]

    def finish_endpoints(self) -> Cluster:
        """Endpoints and EndpointSlices for every Service with a selector, from the pods it selects."""
        for svc in getattr(self, "_pending_endpoints", []):
            selector = (svc["spec"].get("selector") or {})
            if not selector:
                continue
            ns = svc["metadata"]["namespace"]
            pods = [p for p in self.objects.get("pods", []) if p["metadata"]["namespace"] == ns
                    and all(p["metadata"]["labels"].get(k) == v for k, v in selector.items())]
            ports = [{"name": p.get("name"), "port": _target(p, pods), "protocol": p["protocol"]}
                     for p in svc["spec"].get("ports") or ()]
            addresses = [{"ip": p["status"]["podIP"], "nodeName": p["spec"]["nodeName"],
                          "targetRef": {"kind": "Pod", "name": p["metadata"]["name"], "namespace": ns,
                                        "uid": p["metadata"]["uid"]}} for p in pods]
            self._add("ep", {"apiVersion": "v1", "kind": "Endpoints", "metadata": {
                "name": svc["metadata"]["name"], "namespace": ns, "uid": _uid("ep/" + svc["metadata"]["name"]),
                "resourceVersion": "6001", "creationTimestamp": _TIME,
                "labels": dict(svc["metadata"].get("labels") or {})},
                "subsets": [{"addresses": addresses, "ports": ports}] if addresses else []})
            self._add("endpointslices", {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {
                "name": f"{svc['metadata']['name']}-{_suffix('eps' + svc['metadata']['name'], 5)}", "namespace": ns,
                "generateName": svc["metadata"]["name"] + "-",
                "labels": {"kubernetes.io/service-name": svc["metadata"]["name"],
                           "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                "ownerReferences": _owner("Service", "v1", svc["metadata"]),
                "uid": _uid("eps/" + svc["metadata"]["name"]),
                "resourceVersion": "6002", "creationTimestamp": _TIME},
                "addressType": "IPv4", "ports": ports,
                "endpoints": [{"addresses": [a["ip"]], "nodeName": a["nodeName"], "targetRef": a["targetRef"],
                               "conditions": {"ready": True, "serving": True, "terminating": False}}
                              for a in addresses]})
        self._pending_endpoints = []
        return self


def _target(port: dict[str, Any], pods: list[dict[str, Any]]) -> int:
    target = port["targetPort"]
    if isinstance(target, int):
        return target
    for pod in pods:
        for c in pod["spec"].get("containers") or ():
            for cp in c.get("ports") or ():
                if cp.get("name") == target:
                    return int(cp["containerPort"])
    return int(port["port"])


def cluster_from(paths: Iterable[Path], namespace: str = "default") -> Cluster:
    """A simulated cluster with every object of the files applied, endpoints included."""
    return Cluster(read_docs(paths), namespace).finish_endpoints()


#: The README's export command, plus ReplicaSets, Endpoints and EndpointSlices.
FULL_EXPORT = ("ns", "pods", "deploy", "rs", "sts", "ds", "svc", "ep", "endpointslices", "netpol")
#: What `kubectl get ns,pods,svc,netpol -A -o yaml` prints: the pods without their controllers.
PODS_EXPORT = ("ns", "pods", "svc", "ep", "netpol")
