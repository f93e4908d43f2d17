"""Request ids and structured logs, for web and workers.

Every request gets an id: the caller's ``X-Request-ID`` when it is a sane token (up to
128 letters, digits and ``-_.:``), else a new one. It is returned in ``X-Request-ID``,
added to every log line written while the request runs, and carried in the message of
every Celery task the request enqueues (a ``request_id`` header), so the worker's log
lines for that task carry it too. Logs are JSON objects, one a line, when
``LOG_FORMAT=json`` (the default when ``DEBUG`` is off).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

request_id_var: ContextVar[str] = ContextVar("remag_request_id", default="")


def current_request_id() -> str:
    return request_id_var.get()


def accept_or_make(value: str | None) -> str:
    """The caller's id if it is a sane token, else a new one (never echo junk in logs)."""
    if value and _VALID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Accept or make the request id, expose it to logs, return it in the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = accept_or_make(request.headers.get(HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (the current request's or task's, or empty) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id()
        return True


_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, the exception
    if any, and any ``extra`` fields the call passed."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or current_request_id(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


# ------------------------------------------------------------------ Celery


def connect_celery_signals() -> None:
    """Carry the request id from the web request into the tasks it sends, and from the
    task's message into the worker's log lines while the task runs."""
    from celery.signals import before_task_publish, task_postrun, task_prerun

    def add_header(headers: dict[str, Any] | None = None, **_: Any) -> None:
        request_id = current_request_id()
        if headers is not None and request_id and not headers.get("request_id"):
            headers["request_id"] = request_id

    def enter(task: Any = None, **_: Any) -> None:
        request = getattr(task, "request", None)
        request_id = getattr(request, "request_id", None) or (
            (getattr(request, "headers", None) or {}).get("request_id")
        )
        # In-process tasks (no broker) keep the id of the request that runs them.
        value = str(request_id or current_request_id() or f"task-{getattr(request, 'id', '')}")
        stack = task.__dict__.setdefault("_remag_request_id_tokens", [])
        stack.append(request_id_var.set(value))

    def leave(task: Any = None, **_: Any) -> None:
        stack = getattr(task, "_remag_request_id_tokens", None)
        if stack:
            request_id_var.reset(stack.pop())

    before_task_publish.connect(add_header, weak=False)
    task_prerun.connect(enter, weak=False)
    task_postrun.connect(leave, weak=False)
