"""Probes: the connection attempts that prove a rollout is enforced, and what their outcomes mean.

"A timeout is success; a connection means your policy isn't selecting what you think." For a
bundle (usually the manifests plus a plan's policies), `probes` lists every dependency, which
must connect, and for each isolated workload its nearest neighbours that no dependency needs,
which must fail. `diagnose` compares observed outcomes with the verifier and says what a
mismatch means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..engine.connectivity import Connectivity
from ..engine.explain import Explainer
from ..model.bundle import Bundle, Protocol, Service, Workload
from ..model.records import Dependency

PROBE_SCHEMA = "netreason.probes/v1"
#: How many must-fail neighbours to try per isolated workload.
NEIGHBOURS = 2
Expectation = Literal["connect", "fail"]
EXEC_KINDS = {"Deployment": "deploy", "StatefulSet": "statefulset", "DaemonSet": "daemonset", "Pod": "pod",
              "ReplicaSet": "replicaset", "ReplicationController": "rc", "Job": "job"}


@dataclass(frozen=True, slots=True)
class Probe:
    """`kubectl exec -n namespace exec_target -- nc -zv -w 2 host port` from `src` to `dst`."""

    id: int
    src: str
    dst: str
    host: str
    port: int  # what the client dials (the Service port when through a Service)
    target_port: int  # what NetworkPolicy sees
    protocol: Protocol
    expect: Expectation
    why: str
    exec_target: str
    denied_because: str = ""  # the verifier's closest miss, for must-fail probes

    @property
    def namespace(self) -> str:
        return self.src.split("/", 1)[0]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "from": self.src, "to": self.dst, "host": self.host, "port": self.port,
                "target_port": self.target_port, "protocol": self.protocol, "expect": self.expect, "why": self.why,
                "namespace": self.namespace, "exec": self.exec_target, "denied_because": self.denied_because}


def exec_target(w: Workload) -> str:
    return f"{EXEC_KINDS.get(w.kind, 'pod')}/{w.name}"


def probes(bundle: Bundle, deps: Sequence[Dependency], conn: Connectivity,
           namespaces: Sequence[str] | None = None) -> list[Probe]:
    """Must-connect probes for the dependencies and must-fail probes for isolated workloads' neighbours.

    `namespaces` limits the probes to flows touching them (one step of a plan).
    """
    by_id = {w.id: w for w in bundle.workloads}
    keep = set(namespaces) if namespaces else {w.namespace for w in bundle.workloads}
    out: list[Probe] = []
    needed: set[tuple[str, str | None]] = {(d.src, d.dst) for d in deps if d.dst}
    for d in deps:
        src, dst = by_id.get(d.src), by_id.get(d.dst or "")
        if src is None or dst is None or src.host_network or not {src.namespace, dst.namespace} & keep:
            continue
        host, port = _address(bundle, d, dst)
        expect: Expectation = "connect" if conn.is_allowed(src.id, dst.id, d.port, d.protocol) else "fail"
        out.append(Probe(len(out) + 1, src.id, dst.id, host, port, d.port, d.protocol, expect,
                         f"{d.source} dependency", exec_target(src)))
    out += _neighbour_probes(bundle, conn, by_id, needed, keep, len(out))
    return out


def _address(bundle: Bundle, d: Dependency, dst: Workload) -> tuple[str, int]:
    """The Service name and port the client dials, else the pod's address (resolved by the script)."""
    if d.service:
        ns, name = d.service.split("/", 1)
        return f"{name}.{ns}", d.service_port or d.port
    svc = _service_for(bundle, dst, d.port)
    if svc is not None:
        port = next(sp.port for sp in svc.ports if sp.target_port == d.port or sp.port == d.port)
        return f"{svc.name}.{svc.namespace}", port
    return f"pod:{dst.id}", d.port


def _service_for(bundle: Bundle, w: Workload, port: int) -> Service | None:
    for svc in bundle.services:
        if svc.namespace != w.namespace or not svc.selector:
            continue
        if all(w.labels.get(k) == v for k, v in svc.selector.items()) and any(
                sp.target_port == port or sp.port == port for sp in svc.ports):
            return svc
    return None


def _neighbour_probes(bundle: Bundle, conn: Connectivity, by_id: dict[str, Workload],
                      needed: set[tuple[str, str | None]],
                      keep: set[str], start: int) -> list[Probe]:
    """For each ingress-isolated workload in `keep`, the nearest workloads (same namespace first) it must refuse."""
    c = conn.compiled
    explainer = Explainer(bundle)
    out: list[Probe] = []
    for w in sorted(bundle.workloads, key=lambda w: w.id):
        if w.namespace not in keep or w.host_network or not w.ports:
            continue
        if not c.isolated(c.class_of_workload(w.id), "ingress"):
            continue
        port = w.ports[0]
        near = sorted((x for x in bundle.workloads if x.id != w.id and not x.host_network
                       and (x.id, w.id) not in needed),
                      key=lambda x: (x.namespace != w.namespace, x.name))
        tried = 0
        for x in near:
            if tried == NEIGHBOURS:
                break
            if conn.is_allowed(x.id, w.id, port.port, port.protocol):
                continue
            svc = _service_for(bundle, w, port.port)
            host = f"{svc.name}.{svc.namespace}" if svc else f"pod:{w.id}"
            dial = next((sp.port for sp in svc.ports if sp.target_port == port.port), port.port) if svc else port.port
            out.append(Probe(start + len(out) + 1, x.id, w.id, host, dial, port.port, port.protocol, "fail",
                             f"nearest neighbour of newly isolated {w.id}; no dependency needs it", exec_target(x),
                             _closest_miss(explainer, x, w, port.port, port.protocol)))
            tried += 1
    return out


def _closest_miss(explainer: Explainer, src: Workload, dst: Workload, port: int, protocol: Protocol) -> str:
    verdict = explainer.check(src.id, dst.id, port, protocol)
    side = verdict.ingress if not verdict.ingress.allowed else verdict.egress
    owner = dst.id if side.direction == "ingress" else src.id
    return f"{side.direction} at {owner}: {side.explain()}"


# --- reading outcomes ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Diagnosis:
    probe: dict[str, Any]
    outcome: str  # connected | failed
    ok: bool
    diagnosis: str

    def as_json(self) -> dict[str, Any]:
        return {**self.probe, "outcome": self.outcome, "ok": self.ok, "diagnosis": self.diagnosis}


def diagnose(results: Sequence[tuple[dict[str, Any], str]]) -> tuple[list[Diagnosis], list[str]]:
    """Each (probe, outcome) judged against the verifier, and the overall conclusions.

    Allowed but failed: a policy elsewhere (not in these manifests), the app, or the CNI.
    Denied but connected: the CNI does not enforce NetworkPolicy, or a policy does not select
    what you think (the cluster's labels differ from the manifests'), with the closest miss.
    """
    out = []
    for probe, outcome in results:
        connected = outcome == "connected"
        if (probe["expect"] == "connect") == connected:
            out.append(Diagnosis(probe, outcome, True, "as the policies say"))
        elif probe["expect"] == "connect":
            out.append(Diagnosis(probe, outcome, False,
                                 "allowed by these policies but failed: a policy not in these manifests, the app "
                                 "(not listening on the port, or not ready), or the network plugin"))
        else:
            out.append(Diagnosis(probe, outcome, False, _unexpected_connection(probe)))
    return out, conclusions(out)


def _unexpected_connection(probe: dict[str, Any]) -> str:
    why = f" The verifier's closest miss: {probe['denied_because']}" if probe.get("denied_because") else ""
    return ("denied by these policies but connected: the network plugin does not enforce NetworkPolicy, or a "
            "policy does not select what you think (the pods' labels in the cluster differ from the manifests')."
            + why)


def conclusions(found: Sequence[Diagnosis]) -> list[str]:
    """What the pattern of mismatches points at."""
    must_fail = [d for d in found if d.probe["expect"] == "fail"]
    leaked = [d for d in must_fail if not d.ok]
    failed = [d for d in found if d.probe["expect"] == "connect" and not d.ok]
    out = []
    if must_fail and len(leaked) == len(must_fail):
        out.append(f"every one of the {len(must_fail)} connections the policies deny connected: the network plugin "
                   "does not enforce NetworkPolicy (flannel alone, or enforcement off); the policies are decorative")
    elif leaked:
        targets = sorted({d.probe["to"] for d in leaked})
        out.append(f"{len(leaked)} of {len(must_fail)} denied connections connected, all to {', '.join(targets)}: "
                   f"the policies isolating {', '.join(targets)} do not select its pods in the cluster (label mismatch "
                   "between the manifests and the running pods), while others are enforced")
    if failed:
        out.append(f"{len(failed)} allowed connection(s) failed: check policies not in these manifests, the apps, "
                   "and the network plugin")
    if not out:
        out.append("every probe behaved as the policies say: the rollout is enforced")
    return out


__all__ = ["PROBE_SCHEMA", "Diagnosis", "Probe", "conclusions", "diagnose", "exec_target", "probes"]
