"""Render a synthetic cluster as Kubernetes manifests and write them to disk.

Layouts: `per-namespace` (one multi-document YAML file per namespace), `single` (one
multi-document file, as `kubectl get -o yaml` piped through `yq -s` gives), and JSON
(one `kind: List` file per namespace, the shape of `kubectl get -o json`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .cluster_world import GenNamespace, GenWorkload

Manifest = dict[str, Any]
YAML_LAYOUTS = ("per-namespace", "single")


def namespace_manifest(ns: GenNamespace) -> Manifest:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns.name, "labels": dict(ns.labels)}}


def _pod_spec(w: GenWorkload) -> dict[str, Any]:
    container: dict[str, Any] = {"name": w.name, "image": f"registry.example.com/{w.name}:1.0"}
    if w.ports:
        container["ports"] = [{"name": p.name, "containerPort": p.port, "protocol": p.protocol} for p in w.ports]
    return {"containers": [container]}


def workload_manifest(w: GenWorkload) -> Manifest:
    """A Deployment, StatefulSet or bare Pod whose pods carry `w.labels`."""
    meta = {"name": w.name, "namespace": w.namespace, "labels": dict(w.labels)}
    if w.kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": _pod_spec(w)}
    selector_key = "app" if "app" in w.labels else next(iter(w.labels))
    spec: dict[str, Any] = {
        "replicas": w.replicas,
        "selector": {"matchLabels": {selector_key: w.labels[selector_key]}},
        "template": {"metadata": {"labels": dict(w.labels)}, "spec": _pod_spec(w)},
    }
    if w.kind == "StatefulSet":
        spec["serviceName"] = w.name
    return {"apiVersion": "apps/v1", "kind": w.kind, "metadata": meta, "spec": spec}


def service_manifest(w: GenWorkload) -> Manifest | None:
    """A ClusterIP Service in front of `w`'s serving ports; target ports by name."""
    if not w.serving_ports:
        return None
    ports = [{"name": p.name, "port": 53 if p.port == 53 else (80 if p.name == "http" else p.port),
              "targetPort": p.name, "protocol": p.protocol} for p in w.serving_ports]
    selector_key = "app" if "app" in w.labels else next(iter(w.labels))
    name = "kube-dns" if w.labels.get("k8s-app") == "kube-dns" else w.name  # as kubeadm names it
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": w.namespace},
            "spec": {"selector": {selector_key: w.labels[selector_key]}, "ports": ports}}


def write_yaml(docs_by_ns: dict[str, list[Manifest]], out_dir: Path, layout: str = "per-namespace") -> list[Path]:
    """Write multi-document YAML; returns the files written, sorted.

    Raises:
        ValueError: unknown layout.
    """
    if layout not in YAML_LAYOUTS:
        raise ValueError(f"unknown YAML layout {layout!r}; choose one of {', '.join(YAML_LAYOUTS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    groups = docs_by_ns if layout == "per-namespace" else {"cluster": [d for ds in docs_by_ns.values() for d in ds]}
    paths = []
    for name, docs in groups.items():
        path = out_dir / f"{name}.yaml"
        with path.open("w") as fh:
            yaml.dump_all(docs, fh, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False)
        paths.append(path)
    return sorted(paths)


def write_json(docs_by_ns: dict[str, list[Manifest]], out_dir: Path) -> list[Path]:
    """Write one `{"kind": "List", "items": [...]}` JSON file per namespace; returns them sorted."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, docs in docs_by_ns.items():
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}, separators=(",", ":")))
        paths.append(path)
    return sorted(paths)
