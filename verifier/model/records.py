"""Records shared by dependency gathering, findings, diffs and claim checking; and how a file of declared
dependencies is known (the loader leaves it alone, the deps layer reads it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .bundle import Protocol, Severity, SourceRef

DependencySource = Literal["declared", "observed", "inferred"]

#: File read when `--deps` is not given, beside the manifests.
DEFAULT_DEPS_FILE = "netreason.deps.yaml"
#: The names a dependency file beside the manifests may have: never read as manifests.
DEPS_FILE_NAMES = (DEFAULT_DEPS_FILE, "netreason.deps.yml")


def looks_like_dependencies(values: list[Any]) -> bool:
    """Whether parsed documents are entries of a deps file (`verifier.deps.declared`) rather than Kubernetes objects.

    Every Kubernetes object has `kind` and `apiVersion`; an entry has `from` and `to` or `port`.
    A directory scan meets deps files under any name (`deps.yaml`), so content decides.
    """
    return bool(values) and all(
        isinstance(v, dict) and "kind" not in v and "apiVersion" not in v and "from" in v and ("to" in v or "port" in v)
        for v in values)


@dataclass(frozen=True, slots=True)
class Dependency:
    """A flow an app needs: `src` workload to `dst` workload (or `cidr`) on `port`.

    `port` is the port NetworkPolicy sees: the destination container port (a Service's
    target port already resolved). `service` and `service_port` say what the client
    dials when it goes through a Service.
    """

    src: str  # workload id namespace/name
    port: int
    protocol: Protocol = "TCP"
    dst: str | None = None  # workload id
    cidr: str | None = None  # external destination
    source: DependencySource = "declared"
    evidence: str = ""  # e.g. "inferred from env PAYMENTS_URL in deployment/api"
    service: str | None = None  # namespace/name of the Service dialled
    service_port: int | None = None
    origin: SourceRef | None = None  # where it was declared or inferred

    @property
    def target(self) -> str:
        return self.dst or self.cidr or "?"

    @property
    def dialled(self) -> str:
        """What the client dials: its Service when it goes through one, else the workload or CIDR."""
        return self.service or self.target

    @property
    def dialled_port(self) -> int:
        """The port the client dials: the Service port when it goes through a Service, else `port`."""
        return self.service_port or self.port

    def key(self) -> tuple[str, str, int, str]:
        return (self.src, self.target, self.port, self.protocol)


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of a review check, stable enough to diff and to show on a PR line."""

    rule: str  # stable id, e.g. "dns-egress-missing"
    severity: Severity
    object: str  # namespace/name of the workload or policy concerned
    message: str
    source: SourceRef | None = None
    fix: str | None = None  # a YAML snippet that would resolve it
    details: dict[str, Any] = field(default_factory=dict)

    def key(self) -> tuple[str, str, str]:
        """Identity across two versions of a bundle (for diffs): not the line or wording."""
        return (self.rule, self.object, str(self.details.get("key", "")))

    def with_fix(self, message: str, fix: str | None, details: dict[str, Any], source: SourceRef | None) -> Finding:
        """This finding with another `message`, `fix`, `details` and `source`.

        `dataclasses.replace` spelled out (it costs twice as much): lint attaches the converged fixes to every
        finding (10,648 at benchmark tier M) and moves it to its field's line in the same step. Every other
        field must be passed on here (a test checks it against `replace` with every field set).
        """
        return Finding(self.rule, self.severity, self.object, message, source, fix, details)
