"""`LabelSelector` keeps its hash from construction: the same value the dataclass-generated hash gave (so sets and
dicts of selectors iterate as before), never part of equality, repr or init, and right through every copy."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from verifier.model.bundle import LabelSelector, Requirement

SELECTORS = [
    LabelSelector(),
    LabelSelector((Requirement("app", "In", ("web",)),)),
    LabelSelector((Requirement("app", "In", ("web", "api")), Requirement("tier", "Exists"))),
]


@pytest.mark.parametrize("sel", SELECTORS, ids=str)
def test_hash_is_the_generated_one(sel: LabelSelector) -> None:
    assert hash(sel) == hash((sel.requirements,))


@pytest.mark.parametrize("sel", SELECTORS, ids=str)
def test_hash_follows_the_requirements_through_every_copy(sel: LabelSelector) -> None:
    other = dataclasses.replace(sel, requirements=(Requirement("k", "DoesNotExist"),))
    assert hash(other) == hash(((Requirement("k", "DoesNotExist"),),))
    for twin in (dataclasses.replace(sel), pickle.loads(pickle.dumps(sel)), copy.deepcopy(sel), copy.copy(sel)):
        assert twin == sel
        assert hash(twin) == hash(sel)
    assert {sel: 1}[LabelSelector(sel.requirements)] == 1


def test_hash_is_not_part_of_equality_repr_or_init() -> None:
    sel = SELECTORS[1]
    assert "_hash" not in repr(sel)
    assert "_hash" not in type(sel).__match_args__
    with pytest.raises(TypeError):
        LabelSelector(sel.requirements, _hash=1)  # type: ignore[call-arg]
    with pytest.raises(dataclasses.FrozenInstanceError):
        sel._hash = 1  # type: ignore[misc]
    assert SELECTORS[0] != SELECTORS[1]
