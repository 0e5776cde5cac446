"""Which claim types a prompt asks for lives in its file (`claim_types`), nowhere else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from prompts.library import LIBRARY_DIR, PromptError, list_prompts, load_prompt
from service.pipeline import scope_for


def test_each_prompt_file_names_the_claim_types_it_asks_for() -> None:
    asked = {spec.ref: spec.claim_types for spec in list_prompts()}
    assert asked["flows@2"] == ("flow",) and asked["breakage@1"] == ("dependency_broken",)
    assert asked["dns@1"] == ("dns_egress_missing",) and asked["review@1"] == ("dependency_broken", "finding")
    assert asked["ask@1"] == ()
    assert scope_for("review@1") == ("dependency_broken", "finding") and scope_for("dns") == ("dns_egress_missing",)
    assert scope_for("no-such-prompt@9") == ()


def test_an_unknown_claim_type_is_refused_with_the_file_and_line(tmp_path: Path) -> None:
    for path in LIBRARY_DIR.glob("_*.yaml"):
        shutil.copy(path, tmp_path)
    text = (LIBRARY_DIR / "dns@1.yaml").read_text()
    (tmp_path / "dns@1.yaml").write_text(text.replace("claim_types: [dns_egress_missing]", "claim_types: [dns_gap]"))
    line = 1 + text.splitlines().index("claim_types: [dns_egress_missing]")
    with pytest.raises(PromptError, match=rf"dns@1.yaml:{line}: claim_types: unknown claim type\(s\) dns_gap"):
        load_prompt("dns@1", tmp_path)
