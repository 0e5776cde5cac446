"""Every expected verdict of every shared scenario, through both evaluators.

One parametrized test per scenario file (shared/conformance, corpus/recipes,
corpus/k8s-docs/scenarios). Each probe is checked with the all-pairs engine
(`analyze`) and the per-pair reference (`Explainer`), so a disagreement between the
two fails here too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import verifier
from tests.shared import SHARED, require_shared, scenario_files

FILES = scenario_files()


def test_scenarios_are_present():
    require_shared()
    # 30 semantics files + 19 recipes + 9 docs scenarios at the time of writing.
    assert len(FILES) >= 58, f"found only {len(FILES)} scenario files under {SHARED}"


def expected_verdicts(expect: dict, pods: list[str]) -> dict[tuple[str, str], bool]:
    default = expect["default"] == "allowed"
    listed = set(expect.get("denied" if default else "allowed", []) or [])
    verdicts = {}
    for src in pods:
        for dst in pods:
            if src != dst:
                verdicts[(src, dst)] = (not default) if f"{src} -> {dst}" in listed else default
    unknown = listed - {f"{s} -> {d}" for s, d in verdicts}
    assert not unknown, f"expectations name unknown pairs: {sorted(unknown)}"
    return verdicts


def serves(w: verifier.Workload, port: int, protocol: str) -> bool:
    """A probe to a port the destination does not serve is not made (FORMAT.md)."""
    return not w.ports or any(p.port == port and p.protocol == protocol for p in w.ports)


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_scenario(path: Path):
    check_scenario(path)


def check_scenario(path: Path) -> verifier.Bundle:
    """Every probe of a scenario file through both evaluators; returns the bundle it loaded."""
    scenario = yaml.safe_load(path.read_text())
    bundle = verifier.load_documents(scenario["manifests"], name=str(path), strict=True)
    conn = verifier.analyze(bundle)
    explainer = verifier.Explainer(bundle)
    pods = [w.id for w in bundle.workloads]
    failures = []
    for expect in scenario["expect"]:
        port, proto = int(expect["port"]), expect.get("protocol", "TCP")
        for (src, dst), want in expected_verdicts(expect, pods).items():
            if not serves(explainer.workload(dst), port, proto):
                continue
            fast = conn.is_allowed(src, dst, port, proto)
            ref = explainer.check(src, dst, port, proto)
            if fast != want or ref.allowed != want:
                failures.append(
                    f"{src} -> {dst} {proto}/{port}: expected {'allowed' if want else 'denied'}, "
                    f"engine {'allowed' if fast else 'denied'}, reference:\n{ref.explain()}"
                )
    assert not failures, f"{path.name}: {len(failures)} probe(s) wrong\n" + "\n".join(failures)
    return bundle
