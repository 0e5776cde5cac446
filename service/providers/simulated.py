"""Simulated models: providers with known error profiles, for testing the eval suite itself.

Registered like every other provider (`simulated:MODE` in `registry`), so they work through the CLI,
the API and the eval runner alike. They are models like any other: they receive the rendered
prompt (a `ProviderRequest`), read the cluster brief in its last user message back into a bundle
(`service.brief.parse_brief`), run the verifier on what they *believe* the cluster is, and answer in the
claim schema. Every reply carries `simulated=True`; reports label them "simulated" and never
count them as real accuracy.

    simulated:oracle               answers from the verifier on the brief as written.
    simulated:and-as-or            reads a peer with both namespaceSelector and podSelector
                                   ({ns N; pods S}) as two separate peers ({ns N} or {pods S}).
    simulated:ignores-policytypes  reads isolation from the rules present: a policy isolates a
                                   direction only if it lists rules for it. So it forgets that
                                   policyTypes (explicit, or the default Ingress) isolates a
                                   direction with no rules: an egress-only policy without
                                   policyTypes keeps ingress open, `podSelector: {}` with no
                                   rules denies nothing, `policyTypes: [Egress]` with no egress
                                   rules denies no egress.
    simulated:hallucinates         the oracle's claims plus claims about workloads that do
                                   not exist.

Which question is asked comes from the system text: it is matched exactly against each
library prompt's rendered system text (`identify_prompt`), so a new prompt version is
recognised without a list kept here.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from typing import Any

from prompts.library import list_prompts
from verifier.deps.declared import as_entry
from verifier.model.bundle import Bundle, NetworkPolicy, Peer, Rule

from ..brief import extract_brief, parse_brief
from ..truth import compute_truth
from .base import ProviderReply, ProviderRequest, Usage
from .errors import ProviderConfigError

Mutation = Callable[[Bundle], Bundle]


def and_as_or(bundle: Bundle) -> Bundle:
    """Every peer with both selectors split into a namespace-only and a pod-only peer."""
    return replace(bundle, policies=tuple(_map_rules(p, _split_peers) for p in bundle.policies))


def _split_peers(rule: Rule) -> Rule:
    if rule.peers is None:
        return rule
    peers: list[Peer] = []
    for peer in rule.peers:
        if peer.namespace_selector is not None and peer.pod_selector is not None:
            peers += [Peer(namespace_selector=peer.namespace_selector), Peer(pod_selector=peer.pod_selector)]
        else:
            peers.append(peer)
    return replace(rule, peers=tuple(peers))


def _map_rules(policy: NetworkPolicy, fn: Callable[[Rule], Rule]) -> NetworkPolicy:
    return replace(policy, ingress=tuple(map(fn, policy.ingress)), egress=tuple(map(fn, policy.egress)))


def ignores_policytypes(bundle: Bundle) -> Bundle:
    """Every policy isolating only the directions it lists rules for (see the module docstring)."""
    def retyped(p: NetworkPolicy) -> NetworkPolicy:
        rules = {"Ingress": p.ingress, "Egress": p.egress}
        return replace(p, policy_types=tuple(t for t in p.policy_types if rules[t]))
    return replace(bundle, policies=tuple(retyped(p) for p in bundle.policies))


MODES: dict[str, Mutation | None] = {
    "oracle": None,
    "and-as-or": and_as_or,
    "ignores-policytypes": ignores_policytypes,
    "hallucinates": None,
}


@cache
def _prompt_systems() -> dict[str, str]:
    """Rendered system text -> prompt ref, for every library prompt (system texts use no variables)."""
    systems = {}
    for spec in list_prompts():
        rendered = spec.render(**{name: "-" for name in spec.variables})
        systems[rendered.system] = spec.ref
    return systems


def identify_prompt(request: ProviderRequest) -> str | None:
    """The library prompt ref (`flows@1`) whose system text `request` carries, or None.

    An exact match first; else the longest library system text the request's system text
    starts with (a provider may append the answer schema to it).
    """
    systems = _prompt_systems()
    if request.system in systems:
        return systems[request.system]
    prefixes = [text for text in systems if request.system.startswith(text)]
    return systems[max(prefixes, key=len)] if prefixes else None


def answer_for(request: ProviderRequest, mode: str) -> dict[str, Any]:
    """The answer (ModelAnswer JSON) the simulated model `mode` gives to `request`."""
    ref = identify_prompt(request)
    task = ref.split("@", 1)[0] if ref else None
    last_user = next(m.content for m in reversed(request.messages) if m.role == "user")
    parsed = parse_brief(extract_brief(last_user))
    mutation = MODES[mode]
    bundle = mutation(parsed.bundle) if mutation else parsed.bundle
    truth = compute_truth(bundle, deps=[as_entry(d) for d in parsed.dependencies], deps_origin="brief", infer=False,
                          fixes=False)
    claims = _claims(task, truth)
    if mode == "hallucinates":
        claims += _invented_claims(bundle, task, last_user)
    summary = f"simulated:{mode} answering {ref or 'an unknown prompt'} with {len(claims)} claim(s)."
    return {"summary": summary, "claims": claims}


def _claims(task: str | None, truth: Any) -> list[dict[str, Any]]:
    claims: list[dict[str, Any]] = []
    if task in ("flows", "plan"):
        for r in truth.dependencies:
            d = r.dependency
            if d.dst:
                claims.append({"type": "flow", "from": d.src, "to": d.dst, "port": d.port, "protocol": d.protocol,
                               "allowed": r.allowed, "reason": None})
    if task in ("breakage", "review", "plan"):
        for r in truth.dependencies:
            d = r.dependency
            if not r.allowed:
                claims.append({"type": "dependency_broken", "from": d.src, "to": d.dialled, "port": d.dialled_port,
                               "protocol": d.protocol, "reason": None})
    if task in ("dns", "review", "plan"):
        for f in truth.findings:
            if f.rule == "dns-egress-missing":
                claims.append({"type": "dns_egress_missing", "workload": f.object, "reason": None})
    return list({json.dumps(c, sort_keys=True): c for c in claims}.values())


def _invented_claims(bundle: Bundle, task: str | None, text: str) -> list[dict[str, Any]]:
    """Two claims about workloads that are not in the brief (names picked from the prompt's hash)."""
    existing = {w.id for w in bundle.workloads}
    if not existing:
        return []
    real = sorted(existing)[int(hashlib.sha256(text.encode()).hexdigest(), 16) % len(existing)]
    ns = real.split("/", 1)[0]
    ghost = next(f"{ns}/{name}" for name in ("legacy-proxy", "sidecar-cache", "shadow-api-7")
                 if f"{ns}/{name}" not in existing)
    if task == "dns":
        return [{"type": "dns_egress_missing", "workload": ghost, "reason": None}]
    if task == "breakage":
        return [{"type": "dependency_broken", "from": ghost, "to": real, "port": 8080, "protocol": "TCP",
                 "reason": None}]
    return [{"type": "flow", "from": ghost, "to": real, "port": 8080, "protocol": "TCP", "allowed": True,
             "reason": None}]


class SimulatedProvider:
    """A provider whose answers come from the verifier under a known misreading (`mode`)."""

    provider_name = "simulated"

    def __init__(self, mode: str) -> None:
        if mode not in MODES:
            raise ProviderConfigError(f"unknown simulated model {mode!r}; known: "
                                      f"{', '.join(f'simulated:{m}' for m in MODES)}",
                                      provider="simulated")
        self.mode = mode
        self.model = f"simulated:{mode}"

    async def complete(self, request: ProviderRequest) -> ProviderReply:
        """Answer `request` from the brief it carries (never raises for a well-formed prompt)."""
        start = time.perf_counter()
        data = answer_for(request, self.mode)
        text = json.dumps(data)
        prompt_chars = len(request.system) + sum(len(m.content) for m in request.messages)
        usage = Usage((prompt_chars + 3) // 4, (len(text) + 3) // 4)  # ~4 characters per token
        return ProviderReply(text, data, self.model, self.provider_name, usage,
                             latency_ms=(time.perf_counter() - start) * 1000, simulated=True)

