"""`lint` on the real apps of shared/corpus: it must report exactly the dependencies each
deps.yaml marks denied, with the cause its `why` gives, and name Sock Shop's upstream mistakes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

import verifier
from tests.shared import CORPUS, require_shared
from verifier.deps.dependencies import evaluate_dependencies, gather_dependencies
from verifier.review.findings import LintReport, lint_report

# Words of each denied entry's `why` that the dependency-broken message must carry
# (app, from, to) -> words.
WHY_WORDS = {
    ("sock-shop", "front-end", "carts"): ["cortex-access", "name=cortex", "cart-access", "name: carts"],
    ("sock-shop", "orders", "carts"): ["cortex-access", "name=cortex", "cart-access"],
    ("sock-shop", "carts", "carts-db"): ["carts-db-access", "needs name=cart", "source has name=carts"],
    ("sock-shop", "front-end", "session-db"): ["cortex-access"],
    ("bitnami-wordpress-hardened", "wordpress", "wordpress-mariadb"): ["wordpress-mariadb-client=true", "ingress at"],
}


def apps() -> list[dict]:
    if not (CORPUS / "index.yaml").is_file():
        return []
    return yaml.safe_load((CORPUS / "index.yaml").read_text())["apps"]


def run(app: dict) -> tuple[LintReport, list[dict]]:
    require_shared()
    folder = CORPUS / app["dir"]
    files = [str(folder / m) for m in app["manifests"]]
    bundle = verifier.load_bundle(files, default_namespace=app["default_namespace"])
    deps_file = folder / app["deps"]
    deps, issues = gather_dependencies(bundle, deps_file.read_text(), str(deps_file), None)
    assert not [i for i in issues if i.severity == "error"], issues
    texts = {f: Path(f).read_text() for f in files}
    report = lint_report(bundle, evaluate_dependencies(bundle, deps), texts=texts)
    return report, yaml.safe_load(deps_file.read_text())


@pytest.mark.parametrize("app", apps(), ids=lambda a: a["name"])
def test_lint_reports_exactly_the_denied_dependencies(app: dict) -> None:
    report, entries = run(app)
    ns = app["default_namespace"]
    expected = {(f"{e.get('namespace', ns)}/{e['from']}", f"{e.get('namespace', ns)}/{e['to']}", e["target_port"])
                for e in entries if e["expected"] == "denied"}
    broken = [f for f in report.findings if f.rule == "dependency-broken"]
    got = {(f.object, f.details["dependency"]["service"], f.details["dependency"]["port"]) for f in broken}
    assert got == expected
    for f in broken:
        words = WHY_WORDS[(app["name"], f.object.split("/")[1], f.details["dependency"]["service"].split("/")[1])]
        missing = [w for w in words if w not in f.message]
        assert not missing, f"{f.message}\nmissing: {missing}"


def sock_shop() -> dict:
    return next(a for a in apps() if a["name"] == "sock-shop")


def test_sock_shop_typo_is_policy_selects_nothing_with_carts_suggested() -> None:
    report, _ = run(sock_shop())
    typo = {f.object: f for f in report.findings if f.rule == "policy-selects-nothing" and f.details.get("suggestion")}
    assert set(typo) == {"sock-shop/cart-access", "sock-shop/carts-db-access"}
    for f in typo.values():
        assert f.details["suggestion"] == {"name": "carts"} and f.fix is not None and "name: carts" in f.fix
        assert f.source is not None
        line = Path(f.source.file).read_text().splitlines()[f.source.line - 1]
        assert "podSelector" in line  # the selector's own line, for a review comment on it


def test_sock_shop_names_cortex_access_and_the_legacy_annotation() -> None:
    report, _ = run(sock_shop())
    broad = [f for f in report.findings if f.rule == "selector-too-broad"]
    assert [(f.object, f.details["isolated_only_by_this"]) for f in broad] == [
        ("sock-shop/cortex-access", ["sock-shop/carts", "sock-shop/queue-master", "sock-shop/session-db"])]
    (legacy,) = [f for f in report.findings if f.rule == "legacy-isolation-annotation"]
    assert legacy.object == "sock-shop" and "v1.7" in legacy.message
    assert legacy.source is not None and legacy.source.file.endswith("netpol-default-deny.yaml")


def test_sock_shop_rule_counts() -> None:
    report, _ = run(sock_shop())
    assert Counter(f.rule for f in report.findings) == {
        "dependency-broken": 4, "policy-selects-nothing": 3, "selector-too-broad": 1,
        "legacy-isolation-annotation": 1, "no-default-deny": 1,
    }


def test_online_boutique_is_clean() -> None:
    app = next(a for a in apps() if a["name"] == "online-boutique")
    report, _ = run(app)
    assert report.findings == ()
    assert all(r.allowed for r in report.dependencies) and len(report.dependencies) >= 16
