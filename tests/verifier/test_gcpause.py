"""`gc_paused` restores the collector as it was; inside `freezing_after_pauses` a pause also ends by freezing
what it allocated, and the block's end unfreezes everything (the CLI's commands run in-process in tests)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from verifier.gcpause import freezing_after_pauses, gc_paused


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    gc.unfreeze()
    yield
    gc.unfreeze()
    if was:
        gc.enable()


def test_pause_restores_without_freezing() -> None:
    gc.enable()
    with gc_paused():
        assert not gc.isenabled()
        kept = [[i] for i in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    assert kept


def test_pause_inside_freezing_block_freezes_what_it_allocated_and_the_block_unfreezes() -> None:
    gc.enable()
    with freezing_after_pauses():
        with gc_paused():
            kept = [[i] for i in range(1000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= len(kept)
        young = [[i] for i in range(10)]  # after the pause: tracked as usual
        assert gc.is_tracked(young[0])
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


def test_pause_of_a_disabled_collector_stays_disabled_and_freezes_nothing() -> None:
    gc.disable()
    with freezing_after_pauses():
        with gc_paused():
            [[i] for i in range(100)]
        assert not gc.isenabled()
        assert gc.get_freeze_count() == 0


def test_nested_blocks_unfreeze_only_at_the_outermost_end() -> None:
    gc.enable()
    with freezing_after_pauses():
        with freezing_after_pauses(), gc_paused():
            [[i] for i in range(100)]
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_cycles_frozen_in_a_pause_are_collected_after_the_block() -> None:
    gc.enable()

    class Node:
        other: object = None

    with freezing_after_pauses():
        with gc_paused():
            a, b = Node(), Node()
            a.other, b.other = b, a
            del a, b
        assert not any(isinstance(o, Node) for o in gc.garbage)
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, Node)]
