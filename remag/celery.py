"""The Celery application, configured from Django settings (the ``CELERY_`` names).

Two rules every task in remag follows, because the database is the source of truth
and the broker (Redis, which here keeps nothing on disk) may lose messages:

* a task takes ids, re-reads its rows and is idempotent: it may run twice;
* a task is enqueued only after the transaction that wrote its row commits,
  through :func:`enqueue_on_commit`, so a worker never looks for a row that is
  not there yet and a rolled-back request enqueues nothing.
"""

import logging
import os
from typing import Any

from celery import Celery, Task, states
from celery.signals import task_postrun, task_prerun, worker_process_init
from django.db import close_old_connections, connections, transaction

from remag.observability import connect_celery_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remag.settings")

logger = logging.getLogger(__name__)

app = Celery("remag")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
connect_celery_signals()  # request ids travel with the tasks a request sends


def load_tasks() -> None:
    """Import every app's tasks module now. A web process calls it as it starts: the first
    request to send a job would otherwise import them all on its way (0.4 s), once per
    process; imported before the fork, the modules are shared by every worker."""
    app.loader.import_default_modules()


@worker_process_init.connect
def _tune_worker_gc(**_: Any) -> None:
    from remag.gc_tuning import configure_gc

    configure_gc()


@task_prerun.connect
def _take_connections(sender: Task | None = None, **_: Any) -> None:
    """Before a task, as after one that succeeded: see ``_hand_back_connections``."""
    if sender is None or getattr(sender.request, "is_eager", False):
        return
    close_old_connections()


@task_postrun.connect
def _hand_back_connections(sender: Task | None = None, state: str | None = None, **_: Any) -> None:
    """Between tasks a worker treats its connections as Django does between requests:
    each goes back to the process's pool (``close_old_connections``), which keeps it
    open for the next task.

    Celery's Django fix-up would instead close the whole pool before and after every task
    in a prefork child, so every task opened new connections, to server processes that
    had yet to read the catalogue and plan anything. It still closes the pool a child
    inherits when it forks, and, with ``CELERY_DB_REUSE_MAX`` (settings), once every that
    many tasks. Not for a task run in-process (``is_eager``: tests, ``make run``), which
    runs inside its caller's request and transaction.

    After a task that did not succeed (failed, retried, interrupted by its time limit, or
    ended by an exception Celery gives no state, ``state`` None) the connections are
    closed instead: whatever session state it may have left on them, a session advisory
    lock taken just before a time limit landed, a ``SET``, an aborted transaction, goes
    with them rather than to the next task (``_discard_connections``). Failures are rare,
    so the new backends they cost are too."""
    if sender is None or getattr(sender.request, "is_eager", False):
        return
    if state != states.SUCCESS:
        _discard_connections()
        return
    close_old_connections()


def _discard_connections() -> None:
    """End this process's sessions with the database. Closing Django's PostgreSQL
    connection would only hand it back to the pool, session and all; closed underneath,
    it is dropped from the pool when handed back, and the pool opens a fresh one. (The
    pool is Django's, which does not hand connections back on ``close``.)"""
    for wrapper in connections.all(initialized_only=True):
        if wrapper.vendor == "postgresql" and wrapper.connection is not None:
            wrapper.connection.close()
        wrapper.close()


def enqueue_on_commit(
    task: Task,
    *args: Any,
    using: str | None = None,
    options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """Send ``task(*args, **kwargs)`` once the current transaction commits.

    Outside a transaction it is sent at once. If the transaction rolls back nothing is
    sent. If the broker cannot be reached the failure is logged and swallowed (the
    caller's data is already committed); the periodic sweeps of later issues pick up
    rows whose message never arrived. ``options`` go to ``apply_async`` (queue,
    countdown, ...).
    """

    def send() -> None:
        if task.app.conf.task_always_eager:
            # In-process (no REDIS_URL): run it here. apply_async would still acquire a
            # producer, i.e. look for a broker (kombu: "No hostname was supplied").
            task.apply(args=args, kwargs=kwargs)
            return
        task.apply_async(args=args, kwargs=kwargs, **(options or {}))

    transaction.on_commit(send, using=using, robust=True)


@app.task(name="remag.ping", acks_late=False, ignore_result=True)
def ping(token: str) -> str:
    """Answer a liveness probe: store ``token`` in the cache under ``remag:ping:<token>``.

    Operators use it (``manage.py celery_ping``) to see that a worker consumes from the
    broker and shares the cache with the web processes.
    """
    from django.core.cache import cache

    cache.set(ping_cache_key(token), "pong", timeout=300)
    return token


def ping_cache_key(token: str) -> str:
    return f"remag:ping:{token}"
