"""Dependencies read from the manifests themselves: env values that name a Service.

A value names a Service when it is a URL (`postgres://u:p@postgres.payments:5432/db`), a
`host:port` (`productcatalogservice:3550`, `svc.ns.svc.cluster.local:443`), or a bare host in a
variable whose name says it holds one (`REDIS_HOST=redis`, with the port in `REDIS_PORT` or the
Service's only port). Hosts resolve as cluster DNS does: `name` in the client's namespace,
`name.ns`, `name.ns.svc[.domain]`, `pod.name.ns.svc[.domain]`. Anything else is outside the
cluster and ignored. Env values never leave this module: evidence and issues name variables,
hosts and ports only (a URL may carry a password).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..model.bundle import Bundle, EnvVar, Issue, Service, ServicePort, Severity, Workload
from ..model.records import Dependency
from ..sets.addresses import is_ip_address
from ..suggest import LOOSE_CUTOFF, closest_names
from .endpoints import describe_ports, find_service, service_endpoints

#: Suffixes of variable names that hold a bare host name (longest first).
HOST_SUFFIXES = ("_SERVICE_HOST", "_HOSTNAME", "_ADDRESS", "_ENDPOINT", "_SERVICE", "_SERVER", "_HOST", "_ADDR")
#: Suffixes of the companion variable that holds the port of a `*_HOST` variable.
PORT_SUFFIXES = ("_PORT", "_PORT_NUMBER", "_SERVICE_PORT")
#: Well-known ports of URL schemes, used when a URL has no port and no Service port is named so.
SCHEME_PORTS = {
    "http": 80, "https": 443, "ws": 80, "wss": 443, "grpc": 80, "postgres": 5432, "postgresql": 5432,
    "mysql": 3306, "mariadb": 3306, "redis": 6379, "rediss": 6379, "mongodb": 27017, "amqp": 5672,
    "amqps": 5671, "nats": 4222, "memcached": 11211,
}

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
_HOST_PORT = re.compile(r"(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>\d{1,5})(/\S*)?")
_HOSTNAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\.?")
_VAR_REF = re.compile(r"\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)")
_LOOPBACK = {"localhost", "localhost.localdomain"}


@dataclass(frozen=True, slots=True)
class Address:
    """A host an env value names, with the port and URL scheme when the value says them."""

    host: str
    port: int | None = None
    scheme: str | None = None


def parse_addresses(name: str, value: str) -> list[Address]:
    """The addresses an env value names ([] for values that name no host).

    A comma-separated list counts when every element is a `host:port` or URL.
    """
    value = value.strip()
    if _URL.fullmatch(value):
        return _parse_url(value)
    parts = [p.strip() for p in value.split(",")] if "," in value else [value]
    if len(parts) > 1 and not all(_HOST_PORT.fullmatch(p) or _URL.fullmatch(p) for p in parts):
        return []
    found: list[Address] = []
    for part in parts:
        found.extend(_parse_one(name, part))
    return found


def _parse_one(name: str, value: str) -> list[Address]:
    if _URL.fullmatch(value):
        return _parse_url(value)
    m = _HOST_PORT.fullmatch(value)
    if m:
        return _host_port(m["host"], m["port"], None)
    host = value.lower()
    if _HOSTNAME.fullmatch(host) and (name.upper().endswith(HOST_SUFFIXES) or ".svc" in host):
        return [Address(host.rstrip("."))] if host not in _LOOPBACK else []
    return []


def _parse_url(value: str) -> list[Address]:
    try:
        parts = urlsplit(value)
    except ValueError:
        return []
    scheme = parts.scheme.lower()
    hosts = parts.netloc.rpartition("@")[2]  # drop user:password
    found: list[Address] = []
    for item in hosts.split(","):  # mongodb://a:1,b:2/db lists several hosts
        host, _, port = item.rpartition(":") if not item.endswith("]") else (item, "", "")
        if not host or not port.isdigit():
            host, port = item, ""
        found.extend(_host_port(host, port or None, scheme))
    return found


def _host_port(host: str, port: str | None, scheme: str | None) -> list[Address]:
    host = host.strip("[]").lower().rstrip(".")
    number = int(port) if port else None
    if not host or host in _LOOPBACK or (number is not None and not 1 <= number <= 65535):
        return []
    if not (is_ip_address(host) or (_HOSTNAME.fullmatch(host) and re.search("[a-z]", host))):
        return []
    return [Address(host, number, scheme)]


def expand_env(env: tuple[EnvVar, ...]) -> list[tuple[EnvVar, str]]:
    """Each env var with its value, `$(VAR)` references expanded as the kubelet does.

    API reference, EnvVar.value: "Variable references $(VAR_NAME) are expanded using the
    previously defined environment variables in the container ... Double $$ are reduced to a
    single $". Unresolvable references stay as written. Vars from `valueFrom` are skipped.
    """
    out: list[tuple[EnvVar, str]] = []
    seen: dict[tuple[str, str], str] = {}
    for var in env:
        if var.value is None:
            continue

        def sub(m: re.Match[str], container: str = var.container) -> str:
            if m.group(0) == "$$":
                return "$"
            return seen.get((container, m.group(1)), m.group(0))

        value = _VAR_REF.sub(sub, var.value)
        seen[(var.container, var.name)] = value
        out.append((var, value))
    return out


def port_variable(values: list[tuple[EnvVar, str]], var: EnvVar) -> tuple[str, int] | None:
    """The companion port of a host variable: `REDIS_HOST` -> `REDIS_PORT` (same container)."""
    upper = var.name.upper()
    suffix = next((s for s in HOST_SUFFIXES if upper.endswith(s)), None)
    if suffix is None:
        return None
    stem = var.name[: len(var.name) - len(suffix)]
    wanted = {(stem + s).upper() for s in PORT_SUFFIXES}
    for other, value in values:
        if other.container == var.container and other.name.upper() in wanted and value.strip().isdigit():
            number = int(value.strip())
            if 1 <= number <= 65535:
                return other.name, number
    return None


def infer_dependencies(bundle: Bundle) -> tuple[list[Dependency], list[Issue]]:
    """Dependencies named by env values, resolved through Services to workloads.

    Each Dependency's `port` is the container port behind the Service port dialled (what a
    NetworkPolicy matches); `service`/`service_port` keep what was dialled. Names that resolve
    to nothing become warning Issues, never dependencies. Pure: reads only the bundle.
    """
    deps: list[Dependency] = []
    issues: list[Issue] = []
    for w in bundle.workloads:
        values = expand_env(w.env)
        for var, value in values:
            hint = port_variable(values, var)
            for addr in parse_addresses(var.name, value):
                found, problems = _resolve(bundle, w, var, addr, hint)
                deps.extend(found)
                issues.extend(problems)
    return deps, issues


@dataclass(frozen=True, slots=True)
class _Context:
    workload: Workload
    var: EnvVar
    port_var: str | None

    @property
    def where(self) -> str:
        return f"env {self.var.name} in {self.workload.kind.lower()}/{self.workload.name}"

    def issue(self, message: str, severity: Severity = "warning") -> Issue:
        w = self.workload
        return Issue(f"{self.where}: {message}", w.source, severity=severity, object=f"{w.kind} {w.id}")

    def evidence(self) -> str:
        extra = f" (port from {self.port_var})" if self.port_var else ""
        return f"inferred from {self.where}{extra}"


def _resolve(
    bundle: Bundle, w: Workload, var: EnvVar, addr: Address, hint: tuple[str, int] | None
) -> tuple[list[Dependency], list[Issue]]:
    port_var, port = hint if addr.port is None and hint is not None else (None, addr.port)
    ctx = _Context(w, var, port_var)
    if is_ip_address(addr.host):
        return _resolve_ip(bundle, ctx, addr.host, port)
    ref = service_ref(bundle, addr.host, w.namespace)
    if ref is None:
        return [], []  # a name outside the cluster: no NetworkPolicy question to ask
    service = find_service(bundle, *ref)
    if service is None:
        return [], [ctx.issue(_no_service(bundle, ref, addr.host))]
    return _through_service(bundle, ctx, service, port, addr.scheme)


def service_ref(bundle: Bundle, host: str, namespace: str) -> tuple[str, str] | None:
    """(namespace, Service name) a cluster DNS name stands for; None for names outside the cluster.

    Kubernetes DNS: `<service>.<ns>.svc.<zone>` for Services, `<hostname>.<subdomain>.<ns>.svc.<zone>`
    for pods behind a headless Service; a pod's search path adds `<ns>.svc.<zone>` and `svc.<zone>`.
    """
    parts = host.rstrip(".").split(".")
    if len(parts) == 1:
        return namespace, parts[0]
    if len(parts) >= 3 and parts[2] == "svc":
        return parts[1], parts[0]
    if len(parts) >= 4 and parts[3] == "svc":
        return parts[2], parts[1]
    if len(parts) == 2 and parts[1] in bundle.namespaces:
        return parts[1], parts[0]
    return None


def _no_service(bundle: Bundle, ref: tuple[str, str], host: str) -> str:
    ns, name = ref
    if ns not in bundle.namespaces:
        return f"names host {host}, in namespace {ns}, which is not in the bundle; no dependency inferred"
    close = closest_names(name, (s.name for s in bundle.services if s.namespace == ns), cutoff=LOOSE_CUTOFF)
    hint = f" (closest: {', '.join(close)})" if close else ""
    return f"names host {host}, but there is no Service {ns}/{name} in the bundle{hint}; no dependency inferred"


def _through_service(
    bundle: Bundle, ctx: _Context, service: Service, port: int | None, scheme: str | None
) -> tuple[list[Dependency], list[Issue]]:
    chosen = dialled_ports(service, port, scheme)
    if isinstance(chosen, str):
        return [], [ctx.issue(chosen)]
    deps: list[Dependency] = []
    issues: list[Issue] = []
    for sp in chosen:
        endpoints, missing = service_endpoints(bundle, service, sp)
        if not endpoints and not missing:
            issues.append(ctx.issue(f"Service {service.id} selects no workload in the bundle; no dependency inferred"))
        for m in missing:
            issues.append(ctx.issue(f"Service {service.id} port {sp.port} targets {sp.target_port!r}, "
                                    f"which {m.id} does not serve; it is no endpoint"))
        deps.extend(
            Dependency(ctx.workload.id, ep.port, ep.protocol, dst=ep.workload.id, source="inferred",
                       evidence=ctx.evidence(), service=service.id, service_port=sp.port, origin=ctx.workload.source)
            for ep in endpoints
        )
    return deps, issues


def dialled_ports(service: Service, port: int | None, scheme: str | None) -> list[ServicePort] | str:
    """The Service ports a client dials: the port given, else the scheme's, else the only one.

    Returns a message (str) when no port or more than one candidate fits.
    """
    if port is not None:
        found = [sp for sp in service.ports if sp.port == port]
        return found or f"dials port {port}, but Service {service.id} exposes {describe_ports(service)}"
    if scheme:
        found = [sp for sp in service.ports if sp.name == scheme]
        found = found or [sp for sp in service.ports if sp.port == SCHEME_PORTS.get(scheme)]
        if found:
            return found
    if len({sp.port for sp in service.ports}) == 1:
        return list(service.ports)
    return (f"names Service {service.id} without a port, and it exposes {describe_ports(service)}; "
            f"add the port to the value or declare the dependency")


def _resolve_ip(bundle: Bundle, ctx: _Context, ip: str, port: int | None) -> tuple[list[Dependency], list[Issue]]:
    if port is None:
        return [], []
    owner = next((w for w in bundle.workloads if ip in w.pod_ips), None)
    if owner is not None:
        return [Dependency(ctx.workload.id, port, "TCP", dst=owner.id, source="inferred",
                           evidence=ctx.evidence(), origin=ctx.workload.source)], []
    addr = ipaddress.ip_address(ip)
    if _maybe_in_cluster(addr):
        note = (f"names a non-public address on port {port}; netreason cannot tell a pod, Service or outside host; "
                "declare it")
        return [], [ctx.issue(note, "info")]
    cidr = f"{ip}/{addr.max_prefixlen}"
    return [Dependency(ctx.workload.id, port, "TCP", cidr=cidr, source="inferred",
                       evidence=ctx.evidence(), origin=ctx.workload.source)], []


#: Ranges pod and Service CIDRs are drawn from (RFC 1918, RFC 6598 shared space, IPv6 ULA).
_CLUSTER_RANGES = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                          "100.64.0.0/10", "fc00::/7"))


def _maybe_in_cluster(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address could be a pod or Service IP (or is no real destination at all)."""
    if addr.is_loopback or addr.is_link_local or addr.is_unspecified or addr.is_multicast:
        return True
    return any(addr.version == net.version and addr in net for net in _CLUSTER_RANGES)
