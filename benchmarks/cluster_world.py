"""The pods side of a synthetic cluster: namespaces, workloads, replicas, ports.

Pods come in workloads (Deployments, StatefulSets, a few bare Pods) whose replicas share
one label set, as in real clusters where thousands of pods run in a few hundred label
sets. Namespace sizes are heavy-tailed; a few namespaces hold no workload at all.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

NAME_LABEL = "kubernetes.io/metadata.name"
KUBE_SYSTEM = "kube-system"
MONITORING = "monitoring"
INGRESS_NS = "ingress-nginx"
INFRA_NAMESPACES = (KUBE_SYSTEM, MONITORING, INGRESS_NS)


@dataclass(frozen=True, slots=True)
class AppPort:
    name: str
    port: int
    protocol: str = "TCP"


@dataclass(frozen=True, slots=True)
class GenNamespace:
    name: str
    labels: dict[str, str]


@dataclass(frozen=True, slots=True)
class GenWorkload:
    """One pod owner; every replica carries `labels` and exposes `ports`."""

    kind: str
    namespace: str
    name: str
    role: str
    replicas: int
    labels: dict[str, str]
    ports: tuple[AppPort, ...]

    @property
    def serving_ports(self) -> tuple[AppPort, ...]:
        """Ports a client would call (everything but metrics)."""
        return tuple(p for p in self.ports if p.name != "metrics")


@dataclass(frozen=True, slots=True)
class World:
    namespaces: tuple[GenNamespace, ...]
    workloads: tuple[GenWorkload, ...]

    def in_namespace(self) -> dict[str, list[GenWorkload]]:
        """Workloads grouped by namespace, every namespace present (possibly empty)."""
        out: dict[str, list[GenWorkload]] = {ns.name: [] for ns in self.namespaces}
        for w in self.workloads:
            out[w.namespace].append(w)
        return out


_METRICS = AppPort("metrics", 9090)
ROLE_PORTS: dict[str, tuple[AppPort, ...]] = {
    "web": (AppPort("http", 8080), _METRICS),
    "api": (AppPort("http", 8080), AppPort("grpc", 50051), _METRICS),
    "worker": (_METRICS,),
    "batch": (),
    "db": (AppPort("postgres", 5432), AppPort("metrics", 9187)),
    "cache": (AppPort("redis", 6379),),
    "queue": (AppPort("amqp", 5672), AppPort("management", 15672)),
}
ROLE_TIER = {"web": "frontend", "api": "backend", "worker": "backend", "batch": "batch",
             "db": "data", "cache": "data", "queue": "data"}
ROLE_WEIGHTS = {"web": 15, "api": 30, "worker": 15, "batch": 15, "db": 10, "cache": 10, "queue": 5}
ROLE_WORDS = {
    "web": ("frontend", "web", "ui", "portal"),
    "api": ("api", "gateway", "auth", "billing", "orders", "catalog", "search", "users", "payments"),
    "worker": ("worker", "processor", "indexer", "scheduler", "notifier"),
    "batch": ("sync", "report", "backup", "migrate"),
    "db": ("postgres", "mysql"),
    "cache": ("redis", "memcached"),
    "queue": ("rabbitmq", "kafka"),
}
NS_WORDS = ("payments", "checkout", "search", "identity", "ledger", "catalog", "media", "ads",
            "shipping", "support", "analytics", "risk", "growth", "platform", "data")


def _infra_workloads() -> list[GenWorkload]:
    """kube-dns and friends: the workloads every cluster's policies point at."""
    dns = (AppPort("dns", 53, "UDP"), AppPort("dns-tcp", 53, "TCP"), AppPort("metrics", 9153))
    return [
        GenWorkload("Deployment", KUBE_SYSTEM, "coredns", "infra", 2, {"k8s-app": "kube-dns"}, dns),
        GenWorkload("Deployment", KUBE_SYSTEM, "metrics-server", "infra", 1,
                    {"k8s-app": "metrics-server"}, (AppPort("https", 4443),)),
        GenWorkload("StatefulSet", MONITORING, "prometheus", "infra", 1,
                    {"app": "prometheus", "app.kubernetes.io/name": "prometheus"}, (AppPort("web", 9090),)),
        GenWorkload("Deployment", INGRESS_NS, "ingress-nginx-controller", "infra", 2,
                    {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
                    (AppPort("http", 80), AppPort("https", 443))),
    ]


def _namespaces(count: int, rng: random.Random) -> list[GenNamespace]:
    """Infrastructure namespaces first, then app namespaces owned by teams."""
    teams = max(2, (count - len(INFRA_NAMESPACES)) // 8)
    out = [GenNamespace(n, {NAME_LABEL: n}) for n in INFRA_NAMESPACES]
    for i in range(count - len(INFRA_NAMESPACES)):
        name = f"{NS_WORDS[i % len(NS_WORDS)]}-{i:05d}"
        env = rng.choices(("prod", "staging", "dev"), weights=(60, 25, 15))[0]
        labels = {NAME_LABEL: name, "team": f"team-{rng.randrange(teams):04d}", "env": env}
        out.append(GenNamespace(name, labels))
    return out


def _namespace_sizes(app_ns: list[GenNamespace], app_workloads: int, empty_fraction: float,
                     rng: random.Random) -> dict[str, int]:
    """Workloads per app namespace: some empty, each other at least one, heavy tail on top."""
    n_empty = round(len(app_ns) * empty_fraction)
    shuffled = app_ns[:]
    rng.shuffle(shuffled)
    filled = [ns.name for ns in shuffled[n_empty:]]
    if app_workloads < len(filled):
        raise ValueError(f"{app_workloads} app workloads cannot fill {len(filled)} namespaces")
    sizes = {ns.name: 0 for ns in app_ns}
    for name in filled:
        sizes[name] = 1
    weights = [rng.paretovariate(1.2) for _ in filled]
    for name in rng.choices(filled, weights=weights, k=app_workloads - len(filled)):
        sizes[name] += 1
    return sizes


def _raw_replicas(role: str, rng: random.Random) -> float:
    """Unscaled replica weight: serving tiers scale out, data and batch stay small."""
    if role in ("web", "api"):
        return rng.lognormvariate(1.6, 0.9)
    if role == "worker":
        return rng.lognormvariate(1.0, 0.8)
    return rng.choice((1.0, 1.0, 2.0, 3.0))


def _app_workload(ns: GenNamespace, used: set[str], rng: random.Random) -> tuple[GenWorkload, float]:
    role = rng.choices(list(ROLE_WEIGHTS), weights=list(ROLE_WEIGHTS.values()))[0]
    word = rng.choice(ROLE_WORDS[role])
    name, k = word, 2
    while name in used:
        name, k = f"{word}-{k}", k + 1
    used.add(name)
    kind = "StatefulSet" if role in ("db", "cache", "queue") else "Deployment"
    if role == "batch" and rng.random() < 0.5:
        kind = "Pod"
    labels = {"app": name, "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": ns.name,
              "tier": ROLE_TIER[role], "team": ns.labels.get("team", "platform")}
    workload = GenWorkload(kind, ns.name, name, role, 1, labels, ROLE_PORTS[role])
    return workload, 1.0 if kind == "Pod" else _raw_replicas(role, rng)


def _scale_replicas(raw: list[float], fixed: list[bool], target: int, rng: random.Random) -> list[int]:
    """Scale raw weights to integers >= 1 summing to exactly `target`; fixed entries stay 1."""
    free_total = sum(r for r, f in zip(raw, fixed) if not f)
    free_target = target - sum(fixed)
    factor = free_target / free_total if free_total else 0.0
    reps = [1 if f else max(1, round(r * factor)) for r, f in zip(raw, fixed)]
    movable = [i for i, f in enumerate(fixed) if not f]
    if not movable and sum(reps) != target:
        raise ValueError("cannot reach the pod count: every workload is a bare Pod")
    while (diff := target - sum(reps)) != 0:
        i = rng.choice(movable)
        if diff > 0:
            reps[i] += 1
        elif reps[i] > 1:
            reps[i] -= 1
    return reps


def build_world(pods: int, namespaces: int, workloads: int, empty_ns_fraction: float,
                rng: random.Random) -> World:
    """Namespaces and workloads with exactly `pods` replicas in total.

    Raises:
        ValueError: the counts cannot be met (fewer workloads than non-empty namespaces,
            fewer pods than workloads).
    """
    all_ns = _namespaces(namespaces, rng)
    infra = _infra_workloads()
    app_ns = all_ns[len(INFRA_NAMESPACES):]
    sizes = _namespace_sizes(app_ns, workloads - len(infra), empty_ns_fraction, rng)
    drafts: list[tuple[GenWorkload, float]] = []
    for ns in app_ns:
        used: set[str] = set()
        drafts.extend(_app_workload(ns, used, rng) for _ in range(sizes[ns.name]))
    infra_pods = sum(w.replicas for w in infra)
    if pods - infra_pods < len(drafts):
        raise ValueError(f"{pods} pods cannot fill {len(drafts) + len(infra)} workloads")
    reps = _scale_replicas([r for _, r in drafts], [w.kind == "Pod" for w, _ in drafts],
                           pods - infra_pods, rng)
    app = [_with_replicas(w, n) for (w, _), n in zip(drafts, reps)]
    return World(tuple(all_ns), tuple(infra + app))


def _with_replicas(w: GenWorkload, n: int) -> GenWorkload:
    return GenWorkload(w.kind, w.namespace, w.name, w.role, n, w.labels, w.ports)
