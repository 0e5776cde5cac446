"""AdminNetworkPolicy / BaselineAdminNetworkPolicy scenarios, through both evaluators.

The scenarios in scenarios_anp/ use the shared scenario format (shared/conformance/FORMAT.md);
each names the network-policy-api conformance test or API reference text it was written from.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .test_conformance import check_scenario

FILES = sorted((Path(__file__).parent / "scenarios_anp").glob("*.yaml"))


def test_admin_scenarios_are_present_and_cite_their_source():
    assert len(FILES) >= 13
    for path in FILES:
        scenario = yaml.safe_load(path.read_text())
        assert "network-policy-api" in scenario["source"], path.name


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_admin_scenario(path: Path):
    bundle = check_scenario(path)
    assert bundle.admin_policies, "the scenario's admin policies were not loaded"
