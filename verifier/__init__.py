"""netreason's deterministic core: manifests in, exact NetworkPolicy connectivity out.

Typical use::

    import verifier
    bundle = verifier.load_bundle(["manifests/"])
    conn = verifier.analyze(bundle)                 # all pairs
    conn.allowed_ports("shop/web", "shop/db")       # PortSet
    verifier.check(bundle, "shop/web", "shop/db", 5432).explain()

Pure: no network, no model SDKs, no web framework. Only `load` reads files.
"""

from __future__ import annotations

from .compile import CompiledBundle, compile_bundle
from .connectivity import Connectivity, ExternalEgress, compute_connectivity
from .dependencies import DependencyResult, evaluate_dependencies, gather_dependencies
from .diff import BundleDiff, diff_bundles
from .errors import InputError, ManifestSyntaxError, NetreasonError, UnknownWorkload, ValidationFailed
from .findings import lint
from .explain import Explainer, Miss, RuleRef, SideVerdict, Verdict
from .load import load_bundle, load_documents, load_text, load_texts
from .model import (
    Bundle,
    IPBlock,
    Issue,
    LabelSelector,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Requirement,
    Rule,
    Service,
    SourceRef,
    Workload,
)
from .ports import PortSet


def analyze(bundle: Bundle) -> Connectivity:
    """Compile and compute the connectivity of every workload pair."""
    return compute_connectivity(compile_bundle(bundle))


def check(bundle: Bundle, src: str, dst: str, port: int, protocol: str = "TCP") -> Verdict:
    """One question with its explanation (see `Explainer` to ask many).

    Raises:
        UnknownWorkload: `src` or `dst` names no workload.
    """
    return Explainer(bundle).check(src, dst, port, protocol.upper())  # type: ignore[arg-type]


__all__ = [
    "Bundle",
    "BundleDiff",
    "CompiledBundle",
    "Connectivity",
    "DependencyResult",
    "Explainer",
    "ExternalEgress",
    "IPBlock",
    "InputError",
    "Issue",
    "LabelSelector",
    "ManifestSyntaxError",
    "Miss",
    "NetreasonError",
    "NetworkPolicy",
    "Peer",
    "PolicyPort",
    "PortSet",
    "Requirement",
    "Rule",
    "RuleRef",
    "Service",
    "SideVerdict",
    "SourceRef",
    "UnknownWorkload",
    "ValidationFailed",
    "Verdict",
    "Workload",
    "analyze",
    "check",
    "diff_bundles",
    "lint",
    "compile_bundle",
    "compute_connectivity",
    "evaluate_dependencies",
    "gather_dependencies",
    "load_bundle",
    "load_documents",
    "load_text",
    "load_texts",
]
