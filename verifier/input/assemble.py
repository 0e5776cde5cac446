"""Assemble a Bundle from parsed documents: validate, build, de-duplicate, fill namespaces."""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from ..model.admin import ADMIN_GROUP, ADMIN_KINDS, ADMIN_VERSION, AdminPolicy
from ..model.bundle import Bundle, Issue, Namespace, NetworkPolicy, OtherObject, Service, Severity, SourceRef, Workload
from ..model.errors import ValidationFailed
from ..model.routes import Route, is_route, route_from
from ..model.unevaluated import UNEVALUATED_KINDS, unevaluated_policy
from .documents import Document, FieldLines, FieldPath, field_lines, render_path
from .fieldcheck import Violation
from .objects import implicit_namespace, namespace_from, network_policy_from, service_from, workload_from
from .owners import Candidate, controller_ref, fold_workloads
from .validate import validate_object

#: API groups each modelled kind is served from, current one first ("" is the core group,
#: `apiVersion: v1`). The same kind from another group (Calico's NetworkPolicy) is not ours.
API_GROUPS: dict[str, tuple[str, ...]] = {
    "Namespace": ("",),
    "Service": ("",),
    "Pod": ("",),
    "ReplicationController": ("",),
    "Deployment": ("apps", "extensions"),
    "StatefulSet": ("apps",),
    "DaemonSet": ("apps", "extensions"),
    "ReplicaSet": ("apps", "extensions"),
    "Job": ("batch",),
    "CronJob": ("batch",),
    "NetworkPolicy": ("networking.k8s.io", "extensions"),
}

#: The `kind namespace/name` of an object, built on demand (only issues need it).
Label = Callable[[], str]

#: Kinds that live outside namespaces, so their OtherObject gets namespace None.
CLUSTER_SCOPED_KINDS = frozenset({
    "APIService", "CSIDriver", "CSINode", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "IngressClass", "MutatingWebhookConfiguration", "Node", "PersistentVolume", "PriorityClass",
    "RuntimeClass", "StorageClass", "ValidatingWebhookConfiguration", "VolumeAttachment",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy", "CiliumClusterwideNetworkPolicy", "CiliumCIDRGroup",
    "GlobalNetworkPolicy", "StagedGlobalNetworkPolicy", "ClusterUserDefinedNetwork", "Tier",
})


def secret_values(secret: dict[str, Any]) -> set[str]:
    """A Secret's values: `data` base64-decoded (as UTF-8 text; binary values are left out) and `stringData`.

    "The serialized form of the secret data is a base64 encoded string" (Secret v1 API reference).
    """
    values: set[str] = set()
    data, string_data = secret.get("data"), secret.get("stringData")
    for value in (data.values() if isinstance(data, dict) else ()):
        if isinstance(value, str):
            try:
                values.add(base64.b64decode(value, validate=True).decode("utf-8").strip())
            except (binascii.Error, UnicodeDecodeError, ValueError):
                continue
    for value in (string_data.values() if isinstance(string_data, dict) else ()):
        if isinstance(value, str):
            values.add(value.strip())
    return {v for v in values if v}


class BundleBuilder:
    """Collects documents (in order) and issues, then produces a Bundle.

    Duplicates follow `kubectl apply` where that is well defined: a later Namespace,
    Service or NetworkPolicy with the same name replaces the earlier one. Workloads must
    have unique `namespace/name` ids (a Deployment and a Pod may clash), so the first one
    is kept.
    """

    def __init__(self, default_namespace: str = "default") -> None:
        self.default_namespace = default_namespace
        self.namespaces: dict[str, Namespace] = {}
        self.workloads: dict[tuple[str, str], Workload] = {}
        self.services: dict[tuple[str, str], Service] = {}
        self.policies: dict[tuple[str, str], NetworkPolicy] = {}
        self.admin: dict[tuple[str, str], AdminPolicy] = {}
        self.routes: list[Route] = []
        self.skipped: Counter[str] = Counter()
        self.others: list[OtherObject] = []
        self.issues: list[Issue] = []
        self.candidates: list[Candidate[tuple[Document, Label]]] = []
        self.field_lines: dict[tuple[str, int], FieldLines] = {}
        self.secret_values: set[str] = set()

    def add_issue(self, issue: Issue) -> None:
        """Record a problem found outside object building (a syntax error, say)."""
        self.issues.append(issue)

    def add(self, doc: Document) -> None:
        """Validate and build one document; problems become issues, never exceptions."""
        data = doc.data
        if data is None:
            return  # an empty document (Helm renders many)
        if not isinstance(data, dict):
            self._issue(doc, (), f"a document must be a Kubernetes object (a mapping with apiVersion and kind), "
                        f"not {type(data).__name__}")
            return
        kind, api_version = data.get("kind"), data.get("apiVersion")
        if not isinstance(kind, str) or not kind:
            self._issue(doc, ("kind",), "Required value: every object needs a kind (e.g. kind: NetworkPolicy)")
        elif not isinstance(api_version, str) or not api_version:
            self._issue(doc, ("apiVersion",),
                        f"Required value: every object needs an apiVersion (e.g. {_example_api(kind)})")
        elif kind in ADMIN_KINDS and api_version == f"{ADMIN_GROUP}/{ADMIN_VERSION}":
            self._add_admin(kind, data, doc)
        elif kind in API_GROUPS and api_version.rpartition("/")[0] in API_GROUPS[kind]:
            self._add_modelled(kind, data, doc)
        else:
            self._add_other(kind, api_version, data, doc)

    def finish(self, strict: bool = False) -> Bundle:
        """The Bundle; in strict mode, raise ValidationFailed if any issue is an error.

        Raises:
            ValidationFailed: strict mode and at least one error issue (all are listed).
        """
        self._fold_candidates()
        errors = [i for i in self.issues if i.severity == "error"]
        if strict and errors:
            raise ValidationFailed(errors)
        return Bundle(
            namespaces=self._all_namespaces(),
            workloads=tuple(self.workloads.values()),
            services=tuple(self.services.values()),
            policies=tuple(self.policies.values()),
            skipped_kinds=dict(sorted(self.skipped.items())),
            issues=tuple(self.issues),
            other_objects=tuple(self.others),
            field_lines=dict(self.field_lines),
            admin_policies=tuple(self.admin.values()),
            routes=tuple(self.routes),
            secret_values=frozenset(self.secret_values),
        )

    # --- per kind ---------------------------------------------------------------------

    def _add_modelled(self, kind: str, data: dict[str, Any], doc: Document) -> None:
        violations = validate_object(kind, data)
        # The label names the object in issues only: build it when there is one.
        label: Label = lambda: _object_label(kind, data, self.default_namespace)  # noqa: E731
        if violations:
            self._report(doc, violations, label())
            if any(v.severity == "error" for v in violations):
                return
        if data["apiVersion"].startswith("extensions/") and kind == "NetworkPolicy":
            self._issue(doc, ("apiVersion",), "extensions/v1beta1 NetworkPolicy was removed in Kubernetes 1.16; "
                        "write apiVersion: networking.k8s.io/v1 (the semantics are the same)", "warning", label())
        namespace = data["metadata"].get("namespace") or self.default_namespace
        if kind == "Namespace":
            self._put_namespace(namespace_from(data, doc.source), doc, label)
        elif kind == "Service":
            self._replace(self.services, service_from(data, namespace, doc.source), doc, label)
        elif kind == "NetworkPolicy":
            self._replace(self.policies, network_policy_from(data, namespace, doc.source), doc, label)
            self.field_lines[(doc.source.file, doc.source.line)] = doc.fields or FieldLines(locator=doc.locator)
        else:
            self.candidates.append(_candidate(workload_from(kind, data, namespace, doc.source), data, doc, label))

    def _add_admin(self, kind: str, data: dict[str, Any], doc: Document) -> None:
        from .admin_validate import admin_policy_from, validate_admin_policy  # only when a bundle has one

        violations = validate_admin_policy(kind, data)
        name = _metadata(data).get("name")
        label = f"{kind} {name if isinstance(name, str) and name else '<unnamed>'}"
        if violations:
            self._report(doc, violations, label)
            if any(v.severity == "error" for v in violations):
                return
        policy = admin_policy_from(kind, data, doc.source)
        earlier = self.admin.get((kind, policy.name))
        if earlier is not None:
            self._issue(doc, ("metadata", "name"), f"{label} is defined again (first at {earlier.source}); the later "
                        "definition wins, as with kubectl apply", "warning", label)
        self.admin[(kind, policy.name)] = policy

    def _add_other(self, kind: str, api_version: str, data: dict[str, Any], doc: Document) -> None:
        meta = _metadata(data)
        name = meta.get("name") if isinstance(meta.get("name"), str) else ""
        namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
        if namespace is None and kind not in CLUSTER_SCOPED_KINDS:
            namespace = self.default_namespace
        if kind in API_GROUPS:
            # Same kind, other API group: Calico's projectcalico.org/v3 NetworkPolicy, say.
            self._issue(doc, ("apiVersion",), f"{api_version} {kind} is not the Kubernetes {kind}; netreason "
                        "does not evaluate it, so its effect on traffic is not modelled", "warning",
                        f"{kind} {namespace}/{name}")
            kind = f"{kind} ({api_version})"
        elif kind in UNEVALUATED_KINDS:
            self._unevaluated(kind, namespace, str(name or ""), doc)
        elif is_route(kind, api_version):
            self._add_route(kind, data, namespace or self.default_namespace, doc)
        elif kind == "Secret" and api_version == "v1":
            self.secret_values.update(secret_values(data))
        self.skipped[kind] += 1
        self.others.append(OtherObject(kind, namespace, str(name or ""), doc.source))

    def _add_route(self, kind: str, data: dict[str, Any], namespace: str, doc: Document) -> None:
        route = route_from(kind, data, namespace, doc.source)
        if route is None:
            self._issue(doc, ("spec",), f"{kind} names no Service backend netreason can read; it is left out of the "
                        "exposure report", "warning", _object_label(kind, data, self.default_namespace))
        else:
            self.routes.append(route)

    def _unevaluated(self, kind: str, namespace: str | None, name: str, doc: Document) -> None:
        policy = unevaluated_policy(OtherObject(kind, namespace, name, doc.source))
        if policy is not None:
            self._issue(doc, ("kind",), policy.note(with_source=False), "warning", policy.label)

    def _put_namespace(self, namespace: Namespace, doc: Document, label: Label) -> None:
        earlier = self.namespaces.get(namespace.name)
        if earlier is not None:
            self._issue(doc, (), f"Namespace {namespace.name} is defined again (first at {earlier.source}); "
                        "the later definition wins, as with kubectl apply", "info", label())
        self.namespaces[namespace.name] = namespace

    def _fold_candidates(self) -> None:
        """Pods and ReplicaSets/Jobs into the workloads that own them (see `owners`), then de-duplicate."""
        folded = fold_workloads(self.candidates)
        self.candidates = []
        for workload, (doc, label) in folded.workloads:
            self._put_workload(workload, doc, label)
        self.issues.extend(folded.notes)

    def _put_workload(self, workload: Workload, doc: Document, label: Label) -> None:
        key = (workload.namespace, workload.name)
        earlier = self.workloads.get(key)
        if earlier is None:
            self.workloads[key] = workload
            return
        self._issue(doc, ("metadata", "name"), f"workload {workload.id} is already defined as a {earlier.kind} "
                    f"at {earlier.source}; this {workload.kind} is ignored (workload names must be unique "
                    "per namespace)", "warning", label())

    def _replace(self, table: dict[tuple[str, str], Any], obj: Service | NetworkPolicy, doc: Document,
                 label: Label) -> None:
        key = (obj.namespace, obj.name)
        earlier = table.get(key)
        if earlier is not None:
            self._issue(doc, ("metadata", "name"), f"{label()} is defined again (first at {earlier.source}); the later "
                        "definition wins, as with kubectl apply", "warning", label())
        table[key] = obj

    def _all_namespaces(self) -> dict[str, Namespace]:
        used = {o.namespace for table in (self.workloads, self.services, self.policies) for o in table.values()}
        found = dict(self.namespaces)
        for name in used - found.keys():
            found[name] = implicit_namespace(name)
        return dict(sorted(found.items()))

    # --- issues -----------------------------------------------------------------------

    def _report(self, doc: Document, violations: list[Violation], label: str) -> None:
        if not violations:
            return
        lines = field_lines(doc.locator, [v.path for v in violations])
        for violation, line in zip(violations, lines):
            source = SourceRef(doc.source.file, line or doc.source.line, doc.source.document)
            self.issues.append(Issue(violation.message, source, render_path(violation.path), violation.severity, label))

    def _issue(self, doc: Document, path: FieldPath, message: str, severity: Severity = "error",
               label: str = "") -> None:
        self._report(doc, [Violation(path, message, severity)], label)


def build_bundle(documents: Iterable[Document], *, default_namespace: str = "default", strict: bool = False) -> Bundle:
    """Validate and build every document into a Bundle (see `BundleBuilder`).

    Raises:
        ValidationFailed: strict mode and any object failed validation.
    """
    builder = BundleBuilder(default_namespace)
    for doc in documents:
        builder.add(doc)
    return builder.finish(strict)


def _candidate(workload: Workload, data: dict[str, Any], doc: Document,
               label: Label) -> Candidate[tuple[Document, Label]]:
    meta = _metadata(data)
    spec: dict[str, Any] = data["spec"] if isinstance(data.get("spec"), dict) else {}
    # An old ReplicaSet kept for rollback is scaled to zero: it runs no pods.
    active = not (workload.kind in ("ReplicaSet", "ReplicationController") and spec.get("replicas") == 0)
    labels = meta.get("labels")
    return Candidate(workload, str(meta.get("uid") or ""), controller_ref(meta),
                     dict(labels) if isinstance(labels, dict) else {}, active, (doc, label))


def _metadata(data: dict[str, Any]) -> dict[str, Any]:
    meta = data.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _object_label(kind: str, data: dict[str, Any], default_namespace: str) -> str:
    meta = _metadata(data)
    name = meta.get("name") if isinstance(meta.get("name"), str) and meta.get("name") else "<unnamed>"
    if kind == "Namespace":
        return f"Namespace {name}"
    namespace = meta.get("namespace") if isinstance(meta.get("namespace"),
                                                    str) and meta.get("namespace") else default_namespace
    return f"{kind} {namespace}/{name}"


def _example_api(kind: str) -> str:
    group = next(iter(API_GROUPS.get(kind, ("",))))
    return f"apiVersion: {group}/v1" if group else "apiVersion: v1"
