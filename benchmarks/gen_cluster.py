"""Generate a synthetic cluster shaped like a published production cluster.

    .venv/bin/python -m benchmarks.gen_cluster --tier M --out /tmp/cluster-m

writes `<out>/yaml/*.yaml` (one multi-document file per namespace), `<out>/json/*.json`
(one `kind: List` per namespace) and `<out>/stats.json`: the shape the generator reached,
measured independently of the verifier (see shape_stats.py). Same tier and seed, same bytes.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .cluster_policies import build_policies
from .cluster_world import World, build_world
from .manifests import YAML_LAYOUTS, namespace_manifest, service_manifest, workload_manifest, write_json, write_yaml
from .shape_stats import shape_stats
from .tiers import TIERS, TierSpec

Manifest = dict[str, Any]
DEFAULT_SEED = 20240611


@dataclass(frozen=True)
class GeneratedCluster:
    """Manifests by namespace (Namespace first, then workloads, Services, policies) and their shape."""

    tier: TierSpec
    seed: int
    docs_by_ns: dict[str, list[Manifest]]
    stats: dict[str, Any]

    def all_docs(self) -> list[Manifest]:
        return [d for docs in self.docs_by_ns.values() for d in docs]


def _docs_by_namespace(world: World, policies: dict[str, list[Manifest]]) -> dict[str, list[Manifest]]:
    by_ns = world.in_namespace()
    out: dict[str, list[Manifest]] = {}
    for ns in world.namespaces:
        docs = [namespace_manifest(ns)]
        docs += [workload_manifest(w) for w in by_ns[ns.name]]
        docs += [s for w in by_ns[ns.name] if (s := service_manifest(w)) is not None]
        out[ns.name] = docs + policies[ns.name]
    return out


def generate(tier: TierSpec, seed: int = DEFAULT_SEED) -> GeneratedCluster:
    """Build the cluster for `tier` from `seed`; deterministic for a given pair.

    Raises:
        ValueError: the tier's counts are inconsistent (see TierSpec).
    """
    rng = random.Random(f"{tier.name}:{seed}")
    world = build_world(tier.pods, tier.namespaces, tier.workloads, tier.empty_namespace_fraction, rng)
    policies = build_policies(world, tier.policies, tier.empty_policy_fraction, rng)
    docs_by_ns = _docs_by_namespace(world, policies)
    stats = shape_stats([d for docs in docs_by_ns.values() for d in docs])
    return GeneratedCluster(tier, seed, docs_by_ns, stats)


def write_cluster(cluster: GeneratedCluster, out_dir: Path, *, formats: tuple[str, ...] = ("yaml", "json"),
                  yaml_layout: str = "per-namespace") -> dict[str, list[Path]]:
    """Write the cluster's manifests under `out_dir/<format>/` and `out_dir/stats.json`.

    Returns the files written per format.
    """
    written: dict[str, list[Path]] = {}
    if "yaml" in formats:
        written["yaml"] = write_yaml(cluster.docs_by_ns, out_dir / "yaml", yaml_layout)
    if "json" in formats:
        written["json"] = write_json(cluster.docs_by_ns, out_dir / "json")
    meta = {"tier": asdict(cluster.tier), "seed": cluster.seed, "yaml_layout": yaml_layout, "shape": cluster.stats}
    (out_dir / "stats.json").write_text(json.dumps(meta, indent=2) + "\n")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tier", choices=sorted(TIERS), required=True)
    parser.add_argument("--out", type=Path, required=True, help="output directory (created)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--format", choices=("yaml", "json", "both"), default="both")
    parser.add_argument("--yaml-layout", choices=YAML_LAYOUTS, default="per-namespace")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    cluster = generate(TIERS[args.tier], args.seed)
    formats = ("yaml", "json") if args.format == "both" else (args.format,)
    write_cluster(cluster, args.out, formats=formats, yaml_layout=args.yaml_layout)
    print(json.dumps(cluster.stats, indent=2))
    print(f"generated tier {args.tier} in {time.perf_counter() - started:.1f}s -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
