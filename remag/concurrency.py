"""Producing in a child process what this one consumes."""

import multiprocessing
import traceback
from collections.abc import Callable, Iterator
from typing import Any

_DONE = "done"
_ITEM = "item"
_FAILED = "failed"


def can_produce_apart() -> bool:
    """Whether :func:`produced_apart` can fork here: not on Windows, nor in a daemonic
    process (a Celery prefork worker's child), which may not have children."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon
    )


def produced_apart(make: Callable[[], Iterator[Any]]) -> Iterator[Any]:
    """Yield what ``make()`` yields, produced in a forked child process while this one
    handles the item before: for a CPU-bound pure-Python producer (demo rows formatted
    for ``COPY``) whose consumer mostly waits on another process (the database writing
    them), so that on two cores the two overlap. Threads cannot do this: the producer
    would hold the GIL each time the consumer's connection wants it back.

    The child starts as a copy of this process and must leave its database connections
    alone (they are this process's sockets): ``make`` may only compute. Items are
    pickled across a pipe, so bytes and plain values, not model instances. The child
    works one item ahead (the pipe's send waits for this side to take the last). Its
    exceptions are raised here as a ``RuntimeError`` carrying its traceback; if this side
    stops early, the child is terminated before this returns.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_produce, args=(make, sender), daemon=True)
    child.start()
    sender.close()
    try:
        while True:
            try:
                kind, value = receiver.recv()
            except EOFError:
                child.join(timeout=10)  # its exit code, once it is reaped
                raise RuntimeError(
                    f"the producer exited (code {child.exitcode}) before it was done"
                ) from None
            if kind == _DONE:
                return
            if kind == _FAILED:
                raise RuntimeError(f"the producer failed:\n{value}")
            yield value
    finally:
        receiver.close()
        if child.is_alive():
            child.terminate()
        child.join()


def _produce(make: Callable[[], Iterator[Any]], sender: Any) -> None:
    try:
        for item in make():
            sender.send((_ITEM, item))
    except BaseException:  # noqa: BLE001 (reported to the parent, raised there)
        sender.send((_FAILED, traceback.format_exc()))
    else:
        sender.send((_DONE, None))
    finally:
        sender.close()
