"""Eval tiers at cluster scale: many trap instances, each in its own renamed namespaces, among filler apps.

A tier of N workloads holds `trap_count(N)` instances of the classic traps (`generator.TEMPLATES` plus
`match-expressions`), one per 25 workloads and at least one of each: the traps cycle through the families in
a seeded order, each built by its template with its own seeded randomness. Every namespace an instance
creates is renamed `NAME-tNNN` (NNN = the instance's index), everywhere it is named: the Namespace object and
its `kubernetes.io/metadata.name` label, each object's `metadata.namespace`, namespaceSelectors on that label
(matchLabels and matchExpressions values) and the declared dependencies' `ns/name`. `kube-system` is the
cluster's own and is shared: one CoreDNS serves every instance.

Then filler apps (`generator.add_filler`) pad the tier to N workloads, and every trap instance gets a
cross-namespace caller: a filler frontend declared to depend on the instance's first destination, on the same
port. Whether that caller gets in is for the trap's policies (and the verifier) to decide; it makes a larger
tier harder than a smaller one, not the same trap behind more filler.

Renaming keeps each trap's verdicts: a policy selects pods of its own namespace only, and an instance's
namespaces are its own, so the connections between an instance's workloads are decided exactly as in the
template built alone (`tests/evals/test_tiers.py` checks it with the verifier). `compose(seed, workloads)` is
deterministic.

    python -m evals.tiers --out evals/tiers --seeds 1 --scales 300,1000,5000
writes the tier stubs (`generate: {template: tiered, seed, workloads}`) that the scenario loader expands.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .generator import NAME_LABEL, TEMPLATES, Generated, add_filler, allow_from, tcp

TIERED = "tiered"
TIER_DIR = Path(__file__).resolve().parent / "tiers"
TIER_SCALES = (300, 1000, 5000)
#: One trap instance per this many workloads (at least one of each family).
WORKLOADS_PER_TRAP = 25
SHARED_NAMESPACES = frozenset({"kube-system"})
TIER_PROMPTS = ["flows", "breakage", "dns"]


def _match_expressions(g: Generated, rng: random.Random) -> None:
    """Set-based selectors: In, NotIn (true for a pod without the key), Exists and DoesNotExist."""
    ns = g.namespace(rng.choice(("inventory", "fulfilment")))
    env = rng.choice(("prod", "live"))
    api = g.workload(ns, "stock-api", {"app": "stock-api", "env": env}, [tcp(8000, "http")])
    callers = {
        "web": {"app": "web", "env": env, "team": "shop"},        # In + Exists + NotIn: admitted
        "batch": {"app": "batch", "env": env, "team": "shop", "canary": "true"},  # DoesNotExist fails
        "nolabel": {"app": "nolabel", "env": env},                # Exists(team) fails
        "staging": {"app": "staging", "env": "staging", "team": "shop"},  # In(env) fails
    }
    srcs = [g.workload(ns, name, labels, [tcp(8080)]) for name, labels in callers.items()]
    peer = {"podSelector": {"matchExpressions": [
        {"key": "env", "operator": "In", "values": [env]},
        {"key": "team", "operator": "Exists"},
        {"key": "canary", "operator": "DoesNotExist"},
        {"key": "app", "operator": "NotIn", "values": ["stock-api"]}]}}
    selector = {"matchExpressions": [{"key": "app", "operator": "In", "values": ["stock-api"]}]}
    g.policy(ns, "stock-api-ingress", selector, ingress=[allow_from(peer, port=8000)])
    for src in srcs:
        g.dep(src, api, 8000)
    g.description = (f"A peer of matchExpressions is an AND of requirements: only web (env={env}, team set, no canary) "
                     "gets in.")


#: Every trap a tier spreads over its namespaces.
TRAPS: dict[str, Callable[[Generated, random.Random], None]] = {**TEMPLATES, "match-expressions": _match_expressions}


@dataclass(frozen=True)
class TrapInstance:
    """One trap in a tier: its family, index, namespace renaming and its own declared dependencies (renamed)."""

    family: str
    index: int
    seed: str
    namespaces: dict[str, str]
    deps: tuple[dict[str, Any], ...]


@dataclass
class Tier:
    """A composed tier: the cluster (`generated`) and where its traps are."""

    generated: Generated
    traps: list[TrapInstance] = field(default_factory=list)


def trap_count(workloads: int) -> int:
    return max(len(TRAPS), workloads // WORKLOADS_PER_TRAP)


def build_trap(family: str, seed: str) -> Generated:
    """Trap `family` built alone with its seeded randomness (what a tier instance is before renaming)."""
    g = Generated()
    TRAPS[family](g, random.Random(seed))
    return g


def compose_tier(seed: int, workloads: int) -> Tier:
    """The tier of `workloads` workloads (at least the traps' own) built from `seed`; deterministic."""
    rng = random.Random(f"tier/{seed}/{workloads}")
    order = sorted(TRAPS)
    rng.shuffle(order)
    out = Tier(Generated())
    seen: set[tuple[str, str, str]] = set()
    for i in range(trap_count(workloads)):
        family = order[i % len(order)]
        instance_seed = f"tier/{seed}/{i}/{family}"
        trap = build_trap(family, instance_seed)
        names = {ns: ns if ns in SHARED_NAMESPACES else f"{ns}-t{i:03d}" for ns in trap.namespaces}
        _merge(out.generated, trap, names, seen)
        deps = tuple(_renamed_dep(d, names) for d in trap.deps)
        out.traps.append(TrapInstance(family, i, instance_seed, names, deps))
    add_filler(out.generated, rng, workloads)
    _cross_namespace_callers(out, rng)
    g = out.generated
    g.description = (f"{len(out.traps)} trap instances ({len(TRAPS)} families) over {len(g.namespaces)} namespaces, "
                     f"{g.workloads} workloads, with cross-namespace callers into every trap")
    return out


def compose(seed: int, workloads: int) -> Generated:
    """The tier's cluster only (what the scenario loader expands a `tiered` stub into)."""
    return compose_tier(seed, workloads).generated


def _merge(into: Generated, trap: Generated, names: dict[str, str], seen: set[tuple[str, str, str]]) -> None:
    """Add `trap`'s objects renamed into `into`; a shared namespace's objects are added once."""
    for doc in trap.manifests:
        renamed = rename_namespaces(doc, names)
        meta = renamed["metadata"]
        key = (renamed["kind"], meta.get("namespace", ""), meta["name"])
        if key in seen:
            continue  # kube-system and its CoreDNS, already added by an earlier instance
        seen.add(key)
        into.manifests.append(renamed)
        if renamed["kind"] == "Namespace":
            into.namespaces.add(meta["name"])
        elif renamed["kind"] in ("Deployment", "Pod"):
            into.workloads += 1
    into.deps += [_renamed_dep(d, names) for d in trap.deps]


def rename_namespaces(doc: Any, names: dict[str, str]) -> Any:
    """`doc` with every namespace of `names` renamed where it names a namespace (see the module docstring)."""
    if isinstance(doc, list):
        return [rename_namespaces(x, names) for x in doc]
    if not isinstance(doc, dict):
        return doc
    out = {k: rename_namespaces(v, names) for k, v in doc.items()}
    if doc.get("kind") == "Namespace":
        out["metadata"]["name"] = names.get(doc["metadata"]["name"], doc["metadata"]["name"])
    if isinstance(out.get("metadata"), dict) and "namespace" in out["metadata"]:
        out["metadata"]["namespace"] = names.get(out["metadata"]["namespace"], out["metadata"]["namespace"])
    for key in ("labels", "matchLabels"):
        if isinstance(out.get(key), dict) and NAME_LABEL in out[key]:
            out[key] = {**out[key], NAME_LABEL: names.get(out[key][NAME_LABEL], out[key][NAME_LABEL])}
    if out.get("key") == NAME_LABEL and isinstance(out.get("values"), list):
        out["values"] = [names.get(v, v) for v in out["values"]]
    return out


def _renamed_dep(dep: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    def ref(value: str) -> str:
        ns, sep, rest = value.partition("/")
        return f"{names.get(ns, ns)}{sep}{rest}" if sep else value
    return {**dep, "from": ref(dep["from"]), "to": ref(dep["to"])}


def _cross_namespace_callers(tier: Tier, rng: random.Random) -> None:
    """Each trap's first destination gets a declared caller from a filler namespace's frontend."""
    g = tier.generated
    fronts = sorted(f"{d['metadata']['namespace']}/frontend" for d in g.manifests
                    if d["kind"] == "Deployment" and d["metadata"]["name"] == "frontend"
                    and d["metadata"]["namespace"].startswith("team-"))
    if not fronts:
        return
    for trap in tier.traps:
        first = trap.deps[0]
        g.dep(rng.choice(fronts), first["to"], first["port"], first.get("protocol", "TCP"))


def tier_stub(seed: int, workloads: int) -> dict[str, Any]:
    """The scenario file of a tier: id `tier/wN-sS`, family `tiered`, the generator call."""
    return {
        "id": f"tier/w{workloads}-s{seed}",
        "family": TIERED,
        "scale": workloads,
        "description": (f"tier of {workloads} workloads from seed {seed}: {trap_count(workloads)} trap instances "
                        f"({len(TRAPS)} families) in renamed namespaces, cross-namespace callers, filler apps"),
        "prompts": TIER_PROMPTS,
        "generate": {"template": TIERED, "seed": seed, "workloads": workloads},
    }


def write_tier_stubs(out: Path, seeds: list[int], scales: list[int]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for scale in scales:
        for seed in seeds:
            path = out / f"tier-w{scale}-s{seed}.yaml"
            path.write_text(yaml.safe_dump(tier_stub(seed, scale), sort_keys=False))
            paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    """`python -m evals.tiers --out DIR --seeds 1 --scales 300,1000,5000`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=TIER_DIR)
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--scales", default=",".join(map(str, TIER_SCALES)))
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    paths = write_tier_stubs(args.out, seeds, [int(s) for s in args.scales.split(",")])
    print(f"wrote {len(paths)} tier stubs under {args.out}")


if __name__ == "__main__":
    main()
