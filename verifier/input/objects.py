"""Model records built from validated manifest objects, with the API server's defaults.

The builders here assume `validate.validate_object` found no error in the object; they
apply the defaulting the API server would (protocol TCP, policyTypes, targetPort = port).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..model.bundle import (
    NAMESPACE_NAME_LABEL,
    ContainerPort,
    EnvVar,
    IPBlock,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Requirement,
    Rule,
    Service,
    ServicePort,
    SourceRef,
    Workload,
)
from .documents import FieldPath
from .validate import TEMPLATE_PATHS

#: Kinds whose `spec.replicas` counts the pods (default 1 when omitted).
REPLICATED_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"})


def namespace_from(data: dict[str, Any], source: SourceRef | None = None) -> Namespace:
    """A defined Namespace; it always carries `kubernetes.io/metadata.name: <name>`."""
    meta = data["metadata"]
    name: str = meta["name"]
    labels = dict(meta.get("labels") or {})
    # "The Kubernetes control plane sets an immutable label kubernetes.io/metadata.name on
    # all namespaces. The value of the label is the namespace name."
    labels[NAMESPACE_NAME_LABEL] = name
    return Namespace(name, labels, dict(meta.get("annotations") or {}), False, source)


def implicit_namespace(name: str) -> Namespace:
    """A namespace that objects use but the bundle does not define."""
    return Namespace(name, {NAMESPACE_NAME_LABEL: name}, implicit=True)


def workload_from(kind: str, data: dict[str, Any], namespace: str, source: SourceRef | None = None) -> Workload:
    """A Pod or pod-template owner as the pods it runs: template labels, ports, env, IPs."""
    template = _at(data, TEMPLATE_PATHS[kind])
    pod_meta = template.get("metadata") or {}
    spec = template.get("spec") or {}
    containers = _serving_containers(spec)
    return Workload(
        kind=kind,
        namespace=namespace,
        name=data["metadata"]["name"],
        labels=dict(pod_meta.get("labels") or {}),
        ports=tuple(_container_port(p) for c in containers for p in c.get("ports") or ()),
        pod_ips=_pod_ips(data) if kind == "Pod" else (),
        host_network=bool(spec.get("hostNetwork")),
        replicas=_replicas(kind, data),
        env=tuple(_env_var(_container_name(c), e) for c in containers for e in c.get("env") or ()),
        annotations=dict(pod_meta.get("annotations") or {}),
        source=source,
    )


def service_from(data: dict[str, Any], namespace: str, source: SourceRef | None = None) -> Service:
    """A Service; an empty or missing selector means endpoints are managed by hand (None)."""
    spec = data.get("spec") or {}
    ports = tuple(_service_port(p) for p in spec.get("ports") or ())
    selector = dict(spec["selector"]) if spec.get("selector") else None
    return Service(namespace, data["metadata"]["name"], selector, ports, spec.get("type") or "ClusterIP", source)


def network_policy_from(data: dict[str, Any], namespace: str, source: SourceRef | None = None) -> NetworkPolicy:
    """A NetworkPolicy with the API server's defaults applied (see `policy_types`)."""
    spec = data.get("spec") or {}
    return NetworkPolicy(
        namespace=namespace,
        name=data["metadata"]["name"],
        pod_selector=selector_from(spec.get("podSelector")),
        policy_types=policy_types(spec),
        ingress=tuple(_rule(r, "from") for r in spec.get("ingress") or ()),
        egress=tuple(_rule(r, "to") for r in spec.get("egress") or ()),
        source=source,
    )


def policy_types(spec: dict[str, Any]) -> tuple[str, ...]:
    """The policy's directions, in the order (Ingress, Egress).

    SetDefaults_NetworkPolicy: "Any policy that does not specify policyTypes implies at
    least Ingress", plus Egress when the policy has egress rules ("policies that contain
    an egress section are assumed to affect egress").
    """
    given = spec.get("policyTypes") or ()
    if not given:
        given = ("Ingress", "Egress") if spec.get("egress") else ("Ingress",)
    return tuple(t for t in ("Ingress", "Egress") if t in given)


_EVERYTHING = LabelSelector()


def selector_from(value: dict[str, Any] | None) -> LabelSelector:
    """A metav1.LabelSelector; null or `{}` selects everything (no requirements)."""
    if not value:
        return _EVERYTHING
    labels = value.get("matchLabels") or {}
    exprs = value.get("matchExpressions") or ()
    if not exprs:
        return _match_labels(tuple(labels.items()))
    requirements = [Requirement(key, "In", (item,)) for key, item in labels.items()]
    requirements += [_requirement(e) for e in exprs]
    return LabelSelector(tuple(requirements))


@lru_cache(maxsize=65536)
def _match_labels(labels: tuple[tuple[str, str], ...]) -> LabelSelector:
    # Selectors repeat across policies (every namespace's DNS rule, say): build each once.
    return LabelSelector(tuple(Requirement(key, "In", (item,)) for key, item in labels))


def _requirement(expr: dict[str, Any]) -> Requirement:
    return Requirement(expr["key"], expr["operator"], tuple(expr.get("values") or ()))


def _rule(rule: dict[str, Any] | None, peers_key: str) -> Rule:
    # "If this field is empty or missing, this rule matches all sources/destinations";
    # "If this field is empty or missing, this rule matches all ports".
    rule = rule or {}
    peers = rule.get(peers_key)
    ports = rule.get("ports")
    return Rule(
        peers=tuple(_peer(p) for p in peers) if peers else None,
        ports=tuple(_policy_port(p) for p in ports) if ports else None,
    )


def _peer(peer: dict[str, Any]) -> Peer:
    pods, namespaces, block = peer.get("podSelector"), peer.get("namespaceSelector"), peer.get("ipBlock")
    return Peer(
        pod_selector=selector_from(pods) if pods is not None else None,
        namespace_selector=selector_from(namespaces) if namespaces is not None else None,
        ip_block=IPBlock(block["cidr"], tuple(block.get("except") or ())) if block is not None else None,
    )


def _policy_port(port: dict[str, Any] | None) -> PolicyPort:
    port = port or {}  # a null item decodes to a zero port: every port of TCP
    return PolicyPort(port.get("protocol") or "TCP", port.get("port"), port.get("endPort"))


def _serving_containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Containers that run alongside the app: regular ones and native sidecars.

    An init container with `restartPolicy: Always` is a sidecar that keeps running
    (KEP-753), so its ports are served like a regular container's.
    """
    sidecars = [c for c in spec.get("initContainers") or () if c and c.get("restartPolicy") == "Always"]
    return [c for c in spec.get("containers") or () if c] + sidecars


def _container_name(container: dict[str, Any]) -> str:
    # A nameless container is only a warning (the name never changes traffic).
    name = container.get("name")
    return name if isinstance(name, str) else ""


def _container_port(port: dict[str, Any]) -> ContainerPort:
    return ContainerPort(port["containerPort"], port.get("protocol") or "TCP", port.get("name"))


def _env_var(container: str, env: dict[str, Any]) -> EnvVar:
    # A value taken from a Secret, ConfigMap or field (valueFrom) is unknown here.
    if env.get("valueFrom") is not None:
        return EnvVar(container, env["name"], None)
    return EnvVar(container, env["name"], env.get("value") or "")


def _service_port(port: dict[str, Any]) -> ServicePort:
    # "targetPort ... If this is not specified, the value of the 'port' field is used."
    # SetDefaults_Service also replaces 0 and "" (the zero values) with `port`.
    target = port.get("targetPort")
    if target is None or target == "" or (type(target) is int and target == 0):
        target = port["port"]
    return ServicePort(port["port"], target, port.get("protocol") or "TCP", port.get("name"))


def _pod_ips(data: dict[str, Any]) -> tuple[str, ...]:
    status = data.get("status") or {}
    ips = [entry["ip"] for entry in status.get("podIPs") or () if entry and entry.get("ip")]
    if status.get("podIP"):
        ips.insert(0, status["podIP"])
    return tuple(dict.fromkeys(ips))


def _replicas(kind: str, data: dict[str, Any]) -> int:
    if kind in REPLICATED_KINDS:
        value = _at(data, ("spec",)).get("replicas")
    elif kind == "Job":
        value = _at(data, ("spec",)).get("parallelism")
    elif kind == "CronJob":
        value = _at(data, ("spec", "jobTemplate", "spec")).get("parallelism")
    else:
        value = None
    return 1 if value is None else int(value)


def _at(data: dict[str, Any], path: FieldPath) -> dict[str, Any]:
    node: Any = data
    for seg in path:
        node = node.get(seg) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}
