"""The clusters behind the prompt library's few-shot examples, as `verifier.model.bundle` records.

`test_library.py` renders each with the real brief and compares it with the example's
`brief` variable, then checks the example's claims with the real evaluator, so a few-shot
example can neither drift from the brief notation nor teach a wrong verdict.
"""

from __future__ import annotations

from verifier.model.bundle import (
    NAMESPACE_NAME_LABEL,
    Bundle,
    ContainerPort,
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
    Workload,
)

EXAMPLES: dict[str, tuple[Bundle, list[dict]]] = {}


def ns(name: str, **labels: str) -> Namespace:
    return Namespace(name, {NAMESPACE_NAME_LABEL: name, **labels})


def sel(**labels: str) -> LabelSelector:
    return LabelSelector(tuple(Requirement(k, "In", (v,)) for k, v in labels.items()))


def name_sel(namespace: str) -> LabelSelector:
    return LabelSelector((Requirement(NAMESPACE_NAME_LABEL, "In", (namespace,)),))


def wl(namespace: str, name: str, labels: dict[str, str], *ports: ContainerPort, kind: str = "Deployment") -> Workload:
    return Workload(kind, namespace, name, labels, ports=ports)


def tcp(port: int, name: str | None = None) -> ContainerPort:
    return ContainerPort(port, "TCP", name)


def bundle(namespaces, workloads, services, policies) -> Bundle:
    return Bundle({n.name: n for n in namespaces}, tuple(workloads), tuple(services), tuple(policies))


def dep(src: str, dst: str, port: int) -> dict:
    return {"from": src, "to": dst, "port": port, "protocol": "TCP", "source": "declared"}


# flows@1: a named egress port resolved on the destination; both ends must allow.
EXAMPLES["flows@1"] = (
    bundle(
        [ns("shop")],
        [
            wl("shop", "api", {"app": "api"}, tcp(8080, "http")),
            wl("shop", "db", {"app": "db"}, tcp(5432, "pg"), kind="StatefulSet"),
            wl("shop", "web", {"app": "web"}, tcp(80)),
        ],
        [
            Service("shop", "api", {"app": "api"}, (ServicePort(80, "http"),)),
            Service("shop", "db", {"app": "db"}, (ServicePort(5432, "pg"),)),
        ],
        [
            NetworkPolicy("shop", "db-ingress", sel(app="db"), ("Ingress",),
                          ingress=(Rule((Peer(pod_selector=sel(app="api")),), (PolicyPort("TCP", 5432),)),)),
            NetworkPolicy("shop", "web-egress", sel(app="web"), ("Egress",),
                          egress=(Rule((Peer(pod_selector=sel(app="api")),), (PolicyPort("TCP", "http"),)),)),
        ],
    ),
    [dep("shop/api", "shop/db", 5432), dep("shop/web", "shop/api", 80)],
)

# flows@2: the same shop, plus an ipBlock rule that names no workload pair (the prompt says to skip it).
EXAMPLES["flows@2"] = (
    bundle(
        [ns("shop")],
        list(EXAMPLES["flows@1"][0].workloads),
        list(EXAMPLES["flows@1"][0].services),
        [
            EXAMPLES["flows@1"][0].policies[0],
            NetworkPolicy("shop", "web-egress", sel(app="web"), ("Egress",),
                          egress=(Rule((Peer(pod_selector=sel(app="api")),), (PolicyPort("TCP", "http"),)),
                                  Rule((Peer(ip_block=IPBlock("10.0.0.0/8")),), None))),
        ],
    ),
    [dep("shop/api", "shop/db", 5432), dep("shop/web", "shop/api", 80)],
)

# breakage@1: one peer with namespaceSelector AND podSelector; egress allowed, ingress not.
EXAMPLES["breakage@1"] = (
    bundle(
        [ns("data", tier="data"), ns("web")],
        [
            wl("data", "db", {"app": "db"}, tcp(5432), kind="StatefulSet"),
            wl("web", "api", {"app": "api"}, tcp(8080)),
            wl("web", "worker", {"app": "worker"}, tcp(9000)),
        ],
        [Service("data", "db", {"app": "db"}, (ServicePort(5432, 5432),))],
        [
            NetworkPolicy("data", "db-ingress", sel(app="db"), ("Ingress",), ingress=(
                Rule((Peer(pod_selector=sel(app="api"), namespace_selector=name_sel("web")),),
                     (PolicyPort("TCP", 5432),)),
            )),
            NetworkPolicy("web", "egress", LabelSelector(), ("Egress",), egress=(
                Rule((Peer(namespace_selector=sel(tier="data")),), (PolicyPort("TCP", 5432),)),
                Rule(None, (PolicyPort("UDP", 53), PolicyPort("TCP", 53))),
            )),
        ],
    ),
    [dep("web/api", "data/db", 5432), dep("web/worker", "data/db", 5432)],
)

# dns@1: UDP-only DNS egress is a miss; an ingress-only policy leaves egress open.
_coredns = Workload("Deployment", "kube-system", "coredns", {"k8s-app": "kube-dns"},
                    ports=(ContainerPort(53, "UDP", "dns"), ContainerPort(53, "TCP", "dns-tcp")))
EXAMPLES["dns@1"] = (
    bundle(
        [ns("app"), ns("kube-system")],
        [wl("app", "a", {"app": "a"}, tcp(8080)), wl("app", "b", {"app": "b"}, tcp(8080)),
         wl("app", "c", {"app": "c"}, tcp(8080)), _coredns],
        [],
        [
            NetworkPolicy("app", "a-egress", sel(app="a"), ("Egress",), egress=(
                Rule((Peer(pod_selector=sel(**{"k8s-app": "kube-dns"}), namespace_selector=name_sel("kube-system")),),
                     (PolicyPort("UDP", 53), PolicyPort("TCP", 53))),
            )),
            NetworkPolicy("app", "b-egress", sel(app="b"), ("Egress",), egress=(
                Rule((Peer(namespace_selector=name_sel("kube-system")),), (PolicyPort("UDP", 53),)),
            )),
            NetworkPolicy("app", "c-ingress", sel(app="c"), ("Ingress",), ingress=(
                Rule((Peer(pod_selector=LabelSelector()),), (PolicyPort("TCP", 8080),)),
            )),
        ],
    ),
    [],
)

# review@1: a default deny added to a namespace with one allow rule.
EXAMPLES["review@1"] = (
    bundle(
        [ns("shop")],
        [wl("shop", "api", {"app": "api"}, tcp(8080)), wl("shop", "db", {"app": "db"}, tcp(5432), kind="StatefulSet")],
        [Service("shop", "db", {"app": "db"}, (ServicePort(5432, 5432),))],
        [
            NetworkPolicy("shop", "db-ingress", sel(app="db"), ("Ingress",),
                          ingress=(Rule((Peer(pod_selector=sel(app="api")),), (PolicyPort("TCP", 5432),)),)),
            NetworkPolicy("shop", "default-deny", LabelSelector(), ("Ingress", "Egress")),
        ],
    ),
    [dep("shop/api", "shop/db", 5432)],
)

# ask@1: two peers are ORed, and a podSelector-only peer stays in the policy's namespace.
EXAMPLES["ask@1"] = (
    bundle(
        [ns("dev", env="dev"), ns("prod", env="prod")],
        [wl("dev", "api", {"app": "api"}, tcp(8080)), wl("prod", "api", {"app": "api"}, tcp(8080)),
         wl("prod", "db", {"app": "db"}, tcp(5432), kind="StatefulSet")],
        [],
        [NetworkPolicy("prod", "db-ingress", sel(app="db"), ("Ingress",), ingress=(
            Rule((Peer(namespace_selector=sel(env="prod")), Peer(pod_selector=sel(app="api"))),
                 (PolicyPort("TCP", 5432),)),
        ))],
    ),
    [],
)

# plan@1: a shop with no policies yet; web is exposed by a LoadBalancer. The example's brief is the shop
# after the plan (`plan_example` in test_library.py runs the real plan), so the example teaches its output.
EXAMPLES["plan@1"] = (
    bundle(
        [ns("shop")],
        [wl("shop", "api", {"app": "api"}, tcp(8080, "http")),
         wl("shop", "db", {"app": "db"}, tcp(5432), kind="StatefulSet"),
         wl("shop", "web", {"app": "web"}, tcp(80))],
        [Service("shop", "api", {"app": "api"}, (ServicePort(80, "http"),)),
         Service("shop", "db", {"app": "db"}, (ServicePort(5432, 5432),)),
         Service("shop", "web", {"app": "web"}, (ServicePort(80, 80),), type="LoadBalancer")],
        [],
    ),
    [dep("shop/web", "shop/api", 80), dep("shop/api", "shop/db", 5432)],
)
