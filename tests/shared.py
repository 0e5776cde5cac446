"""Where the read-only shared material lives (../shared beside the checkout, as in CI)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NETREASON_SHARED", ROOT.parent / "shared")).resolve()
CONFORMANCE = SHARED / "conformance"
CORPUS = SHARED / "corpus"


def require_shared() -> Path:
    """The shared folder; a missing one fails the test rather than skipping it silently."""
    if not (CONFORMANCE.is_dir() and CORPUS.is_dir()):
        pytest.fail(f"shared material not found at {SHARED}; set NETREASON_SHARED", pytrace=False)
    return SHARED


def scenario_files() -> list[Path]:
    """Every conformance-format scenario: shared/conformance, corpus/recipes, corpus/k8s-docs/scenarios."""
    if not CONFORMANCE.is_dir():
        return []
    files = sorted(CONFORMANCE.glob("*.yaml"))
    files += sorted((CORPUS / "recipes").glob("*.yaml"))
    files += sorted((CORPUS / "k8s-docs" / "scenarios").glob("*.yaml"))
    return files


def corpus_apps() -> list[dict]:
    """The apps of corpus/index.yaml, each with absolute manifest and deps paths."""
    index = CORPUS / "index.yaml"
    if not index.is_file():
        return []
    apps = yaml.safe_load(index.read_text())["apps"]
    for app in apps:
        base = CORPUS / app["dir"]
        app["manifest_paths"] = [str(base / m) for m in app["manifests"]]
        app["deps_path"] = str(base / app["deps"])
    return apps
