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

import importlib
from typing import TYPE_CHECKING, Any

from .engine.compile import CompiledBundle, compile_bundle
from .engine.connectivity import Connectivity, ExternalEgress, compute_connectivity
from .engine.explain import Explainer, Miss, RuleRef, SideVerdict, Verdict
from .input.load import load_bundle, load_documents, load_text, load_texts
from .model.bundle import (
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
from .model.errors import InputError, ManifestSyntaxError, NetreasonError, UnknownWorkload, ValidationFailed
from .sets.ports import PortSet

if TYPE_CHECKING:
    from .deps.dependencies import DependencyResult, evaluate_dependencies, gather_dependencies
    from .review.diff import BundleDiff, diff_bundles
    from .review.findings import lint

#: Exports imported on first use: `netreason check` and `flows` need neither the review rules nor diffs.
_LAZY = {
    "DependencyResult": ".deps.dependencies", "evaluate_dependencies": ".deps.dependencies",
    "gather_dependencies": ".deps.dependencies", "BundleDiff": ".review.diff", "diff_bundles": ".review.diff",
    "lint": ".review.findings",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


def analyze(bundle: Bundle) -> Connectivity:
    """Compile and compute the connectivity of every workload pair."""
    return compute_connectivity(compile_bundle(bundle))


def check(bundle: Bundle, src: str, dst: str, port: int, protocol: str = "TCP") -> Verdict:
    """One question with its explanation (see `Explainer` to ask many).

    Raises:
        UnknownWorkload: `src` or `dst` names no workload.
    """
    # An unknown protocol matches no port, as the API server would never let it into a policy.
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
    "compile_bundle",
    "compute_connectivity",
    "diff_bundles",
    "evaluate_dependencies",
    "gather_dependencies",
    "lint",
    "load_bundle",
    "load_documents",
    "load_text",
    "load_texts",
]
