"""A small generated cluster (benchmarks/gen_cluster.py): the tests' input shaped like a real one, made the same
way wherever a test needs one."""

from __future__ import annotations

import io

import yaml

import verifier
from verifier.model.bundle import Bundle

#: 300 pods, 60 workloads, 150 policies over 12 namespaces: every kind of finding, in a second.
SMALL = {"pods": 300, "namespaces": 12, "policies": 150, "workloads": 60}


def generated_text(**spec: int) -> str:
    """The cluster `spec` (default SMALL) as one multi-document YAML text."""
    from benchmarks.gen_cluster import generate
    from benchmarks.tiers import TierSpec

    return yaml.safe_dump_all(generate(TierSpec("T", **(spec or SMALL))).all_docs())


def generated_bundle(**spec: int) -> Bundle:
    """The cluster `spec` (default SMALL), loaded as from stdin."""
    return verifier.load_bundle(["-"], stdin=io.StringIO(generated_text(**spec)))
