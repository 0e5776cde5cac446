"""Hypothesis strategies for small random bundles over a tiny label and port vocabulary.

Small vocabularies make collisions (the interesting cases) likely: the same label on
several pods, a named port on some destinations but not others, ranges that overlap.
"""

from __future__ import annotations

from hypothesis import strategies as st

from verifier.model.bundle import (
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
    Workload,
)

KEYS = ["app", "tier", "env"]
VALUES = ["a", "b", "c"]
NAMESPACES = ["x", "y", "z"]
PORTS = [53, 80, 81, 443, 8080]
PORT_NAMES = ["http", "dns", "metrics"]

labels = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=3)


@st.composite
def requirements(draw) -> Requirement:
    op = draw(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]))
    key = draw(st.sampled_from(KEYS))
    if op in ("Exists", "DoesNotExist"):
        return Requirement(key, op)
    values = draw(st.lists(st.sampled_from(VALUES), min_size=1, max_size=2, unique=True))
    return Requirement(key, op, tuple(sorted(values)))


selectors = st.builds(lambda reqs: LabelSelector(tuple(reqs)), st.lists(requirements(), max_size=2))


@st.composite
def policy_ports(draw) -> PolicyPort:
    proto = draw(st.sampled_from(["TCP", "UDP"]))
    kind = draw(st.sampled_from(["num", "range", "name", "all"]))
    if kind == "num":
        return PolicyPort(proto, draw(st.sampled_from(PORTS)))
    if kind == "range":
        lo = draw(st.sampled_from(PORTS))
        return PolicyPort(proto, lo, draw(st.sampled_from([p for p in PORTS if p >= lo])))
    if kind == "name":
        return PolicyPort(proto, draw(st.sampled_from(PORT_NAMES)))
    return PolicyPort(proto, None)


@st.composite
def peers(draw) -> Peer:
    kind = draw(st.sampled_from(["pod", "ns", "both", "ip"]))
    if kind == "ip":
        cidr = draw(st.sampled_from(["10.0.0.0/24", "10.0.0.0/16", "0.0.0.0/0"]))
        excepts = draw(st.sampled_from([(), ("10.0.0.0/28",)]))  # inside each of the cidrs
        return Peer(ip_block=IPBlock(cidr, excepts))
    pod = draw(selectors) if kind in ("pod", "both") else None
    ns = draw(selectors) if kind in ("ns", "both") else None
    return Peer(pod_selector=pod, namespace_selector=ns)


rules = st.builds(
    Rule,
    peers=st.one_of(st.none(), st.lists(peers(), min_size=1, max_size=2).map(tuple)),
    ports=st.one_of(st.none(), st.lists(policy_ports(), min_size=1, max_size=2).map(tuple)),
)


@st.composite
def policies(draw, index: int) -> NetworkPolicy:
    types = draw(st.sampled_from([("Ingress",), ("Egress",), ("Ingress", "Egress")]))
    ingress = tuple(draw(st.lists(rules, max_size=2))) if "Ingress" in types else ()
    egress = tuple(draw(st.lists(rules, max_size=2))) if "Egress" in types else ()
    return NetworkPolicy(draw(st.sampled_from(NAMESPACES)), f"p{index}", draw(selectors), types, ingress, egress)


@st.composite
def workloads(draw, index: int) -> Workload:
    ports = [ContainerPort(p, draw(st.sampled_from(["TCP", "UDP"])), name) for p, name in zip(
        draw(st.lists(st.sampled_from(PORTS), max_size=3, unique=True)),
        draw(st.lists(st.sampled_from(PORT_NAMES), max_size=3, unique=True)),
    )]
    ip = draw(st.sampled_from([(), ("10.0.0.5",), ("10.0.0.40",), ("10.0.1.7",)]))
    host = draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans())
    return Workload("Pod", draw(st.sampled_from(NAMESPACES)), f"w{index}", draw(labels), tuple(ports), ip, host)


@st.composite
def bundles(draw) -> Bundle:
    n = draw(st.integers(1, 5))
    ws = [draw(workloads(i)) for i in range(n)]
    ps = [draw(policies(i)) for i in range(draw(st.integers(0, 4)))]
    nss = {}
    for name in NAMESPACES:
        extra = draw(labels)
        nss[name] = Namespace(name, {**extra, "kubernetes.io/metadata.name": name})
    return Bundle(nss, tuple(ws), (), tuple(ps))


# --- AdminNetworkPolicy / BaselineAdminNetworkPolicy ------------------------------------------

from verifier.model.admin import AdminPeer, AdminPolicy, AdminPort, AdminRule, AdminSubject  # noqa: E402


@st.composite
def admin_ports(draw) -> AdminPort:
    proto = draw(st.sampled_from(["TCP", "UDP"]))
    kind = draw(st.sampled_from(["num", "range", "name"]))
    if kind == "name":
        return AdminPort(name=draw(st.sampled_from(PORT_NAMES)))
    lo = draw(st.sampled_from(PORTS))
    hi = lo if kind == "num" else draw(st.sampled_from([p for p in PORTS if p > lo] or [lo]))
    return AdminPort(proto, lo, hi)


@st.composite
def admin_peers(draw, egress: bool) -> AdminPeer:
    kinds = ["ns", "pods", "networks", "nodes"] if egress else ["ns", "pods"]
    kind = draw(st.sampled_from(kinds))
    if kind == "networks":
        return AdminPeer(networks=tuple(draw(st.lists(st.sampled_from(["10.0.0.0/24", "10.0.0.0/16", "0.0.0.0/0"]),
                                                      min_size=1, max_size=2, unique=True))))
    if kind == "nodes":
        return AdminPeer(nodes=draw(selectors))
    return AdminPeer(namespaces=draw(selectors), pods=draw(selectors) if kind == "pods" else None)


@st.composite
def admin_rules(draw, egress: bool, actions: list[str]) -> AdminRule:
    peers_ = tuple(draw(st.lists(admin_peers(egress), min_size=1, max_size=2)))
    ports = draw(st.one_of(st.none(), st.lists(admin_ports(), min_size=1, max_size=2).map(tuple)))
    if ports and any(p.networks or p.nodes is not None for p in peers_):
        ports = tuple(p for p in ports if p.name is None) or None  # CEL: no namedPort with networks/nodes
    return AdminRule(draw(st.sampled_from(actions)), peers_, ports, f"r{draw(st.integers(0, 9))}")


@st.composite
def admin_policies(draw, index: int, baseline: bool = False) -> AdminPolicy:
    actions = ["Allow", "Deny"] if baseline else ["Allow", "Deny", "Pass"]
    pods = draw(st.one_of(st.none(), selectors))
    subject = AdminSubject(draw(selectors), pods)
    ingress = tuple(draw(st.lists(admin_rules(False, actions), max_size=2)))
    egress = tuple(draw(st.lists(admin_rules(True, actions), max_size=2)))
    if baseline:
        return AdminPolicy("BaselineAdminNetworkPolicy", "default", subject, None, ingress, egress)
    # Few priorities, so equal priorities (ordered by name) occur too.
    return AdminPolicy("AdminNetworkPolicy", f"anp{index}", subject, draw(st.sampled_from([1, 5, 5, 9])),
                       ingress, egress)


@st.composite
def admin_bundles(draw) -> Bundle:
    import dataclasses

    base = draw(bundles())
    anps = [draw(admin_policies(i)) for i in range(draw(st.integers(0, 3)))]
    if draw(st.booleans()):
        anps.append(draw(admin_policies(0, baseline=True)))
    return dataclasses.replace(base, admin_policies=tuple(anps))
