"""The brief read back into a bundle keeps every flow: proof the brief leaves out nothing the questions need."""

from __future__ import annotations

from pathlib import Path
import pytest
import yaml

import verifier
from service.brief import BriefParseError, extract_brief, parse_brief, parse_selector
from evals.builds import build
from evals.generator import TEMPLATES
from service.brief import render_brief
from tests.shared import corpus_apps, require_shared, scenario_files
from verifier.model.bundle import Requirement


def _flows(bundle: verifier.Bundle) -> set[tuple[str, str, str]]:
    return {(s, d, str(p)) for s, d, p in verifier.analyze(bundle).flows()}


def _assert_round_trip(bundle: verifier.Bundle, deps: list) -> None:
    text = render_brief(bundle, deps)
    parsed = parse_brief(text)
    assert render_brief(parsed.bundle, parsed.dependencies) == text
    assert _flows(parsed.bundle) == _flows(bundle)


@pytest.mark.parametrize("app", corpus_apps(), ids=lambda a: a["name"])
def test_corpus_app_round_trips_through_the_brief(app):
    require_shared()
    bundle = verifier.load_bundle(app["manifest_paths"], default_namespace=app["default_namespace"])
    _assert_round_trip(bundle, yaml.safe_load(Path(app["deps_path"]).read_text()))


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_generated_scenario_round_trips_through_the_brief(template):
    g = build(template, 1, 20)
    _assert_round_trip(verifier.load_documents(g.manifests, name=template), g.deps)


def test_conformance_scenarios_round_trip_through_the_brief():
    require_shared()
    for path in scenario_files():
        bundle = verifier.load_documents(yaml.safe_load(path.read_text())["manifests"], name=str(path))
        _assert_round_trip(bundle, [])


def test_set_selectors_and_negations_parse_back_to_requirements():
    selector = parse_selector("app,!canary,env=prod,tier notin (db,cache),zone!=b")
    assert selector.requirements == (
        Requirement("app", "Exists"), Requirement("canary", "DoesNotExist"), Requirement("env", "In", ("prod",)),
        Requirement("tier", "NotIn", ("db", "cache")), Requirement("zone", "NotIn", ("b",)),
    )


def test_brief_is_taken_from_the_last_header_not_the_few_shot_examples():
    message = "Cluster brief:\nnamespaces:\n  real: -\nworkloads: none\nDecide: everything"
    assert extract_brief("Cluster brief:\nnamespaces:\n  example: -\n\n" + message).startswith("namespaces:\n  real: -")


def test_unknown_brief_line_names_the_line():
    with pytest.raises(BriefParseError, match="'policies: sometimes'"):
        parse_brief("policies: sometimes\n")
