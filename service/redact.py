"""Keeping secrets and names out of prompts: redaction and reversible pseudonyms.

Redaction. The brief never prints env values, annotations, images, commands, Secret or
ConfigMap data (see `service.brief`). Text that reaches a prompt from elsewhere (a user's
question, a diff's finding messages) goes through `redact_text`, which blanks every env
value and annotation value the bundle holds, as defence in depth.

Pseudonyms (`--anonymize`). `Pseudonyms.for_bundle` builds a reversible, deterministic
mapping for namespace names (`ns-1`), object names of workloads, Services and policies
(`name-1`; one map, so Deployment `api` and Service `api` stay the same name), label keys
(`key-1`), label values (`val-1`) and container port names (`port-1`, applied alike to
container ports, Service targetPorts and policy ports, so named ports still resolve). Kept
as they are, because the semantics or the DNS questions rely on them: the
`kubernetes.io/metadata.name` key (its values follow the namespace map, so namespace
selectors still match), keys under `kubernetes.io/` and `k8s.io/` (their values are
mapped), `k8s-app: kube-dns`, the system namespace and DNS names in `WELL_KNOWN_NAMES`,
generic port names in `WELL_KNOWN_PORT_NAMES`, port numbers and IPs. `deanonymize` maps a
model's answer back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from verifier.model.bundle import (
    NAMESPACE_NAME_LABEL,
    Bundle,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Peer,
    Requirement,
    Rule,
    Service,
    Workload,
)

from verifier.deps.declared import DependencyInput, as_dependency
from verifier.model.records import Dependency
from verifier.sets.addresses import parse_network

REDACTED = "[redacted]"
#: Shorter values (`true`, `info`, `80`) are too common to blank without mangling text.
MIN_SECRET_LENGTH = 6

WELL_KNOWN_NAMES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease", "kube-dns", "coredns"})
WELL_KNOWN_LABELS = frozenset({("k8s-app", "kube-dns")})
WELL_KNOWN_PORT_NAMES = frozenset({"http", "https", "http2", "grpc", "dns", "dns-tcp", "metrics", "tcp", "udp"})

_PSEUDONYM = re.compile(r"(?<![\w-])(ns|name|key|val|port)-(\d+)(?![\w-])")
_ID = re.compile(r"(?<![\w./-])([a-z0-9][a-z0-9.-]*)/([a-z0-9][a-z0-9.-]*)(?![\w./-])")


# --- redaction -------------------------------------------------------------------------


def sensitive_values(bundle: Bundle) -> frozenset[str]:
    """Env values, annotation values and Secret values of the bundle that must never reach a prompt.

    Values shorter than `MIN_SECRET_LENGTH`, numbers, and strings that are public in the
    brief anyway (names, label keys and values) are left out: blanking them would only
    mangle the text.
    """
    public = _public_strings(bundle)
    values: set[str] = set()
    for w in bundle.workloads:
        values.update(e.value for e in w.env if e.value)
        values.update(w.annotations.values())
    for ns in bundle.namespaces.values():
        values.update(ns.annotations.values())
    values.update(bundle.secret_values)
    return frozenset(v for v in values if len(v) >= MIN_SECRET_LENGTH and not v.isdigit() and v not in public)


def _public_strings(bundle: Bundle) -> set[str]:
    public = set(bundle.namespaces)
    objects: list[Workload | Service | NetworkPolicy] = [*bundle.workloads, *bundle.services, *bundle.policies]
    for obj in objects:
        public.update((obj.namespace, obj.name, obj.id))
    for labels in [ns.labels for ns in bundle.namespaces.values()] + [w.labels for w in bundle.workloads]:
        public.update(labels)
        public.update(labels.values())
    return public


def redact_text(text: str, bundle: Bundle) -> str:
    """`text` with every `sensitive_values(bundle)` occurrence replaced by `[redacted]`."""
    return _blank(text, sensitive_values(bundle))


def scrub_secret_values(text: str, bundle: Bundle, extra: frozenset[str] = frozenset()) -> str:
    """`text` with the bundle's Secret values, and `extra` ones, replaced by `[redacted]` (filtered as
    `sensitive_values` filters). Env values stay: a question may name `redis:6379`, and the verifier reads it."""
    return _blank(text, scrub_values(bundle, extra))


def scrub_values(bundle: Bundle, extra: frozenset[str] = frozenset()) -> frozenset[str]:
    """The values `scrub_secret_values` blanks: the bundle's Secret values and `extra`, except short, all-digit
    and public ones (names, labels: a question about `redis` must keep the word)."""
    public = _public_strings(bundle)
    return frozenset(v for v in bundle.secret_values | extra if len(v) >= MIN_SECRET_LENGTH and not v.isdigit()
                     and v not in public)


def _blank(text: str, values: Iterable[str]) -> str:
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return text


# --- pseudonyms ------------------------------------------------------------------------


class _Mapper(Protocol):
    def ns(self, name: str) -> str: ...
    def name(self, name: str) -> str: ...
    def key(self, key: str) -> str: ...
    def value(self, key: str, value: str) -> str: ...
    def port(self, name: str) -> str: ...


def _well_known_key(key: str) -> bool:
    prefix = key.rpartition("/")[0]
    domains = ("kubernetes.io", "k8s.io")
    return key == "k8s-app" or any(prefix == d or prefix.endswith("." + d) for d in domains)


class _Recorder:
    """A mapper that maps nothing and remembers every string it was asked about."""

    def __init__(self) -> None:
        self.seen: dict[str, set[str]] = {"ns": set(), "name": set(), "key": set(), "val": set(), "port": set()}

    def ns(self, name: str) -> str:
        self.seen["ns"].add(name)
        return name

    def name(self, name: str) -> str:
        self.seen["name"].add(name)
        return name

    def key(self, key: str) -> str:
        self.seen["key"].add(key)
        return key

    def value(self, key: str, value: str) -> str:
        self.seen["ns" if key == NAMESPACE_NAME_LABEL else "val"].add(value)
        return value

    def port(self, name: str) -> str:
        self.seen["port"].add(name)
        return name


@dataclass(frozen=True)
class Pseudonyms:
    """A reversible mapping of names to pseudonyms; `forward[category][original] = pseudonym`.

    Categories: `ns`, `name`, `key`, `val`, `port`. Build with `for_bundle`; persist with
    `to_dict`/`from_dict` to deanonymize an answer later.
    """

    forward: Mapping[str, Mapping[str, str]]
    reverse: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rev = {p: o for table in self.forward.values() for o, p in table.items() if p != o}
        object.__setattr__(self, "reverse", rev)

    @classmethod
    def for_bundle(
        cls, bundle: Bundle, dependencies: Iterable[DependencyInput] = ()
    ) -> Pseudonyms:
        """Pseudonyms for every name in `bundle` and the dependency records, numbered in sorted order."""
        recorder = _Recorder()
        _map_bundle(bundle, recorder)
        for dep in dependencies:
            _map_dependency(as_dependency(dep), recorder)
        forward = {}
        for category, originals in recorder.seen.items():
            kept = _kept(category, originals)
            todo = sorted(o for o in originals if o not in kept)
            forward[category] = {o: f"{category}-{i}" for i, o in enumerate(todo, start=1)}
        return cls(forward)

    # _Mapper: an unknown original maps to itself (well-known names, or not in the bundle).
    def ns(self, name: str) -> str:
        return self.forward["ns"].get(name, name)

    def name(self, name: str) -> str:
        return self.forward["name"].get(name, name)

    def key(self, key: str) -> str:
        return self.forward["key"].get(key, key)

    def value(self, key: str, value: str) -> str:
        if key == NAMESPACE_NAME_LABEL:
            return self.ns(value)
        if (key, value) in WELL_KNOWN_LABELS:
            return value
        return self.forward["val"].get(value, value)

    def port(self, name: str) -> str:
        return self.forward["port"].get(name, name)

    def ref(self, ref: str) -> str:
        """`namespace/name` -> its pseudonym id."""
        return _map_ref(ref, self)

    def bundle(self, bundle: Bundle) -> Bundle:
        """`bundle` with every name pseudonymized; env, annotations, issues and sources dropped."""
        return _map_bundle(bundle, self)

    def dependency(self, dep: DependencyInput) -> Dependency:
        return _map_dependency(as_dependency(dep), self)

    def anonymize_text(self, text: str) -> str:
        """Map the `namespace/name` ids in `text` (a diff, a finding message) to pseudonyms.

        Only ids whose namespace and name are both known are rewritten.
        """

        def swap(m: re.Match[str]) -> str:
            ns, name = m.group(1), m.group(2)
            if (ns in self.forward["ns"] or ns in WELL_KNOWN_NAMES) \
                    and (name in self.forward["name"] or name in WELL_KNOWN_NAMES):
                return f"{self.ns(ns)}/{self.name(name)}"
            return m.group(0)

        return _ID.sub(swap, text)

    def deanonymize_text(self, text: str) -> str:
        """Replace every pseudonym token (`ns-3`, `name-7`...) in `text` by its original."""
        return _PSEUDONYM.sub(lambda m: self.reverse.get(m.group(0), m.group(0)), text)

    def deanonymize(self, answer: Any) -> Any:
        """A copy of a model's answer (dicts, lists, strings) with every pseudonym mapped back.

        Ids in claim fields (`from`, `to`, `workload`, `object`, `policy`, `workloads`) and
        pseudonyms quoted in `summary`/`reason` text are all restored; keys are untouched.
        """
        if isinstance(answer, str):
            return self.deanonymize_text(answer)
        if isinstance(answer, Mapping):
            return {k: self.deanonymize(v) for k, v in answer.items()}
        if isinstance(answer, list | tuple):
            return [self.deanonymize(v) for v in answer]
        return answer

    def to_dict(self) -> dict[str, dict[str, str]]:
        return {c: dict(t) for c, t in self.forward.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, str]]) -> Pseudonyms:
        return cls({c: dict(t) for c, t in data.items()})


def _kept(category: str, originals: Iterable[str]) -> frozenset[str]:
    """Originals of a category that stay as they are."""
    if category == "key":
        return frozenset(k for k in originals if _well_known_key(k))
    return WELL_KNOWN_PORT_NAMES if category == "port" else WELL_KNOWN_NAMES


def _labels(labels: Mapping[str, str], m: _Mapper) -> dict[str, str]:
    return {m.key(k): m.value(k, v) for k, v in labels.items()}


def _selector(sel: LabelSelector | None, m: _Mapper) -> LabelSelector | None:
    if sel is None:
        return None
    reqs = tuple(
        Requirement(m.key(r.key), r.operator, tuple(m.value(r.key, v) for v in r.values)) for r in sel.requirements
    )
    return LabelSelector(reqs)


def _rule(rule: Rule, m: _Mapper) -> Rule:
    peers = None if rule.peers is None else tuple(
        Peer(_selector(p.pod_selector, m), _selector(p.namespace_selector, m), p.ip_block) for p in rule.peers
    )
    ports = None if rule.ports is None else tuple(
        replace(p, port=m.port(p.port)) if isinstance(p.port, str) else p for p in rule.ports
    )
    return Rule(peers, ports)


def _policy(p: NetworkPolicy, m: _Mapper) -> NetworkPolicy:
    return replace(
        p, namespace=m.ns(p.namespace), name=m.name(p.name), source=None,
        pod_selector=_selector(p.pod_selector, m) or LabelSelector(),
        ingress=tuple(_rule(r, m) for r in p.ingress), egress=tuple(_rule(r, m) for r in p.egress),
    )


def _workload(w: Workload, m: _Mapper) -> Workload:
    return replace(
        w, namespace=m.ns(w.namespace), name=m.name(w.name), labels=_labels(w.labels, m),
        ports=tuple(replace(p, name=p.name and m.port(p.name)) for p in w.ports),
        env=(), annotations={}, source=None,
    )


def _service(s: Service, m: _Mapper) -> Service:
    selector = None if s.selector is None else _labels(s.selector, m)
    ports = tuple(
        replace(p, name=p.name and m.port(p.name),
                target_port=m.port(p.target_port) if isinstance(p.target_port, str) else p.target_port)
        for p in s.ports
    )
    return replace(s, namespace=m.ns(s.namespace), name=m.name(s.name), selector=selector, ports=ports, source=None)


def _namespace(ns: Namespace, m: _Mapper) -> Namespace:
    return Namespace(m.ns(ns.name), _labels(ns.labels, m), {}, ns.implicit, None)


def _map_bundle(bundle: Bundle, m: _Mapper) -> Bundle:
    namespaces = [_namespace(ns, m) for ns in bundle.namespaces.values()]
    return Bundle(
        namespaces={ns.name: ns for ns in namespaces},
        workloads=tuple(_workload(w, m) for w in bundle.workloads),
        services=tuple(_service(s, m) for s in bundle.services),
        policies=tuple(_policy(p, m) for p in bundle.policies),
        skipped_kinds=dict(bundle.skipped_kinds),
    )


def _map_ref(ref: str, m: _Mapper) -> str:
    if parse_network(ref) is not None:  # a dependency on an external address, not a namespace/name
        return ref
    ns, _, name = ref.partition("/")
    return f"{m.ns(ns)}/{m.name(name)}" if name else m.name(ref)


def _map_dependency(dep: Dependency, m: _Mapper) -> Dependency:
    """`dep` with its names mapped (an address stays); evidence and origin, which quote env and files, dropped."""
    return replace(dep, src=_map_ref(dep.src, m), dst=dep.dst and _map_ref(dep.dst, m),
                   service=dep.service and _map_ref(dep.service, m), evidence="", origin=None)
