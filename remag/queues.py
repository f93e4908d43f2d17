"""One Celery queue per kind of work, so that none starves another: a 100,000-row import
or a burst of webhook retries never delays a match run. Everything else (the sweeps, the
purge, the liveness ping) goes to the default queue (``CELERY_TASK_DEFAULT_QUEUE``).

Pure data, read by the settings (``CELERY_TASK_ROUTES``), the Makefile's worker commands,
the compose file and the tests. ``CELERY_QUEUE_PREFIX`` prefixes every name (deployments
sharing a Redis; the tests isolate their queues with it).
"""

from __future__ import annotations

MATCHING = "matching"
IMPORTS = "imports"
WEBHOOKS = "webhooks"
KINDS = (MATCHING, IMPORTS, WEBHOOKS)

# Task name -> the kind of work it is.
TASK_KINDS = {
    "matching.match_run_execute": MATCHING,
    "matching.supplier_opportunities_refresh": MATCHING,
    "collaboration.call_run_execute": MATCHING,
    "magnets.magnet_run_execute": MATCHING,
    "suppliers.import_job_execute": IMPORTS,
    "webhooks.delivery_attempt": WEBHOOKS,
}


def queue_name(kind: str, prefix: str = "") -> str:
    return f"{prefix}{kind}"


def task_routes(prefix: str = "") -> dict[str, dict[str, str]]:
    """Celery's ``task_routes``: each job task to its kind's queue."""
    return {task: {"queue": queue_name(kind, prefix)} for task, kind in TASK_KINDS.items()}


def all_queues(default: str, prefix: str = "") -> list[str]:
    """Every queue a worker serving all kinds of work consumes."""
    return [default, *(queue_name(kind, prefix) for kind in KINDS)]
