"""Proof on real apps: every documented dependency of every corpus app gets its expected verdict.

Each app's deps.yaml says, per dependency, `expected: allowed|denied` with the bundle's own
NetworkPolicies applied (cross-checked upstream with IBM network-config-analyzer), and `why`
on denials. The explanation of each denial must name that cause.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import yaml

import verifier
from tests.shared import corpus_apps, require_shared
from verifier.deps.dependencies import DependencyResult, evaluate_dependencies, gather_dependencies

#: (app, from, to) of every denied entry -> what its explanation must mention (from its `why`).
CAUSES = {
    ("sock-shop", "front-end", "carts"): ["cortex-access", "needs name=cortex"],
    ("sock-shop", "orders", "carts"): ["cortex-access", "needs name=cortex"],
    ("sock-shop", "front-end", "session-db"): ["cortex-access"],
    ("sock-shop", "carts", "carts-db"): ["carts-db-access", "needs name=cart; source has name=carts"],
    ("bitnami-wordpress-hardened", "wordpress", "wordpress-mariadb"): [
        "ingress at wordpress/wordpress-mariadb: denied", "wordpress-mariadb-client=true",
        "egress at wordpress/wordpress: allowed",  # the README's point: the client's egress is fine
    ],
}

#: (allowed, denied) entries per app, from the corpus README.
AGREEMENT = {
    "online-boutique": (16, 0),
    "sock-shop": (11, 4),
    "bookinfo": (4, 0),
    "bitnami-wordpress-default": (1, 0),
    "bitnami-wordpress-hardened": (0, 1),
    "bitnami-wordpress-hardened-client-label": (1, 0),
}


def evaluate_app(app: dict) -> tuple[list[dict], dict[int, list[DependencyResult]]]:
    """The app's deps.yaml entries, and the results of each entry's dependencies by entry index."""
    bundle = verifier.load_bundle(app["manifest_paths"], default_namespace=app["default_namespace"])
    text = Path(app["deps_path"]).read_text()
    deps, issues = gather_dependencies(bundle, text, app["deps_path"], None, infer=False)
    assert issues == [], [str(i) for i in issues]
    by_entry: dict[int, list[DependencyResult]] = defaultdict(list)
    for result in evaluate_dependencies(bundle, deps):
        origin = result.dependency.origin
        assert origin is not None
        by_entry[origin.document].append(result)
    return yaml.safe_load(text), by_entry


@pytest.mark.parametrize("app", corpus_apps(), ids=lambda a: a["name"])
def test_every_dependency_gets_its_expected_verdict(app: dict) -> None:
    require_shared()
    entries, by_entry = evaluate_app(app)
    assert sorted(by_entry) == list(range(len(entries)))  # every entry resolved to at least one flow
    agree = 0
    for index, entry in enumerate(entries):
        results = by_entry[index]
        verdict = "allowed" if all(r.allowed for r in results) else "denied"
        explanations = "\n".join(r.explanation for r in results)
        assert verdict == entry["expected"], f"{entry['from']} -> {entry['to']}:\n{explanations}"
        assert {r.dependency.port for r in results} == {entry["target_port"]}
        agree += 1
        if verdict == "denied":
            for words in CAUSES[(app["name"], entry["from"], entry["to"])]:
                assert words in explanations, f"{words!r} missing from:\n{explanations}"
    print(f"\n{app['name']}: {agree}/{len(entries)} verdicts agree")
    counts = (sum(e["expected"] == "allowed" for e in entries), sum(e["expected"] == "denied" for e in entries))
    assert counts == AGREEMENT[app["name"]]


def test_every_documented_denial_has_a_cause_to_check() -> None:
    require_shared()
    denied = set()
    for app in corpus_apps():
        for entry in yaml.safe_load(Path(app["deps_path"]).read_text()):
            if entry["expected"] == "denied":
                denied.add((app["name"], entry["from"], entry["to"]))
    assert denied == set(CAUSES)


def test_bookinfo_reviews_service_reaches_every_version() -> None:
    """One Service, three Deployments behind it: productpage's dependency is three flows."""
    require_shared()
    app = next(a for a in corpus_apps() if a["name"] == "bookinfo")
    _, by_entry = evaluate_app(app)
    assert sorted(r.dependency.dst for r in by_entry[1]) == ["default/reviews-v1", "default/reviews-v2",
                                                             "default/reviews-v3"]
