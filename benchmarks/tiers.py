"""Benchmark tiers: how big each synthetic cluster is.

M is the shape of a published production cluster: 5,413 pods, 604 namespaces and
13,678 NetworkPolicies, 26% of them selecting no pod. The other tiers scale it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TierSpec:
    """Target size of one synthetic cluster.

    `namespaces` counts every namespace, kube-system and the shared infrastructure
    namespaces (monitoring, ingress-nginx) included. `workloads` counts pod owners
    (Deployments, StatefulSets, bare Pods), infrastructure included; `pods` is the sum
    of their replicas and is hit exactly.
    """

    name: str
    pods: int
    namespaces: int
    policies: int
    workloads: int
    empty_policy_fraction: float = 0.26  # policies whose podSelector matches no pod
    empty_namespace_fraction: float = 0.05  # namespaces that hold no workload

    def __post_init__(self) -> None:
        if self.namespaces < 4:
            raise ValueError(f"tier {self.name}: need at least 4 namespaces (3 are infrastructure)")
        if self.pods < self.workloads or self.workloads < 6:
            raise ValueError(f"tier {self.name}: need workloads >= 6 and pods >= workloads")
        if self.policies < 2 * self.namespaces + 1:
            raise ValueError(f"tier {self.name}: need policies >= 2 * namespaces + 1 (deny + DNS each)")


TIERS: dict[str, TierSpec] = {
    t.name: t
    for t in (
        TierSpec("S", pods=200, namespaces=22, policies=505, workloads=34),
        TierSpec("S2", pods=1_000, namespaces=112, policies=2_527, workloads=167),
        TierSpec("M", pods=5_413, namespaces=604, policies=13_678, workloads=900),
        TierSpec("L", pods=100_000, namespaces=2_000, policies=30_000, workloads=10_000),
        TierSpec("XL", pods=100_000, namespaces=25_000, policies=75_000, workloads=25_000),
    )
}

#: Tiers in the order `--all` runs them.
TIER_ORDER: tuple[str, ...] = ("S", "S2", "M", "L", "XL")
