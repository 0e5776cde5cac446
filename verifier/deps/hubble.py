"""Observed traffic: Cilium Hubble flow exports (`hubble observe -o json`), as dependencies.

The export is JSON Lines: one object per line, each a GetFlowsResponse with the flow under
`flow` (lines without one, such as `lost_events` or `node_status`, are skipped). Field names
are the protobuf ones of `flow.Flow`: `source`/`destination` endpoints (`namespace`,
`pod_name`, `labels` as `k8s:key=value`, `workloads` [{`name`, `kind`}]), `IP` {`source`,
`destination`}, `l4` {`TCP`|`UDP`|`SCTP` {`source_port`, `destination_port`}}, `verdict`,
`traffic_direction`, `is_reply`, `destination_service`.

Flows are aggregated to workload pairs: a pod maps to its workload through `workloads[].name`
when Hubble reports it, else through the generated pod-name suffix, else through its labels.
Replies are skipped (the connection is the request's). Flows to addresses outside the cluster
(`reserved:world`) become cidr dependencies on the single address.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..model.bundle import PROTOCOLS, Bundle, Issue, Protocol, SourceRef, Workload
from ..model.records import Dependency

#: Labels Cilium adds to every endpoint; they say nothing about which workload a pod is.
_CILIUM_LABEL_PREFIXES = ("io.cilium.", "io.kubernetes.pod.namespace")
#: Reserved identities of addresses outside the cluster (cidr dependencies).
_OUTSIDE = {"reserved:world", "reserved:world-ipv4", "reserved:world-ipv6", "reserved:kube-apiserver"}
#: What follows a workload's name in its pods' names: ReplicaSet hash + random suffix
#: (Deployment, CronJob's Job), random suffix (DaemonSet, Job, ReplicaSet), ordinal (StatefulSet).
_POD_SUFFIX = re.compile(r"(?:[a-z0-9]{1,10}-)?[a-z0-9]{5}|\d+")


@dataclass(frozen=True, slots=True)
class FlowEndpoint:
    """One side of a flow as Hubble saw it."""

    namespace: str | None = None
    pod_name: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    reserved: tuple[str, ...] = ()  # `reserved:*` identity labels (world, host, ...)
    workloads: tuple[tuple[str, str], ...] = ()  # (kind, name) of the owning workloads
    ip: str | None = None

    def describe(self) -> str:
        if self.namespace:
            return f"pod {self.namespace}/{self.pod_name or '?'}"
        return f"{','.join(self.reserved) or 'unknown endpoint'} {self.ip or ''}".strip()


@dataclass(frozen=True, slots=True)
class Flow:
    """One flow record: who opened what to whom, and what the datapath decided."""

    source: FlowEndpoint
    destination: FlowEndpoint
    protocol: Protocol | None
    port: int | None
    verdict: str
    direction: str
    is_reply: bool
    service: str | None  # destination_service as namespace/name
    line: int  # line of the export (or 1-based record index)


def parse_flows(data: str | Iterable[dict[str, Any]], origin: str = "hubble export") -> tuple[list[Flow], list[Issue]]:
    """Flows from an export's text (JSON Lines) or from already-parsed records.

    A record is a GetFlowsResponse (`{"flow": {...}, ...}`) or a bare flow object. Lines that
    are not JSON become error Issues naming `origin:line`; records without a flow are skipped.
    """
    flows: list[Flow] = []
    issues: list[Issue] = []
    for line, record in _records(data, origin, issues):
        flow = record.get("flow", record) if isinstance(record, dict) else None
        if isinstance(flow, dict) and ("source" in flow or "IP" in flow):
            problem = _shape_problem(flow)
            if problem is not None:
                issues.append(Issue(f"not a Hubble flow record: {problem}; export with `hubble observe -o json`",
                                    SourceRef(origin, line)))
                continue
            flows.append(_flow(flow, line))
    return flows, issues


#: The fields of a flow this module reads, and the JSON type each must have when present.
_FLOW_FIELDS: tuple[tuple[str, type], ...] = (
    ("source", dict), ("destination", dict), ("IP", dict), ("l4", dict), ("destination_service", dict))
_ENDPOINT_FIELDS: tuple[tuple[str, type], ...] = (("labels", list), ("workloads", list))


def _shape_problem(flow: dict[str, Any]) -> str | None:
    """What is wrong with the shape of a flow record (a field of the wrong JSON type), or None."""
    for name, kind in _FLOW_FIELDS:
        if flow.get(name) is not None and not isinstance(flow[name], kind):
            return f"flow.{name} is a {type(flow[name]).__name__}, expected an object"
    for side in ("source", "destination"):
        ep = flow.get(side) or {}
        for name, kind in _ENDPOINT_FIELDS:
            if ep.get(name) is not None and not isinstance(ep[name], kind):
                return f"flow.{side}.{name} is a {type(ep[name]).__name__}, expected a list"
        if not all(isinstance(label, str) for label in ep.get("labels") or ()):
            return f"flow.{side}.labels holds a value that is not a string"
        if not all(isinstance(w, dict) for w in ep.get("workloads") or ()):
            return f"flow.{side}.workloads holds a value that is not an object"
    return None


def _records(data: str | Iterable[dict[str, Any]], origin: str, issues: list[Issue]) -> Iterator[tuple[int, Any]]:
    if not isinstance(data, str):
        yield from enumerate(data, start=1)
        return
    for number, text in enumerate(data.splitlines(), start=1):
        if not text.strip():
            continue
        try:
            yield number, json.loads(text)
        except json.JSONDecodeError as exc:
            issues.append(Issue(f"not a JSON flow record ({exc.msg}); export with `hubble observe -o json`",
                                SourceRef(origin, number)))
        except RecursionError:
            issues.append(Issue("not a Hubble flow record: nested too deeply", SourceRef(origin, number)))


def _flow(flow: dict[str, Any], line: int) -> Flow:
    ip = flow.get("IP") or {}
    protocol, port, flags = _l4(flow.get("l4") or {})
    svc = flow.get("destination_service") or {}
    service = f"{svc.get('namespace')}/{svc.get('name')}" if svc.get("name") and svc.get("namespace") else None
    # `is_reply` is absent when Hubble cannot tell; `reply` is its deprecated predecessor.
    # A SYN+ACK is the server's answer whatever the flags say about direction.
    reply = bool(flow.get("is_reply", flow.get("reply", False))) or (flags.get("SYN") and flags.get("ACK"))
    return Flow(
        source=_endpoint(flow.get("source") or {}, ip.get("source")),
        destination=_endpoint(flow.get("destination") or {}, ip.get("destination")),
        protocol=protocol,
        port=port,
        verdict=str(flow.get("verdict") or "VERDICT_UNKNOWN"),
        direction=str(flow.get("traffic_direction") or "TRAFFIC_DIRECTION_UNKNOWN"),
        is_reply=bool(reply),
        service=service,
        line=line,
    )


def _l4(l4: dict[str, Any]) -> tuple[Protocol | None, int | None, dict[str, Any]]:
    for proto in PROTOCOLS:
        body = l4.get(proto)
        if isinstance(body, dict) and isinstance(body.get("destination_port"), int):
            return proto, body["destination_port"], body.get("flags") or {}
    return None, None, {}  # ICMP or no L4: no port for a NetworkPolicy to match


def _endpoint(ep: dict[str, Any], ip: str | None) -> FlowEndpoint:
    labels: dict[str, str] = {}
    reserved: list[str] = []
    for raw in ep.get("labels") or ():
        if raw.startswith("reserved:"):
            reserved.append(raw)
            continue
        key, _, value = raw.partition(":")[2].partition("=") if raw.startswith("k8s:") else ("", "", "")
        if key and not key.startswith(_CILIUM_LABEL_PREFIXES):
            labels[key] = value
    owners = tuple((str(w.get("kind", "")), str(w["name"])) for w in ep.get("workloads") or () if w.get("name"))
    return FlowEndpoint(ep.get("namespace") or None, ep.get("pod_name") or None, labels, tuple(reserved), owners, ip)


class WorkloadMatcher:
    """Maps Hubble endpoints to the bundle's workloads (cached per endpoint identity)."""

    def __init__(self, bundle: Bundle) -> None:
        self._by_ns: dict[str, list[Workload]] = defaultdict(list)
        for w in bundle.workloads:
            self._by_ns[w.namespace].append(w)

    def match(self, ep: FlowEndpoint) -> Workload | None:
        """The workload whose pod `ep` is: by Hubble's owner, pod-name prefix, then labels."""
        if not ep.namespace:
            return None
        candidates = self._by_ns.get(ep.namespace, [])
        return self._by_owner(candidates, ep) or self._by_pod_name(candidates, ep) or self._by_labels(candidates, ep)

    @staticmethod
    def _by_owner(candidates: list[Workload], ep: FlowEndpoint) -> Workload | None:
        for kind, name in ep.workloads:
            named = [w for w in candidates if w.name == name]
            exact = [w for w in named if w.kind == kind]
            if exact or named:
                return (exact or named)[0]
        return None

    @staticmethod
    def _by_pod_name(candidates: list[Workload], ep: FlowEndpoint) -> Workload | None:
        pod = ep.pod_name or ""
        exact = [w for w in candidates if w.kind == "Pod" and w.name == pod]
        if exact:
            return exact[0]
        owners = [w for w in candidates if w.kind != "Pod" and pod.startswith(w.name + "-")
                  and _POD_SUFFIX.fullmatch(pod[len(w.name) + 1:])]
        return max(owners, key=lambda w: len(w.name)) if owners else None

    @staticmethod
    def _by_labels(candidates: list[Workload], ep: FlowEndpoint) -> Workload | None:
        fits = [w for w in candidates if w.labels and all(ep.labels.get(k) == v for k, v in w.labels.items())]
        return fits[0] if len(fits) == 1 else None


@dataclass
class _Tally:
    verdicts: Counter[str] = field(default_factory=Counter)
    lines: list[int] = field(default_factory=list)
    services: set[str] = field(default_factory=set)


def observed_dependencies(
    bundle: Bundle, flows: Iterable[Flow], origin: str = "hubble export"
) -> tuple[list[Dependency], list[Issue]]:
    """One Dependency per (source workload, destination workload or address, port, protocol).

    Replies and flows without a port are skipped; endpoints that match no workload of the
    bundle are reported once each as warning Issues (with the lines they appear on).
    """
    matcher = WorkloadMatcher(bundle)
    tallies: dict[tuple[str, str | None, str | None, int, Protocol], _Tally] = defaultdict(_Tally)
    unmatched: dict[str, list[int]] = defaultdict(list)
    for flow in flows:
        key = _key(matcher, flow, unmatched)
        if key is not None:
            tally = tallies[key]
            tally.verdicts[flow.verdict] += 1
            tally.lines.append(flow.line)
            if flow.service:
                tally.services.add(flow.service)
    deps = [_dependency(key, tally, origin) for key, tally in tallies.items()]
    return deps, [_unmatched_issue(what, lines, origin) for what, lines in unmatched.items()]


def _key(
    matcher: WorkloadMatcher, flow: Flow, unmatched: dict[str, list[int]]
) -> tuple[str, str | None, str | None, int, Protocol] | None:
    if flow.is_reply or flow.port is None or flow.protocol is None:
        return None
    src = matcher.match(flow.source)
    if src is None:
        if flow.source.namespace:  # traffic from outside the cluster has no client workload
            unmatched[flow.source.describe()].append(flow.line)
        return None
    if flow.destination.namespace:
        dst = matcher.match(flow.destination)
        if dst is None:
            unmatched[flow.destination.describe()].append(flow.line)
            return None
        return src.id, dst.id, None, flow.port, flow.protocol
    cidr = _outside_cidr(flow.destination)
    return (src.id, None, cidr, flow.port, flow.protocol) if cidr else None


def _outside_cidr(ep: FlowEndpoint) -> str | None:
    """`ip/32` (or /128) for a destination outside the cluster; None for nodes and unknowns."""
    if not ep.ip or not (_OUTSIDE & set(ep.reserved)):
        return None
    try:
        addr = ipaddress.ip_address(ep.ip)
    except ValueError:
        return None
    return f"{addr}/{addr.max_prefixlen}"


def _dependency(key: tuple[str, str | None, str | None, int, Protocol], tally: _Tally, origin: str) -> Dependency:
    src, dst, cidr, port, protocol = key
    counts = ", ".join(f"{n} {v.lower()}" for v, n in sorted(tally.verdicts.items()))
    total = sum(tally.verdicts.values())
    first = min(tally.lines)
    evidence = f"observed in {origin}: {total} flow{'s' if total != 1 else ''} ({counts}), first at line {first}"
    service = next(iter(sorted(tally.services)), None)
    return Dependency(src, port, protocol, dst=dst, cidr=cidr, source="observed", evidence=evidence,
                      service=service, origin=SourceRef(origin, first))


def _unmatched_issue(what: str, lines: list[int], origin: str) -> Issue:
    shown = ", ".join(str(n) for n in lines[:5]) + (", ..." if len(lines) > 5 else "")
    return Issue(f"{what} matches no workload of the bundle (by owner, pod name or labels); "
                 f"{len(lines)} flow(s) skipped (lines {shown})", SourceRef(origin, lines[0]), severity="warning")
