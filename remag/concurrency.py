"""Producing in a child process what this one consumes."""

import multiprocessing
import signal
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
    exceptions are raised here as a ``RuntimeError`` carrying its traceback, as is its
    death; if this side stops early, the child is terminated before this returns. The
    child ignores Ctrl-C (this side decides). When no child can be forked (out of memory
    or processes), ``make()`` runs here instead.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_produce, args=(make, sender), daemon=True)
    try:
        child.start()
    except OSError:
        receiver.close()
        sender.close()
        yield from make()
        return
    sender.close()
    done = False
    try:
        while True:
            try:
                kind, value = receiver.recv()
            except (EOFError, OSError):  # the child died, maybe halfway through a send
                child.join(timeout=10)  # its exit code, once it is reaped
                raise RuntimeError(
                    f"the producer exited (code {child.exitcode}) before it was done"
                ) from None
            if kind == _DONE:
                done = True
                return
            if kind == _FAILED:
                raise RuntimeError(f"the producer failed:\n{value}")
            yield value
    finally:
        receiver.close()
        if done:
            child.join(timeout=10)  # it is exiting on its own
        if child.is_alive():
            child.terminate()
        child.join()
        child.close()


def _produce(make: Callable[[], Iterator[Any]], sender: Any) -> None:
    # The parent alone stops the child: no KeyboardInterrupt of its own halfway through a
    # send, and SIGTERM (the parent's terminate()) ends it outright.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        for item in make():
            sender.send((_ITEM, item))
    except BrokenPipeError:
        return  # the parent stopped listening: nothing to tell it
    except BaseException:  # noqa: BLE001 (reported to the parent, raised there)
        sender.send((_FAILED, traceback.format_exc()))
    else:
        sender.send((_DONE, None))
    finally:
        sender.close()
