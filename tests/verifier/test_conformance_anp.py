"""AdminNetworkPolicy / BaselineAdminNetworkPolicy scenarios, through both evaluators.

The scenarios in scenarios_anp/ use the shared scenario format (shared/conformance/FORMAT.md);
each names the network-policy-api conformance test or API reference text it was written from.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import verifier

from .test_conformance import expected_verdicts, serves

FILES = sorted((Path(__file__).parent / "scenarios_anp").glob("*.yaml"))


def test_admin_scenarios_are_present_and_cite_their_source():
    assert len(FILES) >= 13
    for path in FILES:
        scenario = yaml.safe_load(path.read_text())
        assert "network-policy-api" in scenario["source"], path.name


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_admin_scenario(path: Path):
    scenario = yaml.safe_load(path.read_text())
    bundle = verifier.load_documents(scenario["manifests"], name=str(path), strict=True)
    assert bundle.admin_policies, "the scenario's admin policies were not loaded"
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
                failures.append(f"{src} -> {dst} {proto}/{port}: expected {'allowed' if want else 'denied'}, "
                                f"engine {'allowed' if fast else 'denied'}, reference:\n{ref.explain()}")
    assert not failures, f"{path.name}: {len(failures)} probe(s) wrong\n" + "\n".join(failures)
