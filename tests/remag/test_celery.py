"""The on-commit helper, in-process and through a real worker on Redis."""

import uuid
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction

from remag.celery import app as celery_app
from remag.celery import enqueue_on_commit, ping, ping_cache_key
from tests.conftest import wait_for


class Rollback(Exception):
    pass


def enqueue_then_roll_back(token: str, **options: Any) -> None:
    try:
        with transaction.atomic():
            enqueue_on_commit(ping, token, options=options)
            raise Rollback
    except Rollback:
        pass


@pytest.mark.django_db
def test_nothing_is_sent_before_commit(
    eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    token = uuid.uuid4().hex

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        enqueue_on_commit(ping, token)
        assert cache.get(ping_cache_key(token)) is None

    assert len(callbacks) == 1
    assert cache.get(ping_cache_key(token)) == "pong"


@pytest.mark.django_db
def test_in_process_tasks_look_for_no_broker(
    eager: None, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    def no_broker(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a producer was acquired: a broker was looked for")

    monkeypatch.setattr(celery_app, "producer_or_acquire", no_broker)
    token = uuid.uuid4().hex

    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(ping, token)

    # (the helper logs and swallows a failed send: the task ran only if no producer)
    assert cache.get(ping_cache_key(token)) == "pong"


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_after_rollback(eager: None) -> None:
    token = uuid.uuid4().hex

    enqueue_then_roll_back(token)

    assert cache.get(ping_cache_key(token)) is None


@pytest.mark.django_db(transaction=True)
def test_broker_outage_does_not_break_the_commit(caplog: Any) -> None:
    """A failed publish is logged, not raised: the row is committed and a sweep recovers it."""
    from celery import Celery

    from remag.accounts.models import Organization

    unreachable = Celery(
        "outage",
        broker="redis://127.0.0.1:1/0",
        set_as_current=False,
        config_source={
            "task_publish_retry": False,
            "broker_connection_retry": False,
            "broker_connection_timeout": 1,
        },
    )

    @unreachable.task(name="outage.noop")
    def noop() -> None:
        return None

    with transaction.atomic():
        organization = Organization.objects.create(name="kept", kind="sme")
        enqueue_on_commit(noop)

    assert Organization.objects.filter(id=organization.id).exists()
    assert "enqueue_on_commit" in caplog.text


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_a_task_sent_on_commit(
    celery_worker_process: Any, redis_client: Any
) -> None:
    queue = celery_worker_process()
    rolled_back, committed = uuid.uuid4().hex, uuid.uuid4().hex

    enqueue_then_roll_back(rolled_back, queue=queue)

    with transaction.atomic():
        enqueue_on_commit(ping, committed, options={"queue": queue})
        assert redis_client.llen(queue) == 0, "published before the commit"

    assert wait_for(lambda: cache.get(ping_cache_key(committed)), timeout=90) == "pong"
    # One worker consumes its queue in order: had the rolled-back task been sent, it
    # would have run before the committed one.
    assert cache.get(ping_cache_key(rolled_back)) is None


@pytest.mark.parametrize("entry", ["remag.wsgi", "remag.asgi"])
def test_a_web_process_starts_with_every_task_module_imported(entry: str) -> None:
    """The first request that sends a job must not import the task modules on its way
    (remag.celery.load_tasks): a fresh interpreter that loads the entry point has them."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    program = (
        f"import importlib, json, sys; importlib.import_module({entry!r}); "
        "from remag.celery import app; "
        "print(json.dumps([m for m in ('matching.tasks', 'suppliers.tasks', "
        "'remag.webhooks.tasks') if m in sys.modules]))"
    )
    done = subprocess.run(  # noqa: S603 (this interpreter, a fixed program)
        [sys.executable, "-c", program],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "1"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == ["matching.tasks", "suppliers.tasks", "remag.webhooks.tasks"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("state", "kept"), [("SUCCESS", True), ("FAILURE", False), ("RETRY", False), (None, False)]
)
def test_a_failed_task_leaves_no_session_state_to_the_next(
    postgres: None, state: str, kept: bool
) -> None:
    """After a task a worker hands its connection back to the pool, session and all; after
    a task that failed (here one that took a session lock and was interrupted before
    releasing it) the session is ended instead, and the lock with it."""
    from types import SimpleNamespace

    import psycopg
    from django.db import connection

    from remag.celery import _hand_back_connections

    key = uuid.uuid4().int >> 65  # fits a bigint
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    worker_task = SimpleNamespace(request=SimpleNamespace(is_eager=False))
    _hand_back_connections(sender=worker_task, state=state)  # task_postrun

    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, dbname=settings["NAME"],
        user=settings["USER"], password=settings["PASSWORD"] or None, autocommit=True,
    ) as other:  # fmt: skip

        def try_lock() -> bool:
            taken = other.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()[0]
            if taken:
                other.execute("SELECT pg_advisory_unlock(%s)", [key])
            return bool(taken)

        # The server ends a session a moment after its client hangs up: a lock that should
        # go is given a few seconds to.
        taken = try_lock() if kept else wait_for(try_lock, timeout=10, interval=0.05)
    assert taken is not kept
    with connection.cursor() as cursor:  # the process still has a working connection
        cursor.execute("SELECT pg_advisory_unlock_all(), 1")
        assert cursor.fetchone()[1] == 1
