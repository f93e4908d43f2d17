"""Garbage-collector settings for long-running web and worker processes.

Django and DRF allocate many short-lived objects with reference cycles per request
(serializer fields point at their parents), so CPython's cyclic collector runs often,
and each full collection walks every long-lived object of the process. Measured with
bench/bench_supplier_list.py at 100,000 suppliers, the default settings put the supplier
list's p95 at ~175 ms against a p50 of ~37 ms; freezing the start-up heap and raising
the first-generation threshold brings p95 to ~60 ms with the same p50 (docs in
bench/README.md).

``GC_FREEZE=0`` and ``GC_GEN0_THRESHOLD`` change it; ``GC_GEN0_THRESHOLD=0`` leaves the
interpreter's defaults alone.
"""

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager

DEFAULT_GEN0_THRESHOLD = 50_000


def configure_gc() -> None:
    """Call once the application is loaded (after imports, before serving)."""
    threshold = int(os.environ.get("GC_GEN0_THRESHOLD", DEFAULT_GEN0_THRESHOLD))
    if threshold <= 0:
        return
    if os.environ.get("GC_FREEZE", "1") != "0":
        gc.collect()
        gc.freeze()  # start-up objects live forever; never scan them again
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(threshold, max(gen1, 20), max(gen2, 100))


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection inside the block: for bulk steps (a match run's load, scoring
    and writing) that make hundreds of thousands of rows, strings and arrays, none in a
    reference cycle, so a collection would walk them all and free nothing (at 42,782
    candidates it was a tenth of the load's CPU with the tuning above, half without).
    Reference counting still frees everything as usual; cycles made meanwhile wait for
    the next collection after the block.

    The collector is per process: another thread's cycles wait too while a block runs.
    The collector is turned back on only by the block that turned it off."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
