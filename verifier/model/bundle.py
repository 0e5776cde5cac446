"""The world model: frozen records of what a bundle of manifests declares.

Everything here is parsed and validated already (see `objects.py` and `validate.py`);
the evaluator (`compile.py`, `connectivity.py`) reads only these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from typing import Protocol as Interface  # `Protocol` here is the network protocol

if TYPE_CHECKING:
    from .admin import AdminPolicy
    from .routes import Route

Protocol = Literal["TCP", "UDP", "SCTP"]
PROTOCOLS: tuple[Protocol, ...] = ("TCP", "UDP", "SCTP")

#: Label every namespace gets from the API server (Kubernetes >= 1.21).
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

WORKLOAD_KINDS = (
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
)


def _set_id(obj: Workload | NetworkPolicy) -> None:
    """Store `obj.id` ("namespace/name") at construction, `dataclasses.replace` included.

    A field, not a property: lint reads it about 258,000 times at benchmark tier M. It takes no part in
    equality, hashing or repr (`compare=False, repr=False`) and cannot be passed (`init=False`), so it can
    never disagree with `namespace` and `name`; pickling a slots dataclass keeps every field.
    """
    object.__setattr__(obj, "id", f"{obj.namespace}/{obj.name}")


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where an object came from: file (or `-` for stdin), 1-based line, document index."""

    file: str
    line: int = 0
    document: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True, slots=True)
class Namespace:
    name: str
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    implicit: bool = False  # used by objects but not defined in the bundle
    source: SourceRef | None = None


@dataclass(frozen=True, slots=True)
class ContainerPort:
    port: int
    protocol: Protocol = "TCP"
    name: str | None = None


@dataclass(frozen=True, slots=True)
class EnvVar:
    """An env entry of a container; `value` stays on the machine (never put in a prompt)."""

    container: str
    name: str
    value: str | None


@dataclass(frozen=True, slots=True)
class Workload:
    """A Pod or a pod template owner; all its replicas share labels and ports."""

    kind: str
    namespace: str
    name: str
    labels: dict[str, str]
    ports: tuple[ContainerPort, ...] = ()
    pod_ips: tuple[str, ...] = ()
    host_network: bool = False
    replicas: int = 1
    env: tuple[EnvVar, ...] = ()
    annotations: dict[str, str] = field(default_factory=dict)
    source: SourceRef | None = None
    #: Mid-rollout pods with other labels: the id of the workload this is one class of ("" otherwise).
    variant_of: str = ""
    #: "namespace/name", computed once: read hundreds of thousands of times at scale (see `_set_id`).
    id: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _set_id(self)


@dataclass(frozen=True, slots=True)
class ServicePort:
    port: int
    target_port: int | str  # a number, or the name of a container port
    protocol: Protocol = "TCP"
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Service:
    namespace: str
    name: str
    selector: dict[str, str] | None  # None: no selector (endpoints managed by hand)
    ports: tuple[ServicePort, ...] = ()
    type: str = "ClusterIP"
    source: SourceRef | None = None

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"


Operator = Literal["In", "NotIn", "Exists", "DoesNotExist"]


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.operator == "Exists":
            return self.key
        if self.operator == "DoesNotExist":
            return f"!{self.key}"
        if self.operator == "In" and len(self.values) == 1:
            return f"{self.key}={self.values[0]}"
        if self.operator == "NotIn" and len(self.values) == 1:
            return f"{self.key}!={self.values[0]}"
        op = "in" if self.operator == "In" else "notin"
        return f"{self.key} {op} ({','.join(self.values)})"


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A metav1.LabelSelector as a conjunction of requirements.

    matchLabels entries become `In` requirements with one value. An empty selector
    (no requirements) matches everything.
    """

    requirements: tuple[Requirement, ...] = ()
    #: `hash((requirements,))`, the value the generated `__hash__` returned, computed once: the review rules key
    #: their memos by selector (policies repeat them), about 57,000 lookups per lint at benchmark tier M, and
    #: each hashed every requirement again.
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.requirements,)))

    def __hash__(self) -> int:
        return self._hash

    @property
    def is_empty(self) -> bool:
        return not self.requirements

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements) or "<all>"


@dataclass(frozen=True, slots=True)
class IPBlock:
    cidr: str
    excepts: tuple[str, ...] = ()

    def __str__(self) -> str:
        if not self.excepts:
            return self.cidr
        return f"{self.cidr} except {', '.join(self.excepts)}"


@dataclass(frozen=True, slots=True)
class Peer:
    """One element of `from`/`to`.

    Exactly one of (pod_selector and/or namespace_selector) or ip_block is set.
    A peer with only pod_selector selects pods in the policy's own namespace.
    """

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None


@dataclass(frozen=True, slots=True)
class PolicyPort:
    """One element of `ports`: port None means every port of `protocol`."""

    protocol: Protocol = "TCP"
    port: int | str | None = None
    end_port: int | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """An ingress or egress rule.

    `peers` None means the `from`/`to` field was empty or missing: every source or
    destination. `ports` None means empty or missing: every port.
    """

    peers: tuple[Peer, ...] | None = None
    ports: tuple[PolicyPort, ...] | None = None

    @property
    def admits_outside(self) -> bool:
        """Whether the rule may admit addresses outside the cluster: it has no peers ("If this field is empty
        or missing, this rule matches all sources", resp. destinations), or an ipBlock peer."""
        if self.peers is None:
            return True
        for peer in self.peers:  # noqa: SIM110 -- a loop: asked of every rule of a cluster's policies, `any` costs more
            if peer.ip_block is not None:
                return True
        return False


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    namespace: str
    name: str
    pod_selector: LabelSelector
    policy_types: tuple[str, ...]  # normalized: subset of ("Ingress", "Egress")
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    source: SourceRef | None = None
    #: "namespace/name", computed once (see `_set_id`).
    id: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _set_id(self)

    def with_pod_selector(self, selector: LabelSelector) -> NetworkPolicy:
        """This policy with another podSelector.

        `dataclasses.replace` spelled out (it costs twice as much): a fix round applies a podSelector fix to
        each policy that selected nothing (2,185 at benchmark tier M). Every other field must be passed on
        here (a test checks it against `replace` with every field set).
        """
        return NetworkPolicy(self.namespace, self.name, selector, self.policy_types, self.ingress, self.egress,
                             self.source)

    @property
    def affects_ingress(self) -> bool:
        return "Ingress" in self.policy_types

    @property
    def affects_egress(self) -> bool:
        return "Egress" in self.policy_types


class FieldLineSource(Interface):
    """Where an object's fields sit in its text: `line("spec.ingress[0].from[1]")` (see `verifier.input.documents`)."""

    def line(self, path: str) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Bundle:
    """Everything the loader accepted, plus what it skipped and why."""

    namespaces: dict[str, Namespace]
    workloads: tuple[Workload, ...]
    services: tuple[Service, ...]
    policies: tuple[NetworkPolicy, ...]
    skipped_kinds: dict[str, int] = field(default_factory=dict)
    issues: tuple[Issue, ...] = ()
    other_objects: tuple[OtherObject, ...] = ()
    #: Field lines of each policy, by the (file, line) of its source: recorded once, while parsing.
    field_lines: dict[tuple[str, int], FieldLineSource] = field(default_factory=dict, compare=False, repr=False)
    #: AdminNetworkPolicies and the BaselineAdminNetworkPolicy (see `admin.py`).
    admin_policies: tuple[AdminPolicy, ...] = ()
    #: Ingress, Route and Gateway API routes: entry points from outside (see `routes.py`).
    routes: tuple[Route, ...] = ()
    #: The values of the input's Secrets (`data` decoded, `stringData`), kept only so that text bound for
    #: a model (a chat question) can be scrubbed of them: no brief, report or store reads this field.
    secret_values: frozenset[str] = field(default_factory=frozenset, compare=False, repr=False)

    def workload(self, ref: str) -> Workload | None:
        for w in self.workloads:
            if w.id == ref:
                return w
        return None


@dataclass(frozen=True, slots=True)
class OtherObject:
    """A skipped object kept by kind/name only (e.g. Secrets, for redaction and linting)."""

    kind: str
    namespace: str | None
    name: str
    source: SourceRef | None = None


Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem found while loading or validating, with its location.

    `field_path` is the API field path inside the object (`spec.ingress[0].from[1]...`).
    """

    message: str
    source: SourceRef | None = None
    field_path: str = ""
    severity: Severity = "error"
    object: str = ""  # kind namespace/name, when known
    #: "syntax" for a file that could not be parsed at all (nothing after the error was read).
    code: str = ""

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        path = f"{self.field_path}: " if self.field_path else ""
        return f"{where}{path}{self.message}"
