"""remag.gc_tuning: the collector's settings and the bulk steps that pause it."""

import gc
from collections.abc import Iterator

import pytest

from remag.gc_tuning import gc_paused


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_the_collector_is_off_inside_and_on_again_after() -> None:
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_inside_still_turns_it_back_on() -> None:
    with pytest.raises(ZeroDivisionError), gc_paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_only_the_block_that_turned_it_off_turns_it_on() -> None:
    with gc_paused():
        with gc_paused():
            pass
        assert not gc.isenabled()  # the inner block leaves it as it found it
    assert gc.isenabled()
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()  # off before: still off


def test_cycles_made_inside_are_collected_after() -> None:
    class Node:
        pass

    with gc_paused():
        node = Node()
        node.self = node  # type: ignore[attr-defined]
        del node
    assert gc.collect() >= 1
