"""remag.concurrency.produced_apart: a forked producer's items, in order; its failure
raised here; the child gone when the consumer stops early."""

import multiprocessing
import multiprocessing.queues
import os
from collections.abc import Iterator
from typing import Any

import pytest

from remag.concurrency import can_produce_apart, produced_apart

pytestmark = pytest.mark.skipif(not can_produce_apart(), reason="needs fork")


def test_items_come_in_order_from_another_process() -> None:
    here = os.getpid()

    def make() -> Iterator[tuple[int, int]]:
        for number in range(50):
            yield number, os.getpid()

    items = list(produced_apart(make))

    assert [number for number, _ in items] == list(range(50))
    assert {pid for _, pid in items} != {here}
    assert len({pid for _, pid in items}) == 1


def test_a_failure_in_the_producer_is_raised_with_its_traceback_after_its_items() -> None:
    def make() -> Iterator[bytes]:
        yield b"first"
        raise KeyError("no such layer")

    items = produced_apart(make)

    assert next(items) == b"first"
    with pytest.raises(RuntimeError, match="no such layer") as raised:
        next(items)
    assert "KeyError" in str(raised.value)


def test_a_producer_that_dies_is_an_error_not_an_end() -> None:
    def make() -> Iterator[int]:
        yield 1
        os._exit(3)

    with pytest.raises(RuntimeError, match="code 3"):
        list(produced_apart(make))


def test_stopping_early_stops_the_producer() -> None:
    pids = []

    def make() -> Iterator[int]:
        while True:  # would never end on its own
            yield os.getpid()

    for pid in produced_apart(make):
        pids.append(pid)
        if len(pids) == 3:
            break

    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)


def _report(queue: "multiprocessing.queues.Queue[bool]") -> None:
    queue.put(can_produce_apart())


def test_a_daemonic_process_does_not_fork_a_producer() -> None:
    """A Celery prefork child is daemonic and may not have children of its own."""
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    child = context.Process(target=_report, args=(answers,), daemon=True)
    child.start()
    answer = answers.get(timeout=30)
    child.join()

    assert can_produce_apart() is True
    assert answer is False


def test_when_no_child_can_be_forked_the_items_are_made_here(monkeypatch: Any) -> None:
    import multiprocessing.context

    def refuse(self: Any) -> None:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(multiprocessing.context.ForkProcess, "start", refuse)

    assert list(produced_apart(lambda: iter([os.getpid(), os.getpid()]))) == [os.getpid()] * 2
