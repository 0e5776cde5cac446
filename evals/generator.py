"""Seeded scenario templates: one per family of classic NetworkPolicy mistakes, at any cluster size.

A template builds a small *core* that holds the trap (a peer with both selectors, an
egress-only policy without policyTypes, a UDP-only DNS rule...) plus declared dependencies
that probe it, then pads the cluster with *filler* apps up to the requested number of
workloads. Filler apps are realistic (frontend -> api -> worker -> db chains, a default-deny
ingress per namespace, one allow policy per edge, cross-namespace callers through a peer
with both selectors) and every filler dependency is allowed under the true semantics *and*
under the misreadings the simulated models make: those misreadings only ever allow more,
so scores move on the trap and nowhere else.

`build_template(template, seed, workloads)` (and `builds.build`, which adds the tiers) is deterministic: the same
arguments give the same manifests, on any machine. Ground truth is never written here; the verifier computes it.

    python -m evals.generator --out evals/scenarios/generated --seeds 1-3 --scales 5,20
writes scenario stubs (`generate: {template, seed, workloads}`) that the loader expands.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

NAME_LABEL = "kubernetes.io/metadata.name"
TEAMS = ("orders", "billing", "catalog", "identity", "search", "shipping", "reviews", "media", "ledger", "alerts")
TIERS = ("frontend", "api", "worker", "cache", "db")
TIER_PORTS = {"frontend": 8080, "api": 8000, "worker": 9000, "cache": 6379, "db": 5432}


@dataclass
class Generated:
    """A template's output: manifest dicts, deps.yaml-style entries, and a one-line description."""

    manifests: list[dict[str, Any]] = field(default_factory=list)
    deps: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""
    workloads: int = 0
    namespaces: set[str] = field(default_factory=set)

    # -- builders ----------------------------------------------------------------------------------------
    def namespace(self, name: str, **labels: str) -> str:
        if name not in self.namespaces:
            self.namespaces.add(name)
            meta: dict[str, Any] = {"name": name, "labels": {NAME_LABEL: name, **labels}}
            self.manifests.append({"apiVersion": "v1", "kind": "Namespace", "metadata": meta})
        return name

    def workload(self, ns: str, name: str, labels: dict[str, str], ports: list[tuple[int, str, str]],
                 *, pod_ip: str | None = None, service: bool = True) -> str:
        """A Deployment (a Pod when `pod_ip` is set) with container ports (port, protocol, name), plus a Service."""
        container = {"name": "main", "image": f"registry.example/{name}:1.0",
                     "ports": [{"containerPort": p, "protocol": proto, "name": n} for p, proto, n in ports]}
        meta = {"name": name, "namespace": ns, "labels": labels}
        if pod_ip:
            self.manifests.append({"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                                   "spec": {"containers": [container]}, "status": {"podIP": pod_ip}})
        else:
            template = {"metadata": {"labels": labels}, "spec": {"containers": [container]}}
            spec = {"replicas": 1, "selector": {"matchLabels": labels}, "template": template}
            self.manifests.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec})
        if service and ports:
            sports = [{"name": n, "port": p, "targetPort": n, "protocol": proto} for p, proto, n in ports]
            self.manifests.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
                                   "spec": {"selector": labels, "ports": sports}})
        self.workloads += 1
        return f"{ns}/{name}"

    def policy(self, ns: str, name: str, selector: dict[str, Any], **spec: Any) -> None:
        """A NetworkPolicy; `spec` keys are the API's (ingress, egress, policyTypes) and go in as given."""
        body = {"podSelector": selector, **spec}
        self.manifests.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                               "metadata": {"name": name, "namespace": ns}, "spec": body})

    def dep(self, src: str, dst: str, port: int, protocol: str = "TCP") -> None:
        self.deps.append({"from": src, "to": dst, "port": port, "protocol": protocol})

    def coredns(self) -> str:
        self.namespace("kube-system")
        return self.workload("kube-system", "coredns", {"k8s-app": "kube-dns"},
                             [(53, "UDP", "dns"), (53, "TCP", "dns-tcp")])


def match(**labels: str) -> dict[str, Any]:
    return {"matchLabels": dict(labels)}


def ns_match(name: str) -> dict[str, Any]:
    return {"matchLabels": {NAME_LABEL: name}}


def tcp(port: int, name: str = "") -> tuple[int, str, str]:
    return (port, "TCP", name or f"tcp-{port}")


def allow_from(*peers: dict[str, Any], port: int | str | None = None, protocol: str = "TCP") -> dict[str, Any]:
    rule: dict[str, Any] = {"from": list(peers)}
    if port is not None:
        rule["ports"] = [{"protocol": protocol, "port": port}]
    return rule


# --- filler -------------------------------------------------------------------------------------------------


def add_filler(g: Generated, rng: random.Random, target: int) -> None:
    """Pad `g` with filler apps (one namespace each) until it holds `target` workloads."""
    app = 0
    while g.workloads < target:
        team = TEAMS[app % len(TEAMS)] + ("" if app < len(TEAMS) else f"-{app // len(TEAMS)}")
        _filler_app(g, rng, team, min(rng.randint(4, 9), target - g.workloads), app)
        app += 1


def _filler_app(g: Generated, rng: random.Random, team: str, size: int, app: int) -> None:
    ns = g.namespace(f"team-{team}", team=team)
    g.policy(ns, "default-deny-ingress", {}, policyTypes=["Ingress"])
    ids: list[tuple[str, str, int]] = []
    for i in range(size):
        tier = TIERS[min(i, len(TIERS) - 1)] if i < len(TIERS) else rng.choice(TIERS[1:4])
        name = f"{tier}-{i}" if i >= len(TIERS) else tier
        port = TIER_PORTS[tier]
        g.workload(ns, name, {"app": name, "tier": tier}, [tcp(port, "http" if tier != "db" else "sql")])
        if ids:
            caller = ids[rng.randrange(len(ids))] if i >= len(TIERS) else ids[-1]
            g.policy(ns, f"{name}-from-{caller[1]}", match(app=name),
                     ingress=[allow_from({"podSelector": match(app=caller[1])}, port=port)])
            g.dep(caller[0], f"{ns}/{name}", port)
        ids.append((f"{ns}/{name}", name, port))
    if app > 0 and ids:
        # A cross-namespace caller, admitted through ONE peer with both selectors (AND).
        caller_ns = f"team-{TEAMS[(app - 1) % len(TEAMS)]}" + ("" if app - 1 < len(TEAMS)
                                                               else f"-{(app - 1) // len(TEAMS)}")
        if caller_ns in g.namespaces:
            front = ids[0]
            g.policy(ns, f"{front[1]}-from-{caller_ns}", match(app=front[1]), ingress=[allow_from(
                {"namespaceSelector": ns_match(caller_ns), "podSelector": match(tier="frontend")}, port=front[2])])
            g.dep(f"{caller_ns}/frontend", front[0], front[2])


# --- family templates ---------------------------------------------------------------------------------------


def _and_vs_or(g: Generated, rng: random.Random) -> None:
    team, role, port = rng.choice(("ops", "sre", "platform")), rng.choice(("monitoring",
                                                                           "scraper")), rng.choice((8080, 9090))
    app = g.namespace(rng.choice(("shop", "store", "web")))
    ops = g.namespace(f"{team}-tools", team=team)
    dst = g.workload(app, "api", {"app": "api"}, [tcp(port, "http")])
    good = g.workload(ops, "prometheus", {"role": role}, [tcp(9090, "web")])
    other = g.workload(ops, "debug-shell", {"role": "debug"}, [tcp(8000)])
    local = g.workload(app, "metrics-agent", {"role": role}, [tcp(9100)])
    peer = {"namespaceSelector": match(team=team), "podSelector": match(role=role)}
    g.policy(app, "api-allow-monitoring", match(app="api"), ingress=[allow_from(peer, port=port)])
    for src in (good, other, local):
        g.dep(src, dst, port)
    g.description = (f"One peer with namespaceSelector team={team} AND podSelector role={role}: only {good} gets in; "
                     f"{other} (right namespace, wrong pod) and {local} (right pod, wrong namespace) are denied.")


def _empty_vs_missing(g: Generated, rng: random.Random) -> None:
    a, b = g.namespace("frontend", tier="edge"), g.namespace("backend")
    web = g.workload(a, "web", {"app": "web"}, [tcp(8080, "http")])
    api = g.workload(b, "api", {"app": "api"}, [tcp(8000, "http")])
    db = g.workload(b, "db", {"app": "db"}, [tcp(5432, "sql")])
    jobs = g.workload(b, "jobs", {"app": "jobs"}, [tcp(9000)])
    variant = rng.randrange(3)
    if variant == 0:  # namespaceSelector {} = every namespace; podSelector-only peer = own namespace
        g.policy(b, "api-from-anywhere", match(app="api"), ingress=[allow_from({"namespaceSelector": {}})])
        g.policy(b, "db-from-pods", match(app="db"), ingress=[allow_from({"podSelector": {}})])
        g.description = "namespaceSelector {} admits every namespace; a podSelector {} peer only the policy's own."
    elif variant == 1:  # `ingress: [{}]` allows all; `ingress: []` denies all
        g.policy(b, "api-allow-all", match(app="api"), ingress=[{}])
        g.policy(b, "db-deny-all", match(app="db"), ingress=[])
        g.description = "An empty rule ({}) allows everything; an empty list of rules allows nothing."
    else:  # a rule with ports but no `from` admits every source on those ports
        g.policy(b, "api-port-only", match(app="api"), ingress=[{"ports": [{"protocol": "TCP", "port": 8000}]}])
        g.policy(b, "db-from-nobody", match(app="db"), ingress=[{"from": [{"podSelector": match(app="nothing")}]}])
        g.description = "A rule with ports and no from admits every source; a peer matching no pod admits none."
    for src, dst, port in ((web, api, 8000), (web, db, 5432), (jobs, db, 5432), (jobs, api, 8000)):
        g.dep(src, dst, port)


def _policy_types(g: Generated, rng: random.Random) -> None:
    ns = g.namespace(rng.choice(("payments", "checkout", "billing")))
    client = g.workload(ns, "client", {"app": "client"}, [tcp(8080)])
    api = g.workload(ns, "api", {"app": "api"}, [tcp(8000, "http")])
    ledger = g.workload(ns, "ledger", {"app": "ledger"}, [tcp(7000)])
    audit = g.workload(ns, "audit", {"app": "audit"}, [tcp(7100)])
    # Egress rules, no policyTypes: "defaults to Ingress, plus Egress if egress rules exist" -> api loses ingress.
    g.policy(ns, "api-egress", match(app="api"), egress=[{"to": [{"podSelector": match(app="ledger")}]}])
    variant = rng.randrange(2)
    if variant == 0:  # no rules at all, no policyTypes: deny all ingress to audit
        g.policy(ns, "audit-lockdown", match(app="audit"))
    else:  # explicit Ingress+Egress with ingress rules only: audit's egress is denied
        g.policy(ns, "audit-both", match(app="audit"), policyTypes=["Ingress", "Egress"],
                 ingress=[allow_from({"podSelector": {}})])
    g.dep(client, api, 8000)
    g.dep(api, ledger, 7000)
    g.dep(client, audit, 7100)
    g.dep(audit, ledger, 7000)
    g.description = ("policyTypes defaults: an egress-only policy still isolates ingress; a rule-less policy denies "
                     "ingress.")


def _named_ports(g: Generated, rng: random.Random) -> None:
    ns = g.namespace(rng.choice(("media", "catalog")))
    web = g.workload(ns, "web", {"app": "web"}, [tcp(8080, "http")])
    v1 = g.workload(ns, "api-v1", {"app": "api", "version": "v1"}, [tcp(8000, "http")])
    v2 = g.workload(ns, "api-v2", {"app": "api", "version": "v2"}, [tcp(9000, "http-alt")])
    udp = g.workload(ns, "stats", {"app": "api", "version": "stats"}, [(8125, "UDP", "http")])
    g.policy(ns, "api-http-only", match(app="api"),
             ingress=[allow_from({"podSelector": match(app="web")}, port="http")])
    g.dep(web, v1, 8000)
    g.dep(web, v2, 9000)
    g.dep(web, udp, 8125, "UDP")
    g.description = "A named port resolves on each destination pod by name and protocol: http/TCP is 8000 on v1 only."


def _endport(g: Generated, rng: random.Random) -> None:
    ns = g.namespace("streaming")
    low, high = rng.choice(((8000, 8100), (30000, 30010), (5000, 5005)))
    client = g.workload(ns, "client", {"app": "client"}, [tcp(8080)])
    srv = g.workload(ns, "relay", {"app": "relay"}, [tcp(low), tcp(high), tcp(high + 1), (low, "UDP", "udp-low")])
    g.policy(ns, "relay-range", match(app="relay"), ingress=[{
        "from": [{"podSelector": match(app="client")}],
        "ports": [{"protocol": "TCP", "port": low, "endPort": high}]}])
    for port, proto in ((low, "TCP"), (high, "TCP"), (high + 1, "TCP"), (low, "UDP")):
        g.dep(client, srv, port, proto)
    g.description = f"port {low} with endPort {high} is an inclusive TCP range; {high + 1} and UDP/{low} are outside."


def _both_ends(g: Generated, rng: random.Random) -> None:
    ns = g.namespace(rng.choice(("orders", "inventory")))
    web = g.workload(ns, "web", {"app": "web"}, [tcp(8080)])
    api = g.workload(ns, "api", {"app": "api"}, [tcp(8000)])
    db = g.workload(ns, "db", {"app": "db"}, [tcp(5432)])
    g.policy(ns, "web-egress", match(app="web"), policyTypes=["Egress"],
             egress=[{"to": [{"podSelector": match(app="api")}, {"podSelector": match(app="db")}]}])
    g.policy(ns, "db-ingress", match(app="db"), ingress=[allow_from({"podSelector": match(app="api")}, port=5432)])
    g.dep(web, api, 8000)
    g.dep(web, db, 5432)
    g.dep(api, db, 5432)
    g.description = "web's egress allows db, but db's ingress admits only api: both ends must allow."


def _cross_ns_label(g: Generated, rng: random.Random) -> None:
    label = rng.choice(("access", "tier", "zone"))
    data = g.namespace("data")
    good = g.namespace("apps", **{label: "trusted"})
    bad = g.namespace("batch")
    db = g.workload(data, "postgres", {"app": "postgres"}, [tcp(5432, "sql")])
    a = g.workload(good, "api", {"app": "api"}, [tcp(8000)])
    b = g.workload(bad, "etl", {"app": "etl"}, [tcp(8000)])
    g.policy(data, "postgres-from-trusted", match(app="postgres"),
             ingress=[allow_from({"namespaceSelector": match(**{label: "trusted"})}, port=5432)])
    g.dep(a, db, 5432)
    g.dep(b, db, 5432)
    g.description = f"Only namespaces labelled {label}=trusted reach postgres; namespace batch lacks the label."


def _dns(g: Generated, rng: random.Random) -> None:
    g.coredns()
    ns = g.namespace(rng.choice(("app", "shop")))
    both, udp, none, anyns, open_ = (g.workload(ns, n, {"app": n}, [tcp(8080)])
                                     for n in ("good", "udp-only", "no-dns", "ns-only", "open"))
    dns_peer = {"namespaceSelector": ns_match("kube-system"), "podSelector": match(**{"k8s-app": "kube-dns"})}
    g.policy(ns, "good-egress", match(app="good"), policyTypes=["Egress"], egress=[
        {"to": [dns_peer], "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
        {"to": [{"podSelector": {}}]}])
    g.policy(ns, "udp-only-egress", match(app="udp-only"), policyTypes=["Egress"], egress=[
        {"to": [dns_peer], "ports": [{"protocol": "UDP", "port": 53}]}, {"to": [{"podSelector": {}}]}])
    g.policy(ns, "no-dns-egress", match(app="no-dns"), policyTypes=["Egress"], egress=[{"to": [{"podSelector": {}}]}])
    g.policy(ns, "ns-only-egress", match(app="ns-only"), policyTypes=["Egress"], egress=[
        {"to": [{"namespaceSelector": ns_match("kube-system")}], "ports": [{"protocol": "UDP", "port": 53}]},
        {"to": [{"podSelector": {}}]}])
    for src in (both, udp, none, anyns):
        g.dep(src, open_, 8080)
    g.description = "DNS needs UDP/53 AND TCP/53 to kube-dns; UDP-only and missing DNS egress rules are gaps."


def _ipblock_except(g: Generated, rng: random.Random) -> None:
    ns = g.namespace("edge")
    base = rng.choice((10, 172))
    client = g.workload(ns, "gateway", {"app": "gateway"}, [tcp(8080)], pod_ip=f"{base}.0.1.10", service=False)
    inside = g.workload(ns, "svc-a", {"app": "svc"}, [tcp(8443)], pod_ip=f"{base}.0.2.10", service=False)
    excluded = g.workload(ns, "svc-b", {"app": "svc"}, [tcp(8443)], pod_ip=f"{base}.0.5.10", service=False)
    outside = g.workload(ns, "svc-c", {"app": "svc"}, [tcp(8443)], pod_ip=f"{base}.9.0.10", service=False)
    g.policy(ns, "gateway-egress", match(app="gateway"), policyTypes=["Egress"], egress=[{
        "to": [{"ipBlock": {"cidr": f"{base}.0.0.0/16", "except": [f"{base}.0.5.0/24"]}}],
        "ports": [{"protocol": "TCP", "port": 8443}]}])
    for dst in (inside, excluded, outside):
        g.dep(client, dst, 8443)
    g.description = (f"ipBlock {base}.0.0.0/16 except {base}.0.5.0/24: the pod at {base}.0.5.10 is excluded, "
                     f"{base}.9.0.10 outside.")


def _union(g: Generated, rng: random.Random) -> None:
    ns = g.namespace(rng.choice(("analytics", "reports")))
    db = g.workload(ns, "warehouse", {"app": "warehouse"}, [tcp(5432)])
    a, b, c = (g.workload(ns, n, {"app": n}, [tcp(8000)]) for n in ("loader", "dashboard", "notebook"))
    g.policy(ns, "warehouse-from-loader", match(app="warehouse"),
             ingress=[allow_from({"podSelector": match(app="loader")})])
    g.policy(ns, "warehouse-from-dashboard", match(app="warehouse"),
             ingress=[allow_from({"podSelector": match(app="dashboard")}, port=5432)])
    for src in (a, b, c):
        g.dep(src, db, 5432)
    g.description = "Two policies select warehouse; their rules union: loader and dashboard get in, notebook does not."


def _default_deny_rollout(g: Generated, rng: random.Random) -> None:
    g.coredns()
    ns = g.namespace(rng.choice(("shop", "portal")))
    web = g.workload(ns, "web", {"app": "web"}, [tcp(8080)])
    api = g.workload(ns, "api", {"app": "api"}, [tcp(8000)])
    db = g.workload(ns, "db", {"app": "db"}, [tcp(5432)])
    g.policy(ns, "default-deny", {}, policyTypes=["Ingress", "Egress"])
    g.policy(ns, "api-ingress", match(app="api"), ingress=[allow_from({"podSelector": match(app="web")}, port=8000)])
    g.policy(ns, "db-ingress", match(app="db"), ingress=[allow_from({"podSelector": match(app="api")}, port=5432)])
    g.policy(ns, "api-egress", match(app="api"), policyTypes=["Egress"], egress=[
        {"to": [{"podSelector": match(app="db")}], "ports": [{"protocol": "TCP", "port": 5432}]},
        {"to": [{"namespaceSelector": ns_match("kube-system")}],
         "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}])
    g.dep(web, api, 8000)
    g.dep(api, db, 5432)
    g.description = ("Default deny both ways, half rolled out: ingress allows exist, web's egress allow is missing, "
                     "web and db lose DNS.")


TEMPLATES: dict[str, Callable[[Generated, random.Random], None]] = {
    "and-vs-or": _and_vs_or,
    "empty-vs-missing": _empty_vs_missing,
    "policytypes-defaults": _policy_types,
    "named-ports": _named_ports,
    "endport-ranges": _endport,
    "both-ends": _both_ends,
    "cross-namespace-label": _cross_ns_label,
    "dns-egress": _dns,
    "ipblock-except": _ipblock_except,
    "policy-union": _union,
    "default-deny-rollout": _default_deny_rollout,
}

#: The prompts each family is asked with (names; a run picks versions).
FAMILY_PROMPTS: dict[str, list[str]] = {name: ["flows", "breakage"] for name in TEMPLATES}
FAMILY_PROMPTS["dns-egress"] = ["dns", "flows"]
FAMILY_PROMPTS["default-deny-rollout"] = ["flows", "breakage", "dns"]


def build_template(template: str, seed: int, workloads: int) -> Generated:
    """The scenario `template` (one of TEMPLATES) with `seed`, padded with filler to `workloads` workloads.
    `builds.build` also knows the tiers, which compose many templates.

    Raises:
        KeyError: no such template (the message lists them).
    """
    if template not in TEMPLATES:
        raise KeyError(f"unknown scenario template {template!r}; known: {', '.join(sorted(TEMPLATES))}, tiered")
    rng = random.Random(f"{template}/{seed}")
    g = Generated()
    TEMPLATES[template](g, rng)
    add_filler(g, rng, workloads)
    return g


def stub(template: str, seed: int, workloads: int) -> dict[str, Any]:
    """The scenario file for a generated scenario: its id, family, scale, prompts and generator call."""
    return {
        "id": f"gen/{template}/w{workloads}-s{seed}",
        "family": template,
        "scale": workloads,
        "description": f"generated from template {template} with seed {seed}",
        "prompts": FAMILY_PROMPTS[template],
        "generate": {"template": template, "seed": seed, "workloads": workloads},
    }


def write_stubs(out: Path, templates: list[str], seeds: list[int], scales: list[int]) -> list[Path]:
    """Write one stub file per (template, scale, seed) under `out`; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for template in templates:
        for scale in scales:
            for seed in seeds:
                path = out / f"{template}-w{scale}-s{seed}.yaml"
                path.write_text(yaml.safe_dump(stub(template, seed, scale), sort_keys=False))
                paths.append(path)
    return paths


def _int_list(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
    return out


def main(argv: list[str] | None = None) -> None:
    """`python -m evals.generator --out DIR [--templates a,b] --seeds 1-3 --scales 5,20`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--templates", default=",".join(TEMPLATES))
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--scales", default="5")
    args = parser.parse_args(argv)
    paths = write_stubs(args.out, args.templates.split(","), _int_list(args.seeds), _int_list(args.scales))
    print(f"wrote {len(paths)} scenario stubs under {args.out}")


if __name__ == "__main__":
    main()
