"""gunicorn's configuration for remag's web processes: `gunicorn -c python:remag.gunicorn_conf`.

Everything comes from the environment (README's configuration table):

- ``PORT`` (8000) or ``GUNICORN_BIND`` (``0.0.0.0:$PORT``): where to listen.
- ``WEB_CONCURRENCY`` (2): worker processes. Each holds at most ``DATABASE_POOL_MAX_SIZE``
  PostgreSQL connections, so connections = web processes x pool size (plus workers').
- ``GUNICORN_TIMEOUT`` (30): a request running longer has its worker restarted.
- ``GUNICORN_GRACEFUL_TIMEOUT`` (30): on SIGTERM, workers finish their requests within
  this long before they are stopped (containers: keep the stop grace period above it).
- ``GUNICORN_MAX_REQUESTS`` (2000, with jitter): a worker is replaced after this many
  requests, bounding slow leaks.
- ``FORWARDED_ALLOW_IPS`` (127.0.0.1): proxies trusted for ``X-Forwarded-*``.

Access log lines are JSON objects on stdout, one per request (with the request id the
API returns in ``X-Request-ID`` when it sends one).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import gunicorn.util
from gunicorn.glogging import Logger

port = os.environ.get("PORT", "8000")
bind = [os.environ.get("GUNICORN_BIND", f"0.0.0.0:{port}")]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# The longest request line gunicorn reads (its own maximum; the default is 4094): a
# supplier search with many filters runs past 4 KB. gunicorn refuses a longer line itself,
# before remag sees the request, with a 400 problem document (``write_problem`` below).
limit_request_line = 8190
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Load the application once in the master: workers fork with it (and its frozen heap,
# see remag/gc_tuning.py) already in memory.
preload_app = True
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logger_class = "remag.gunicorn_conf.JsonLogger"
proc_name = "remag-web"


# gunicorn refuses some requests itself, before remag sees them (a request line over
# limit_request_line, too many or too long header fields, a malformed request line or
# header), and writes the error as an HTML page. A client of a JSON API expects a problem
# document; gunicorn has no hook for it, so its one writer of those pages is replaced.
_GUNICORN_WRITE_ERROR = gunicorn.util.write_error
_SERVER_PROBLEMS = {
    400: "malformed-request",
    403: "permission-denied",
    431: "header-fields-too-large",
    500: "server-error",
}


def write_problem(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's ``util.write_error``, writing an RFC 9457 problem document (JSON, so
    whatever the refused request carried is escaped) instead of an HTML page."""
    try:
        from remag.api.problems import problem_document

        document = problem_document(
            status_code=status_int, slug=_SERVER_PROBLEMS.get(status_int), detail=mesg
        )
        body = json.dumps(document).encode()
        head = (
            f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode("latin1")
    except Exception:  # Django not set up, or anything else: gunicorn's own page
        _GUNICORN_WRITE_ERROR(sock, status_int, reason, mesg)
        return
    gunicorn.util.write_nonblock(sock, head + body)


gunicorn.util.write_error = write_problem


def child_exit(server: Any, worker: Any) -> None:
    """With PROMETHEUS_MULTIPROC_DIR, forget a dead worker's live gauges (remag/metrics.py)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


class JsonLogger(Logger):
    """gunicorn's logger with access lines as JSON objects (safe whatever the request
    carries: values are encoded by ``json``, not pasted into a format string)."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.cfg.accesslog and not self.cfg.logconfig and not self.cfg.syslog:
            return
        headers = dict(resp.headers) if isinstance(resp.headers, list) else {}
        line = {
            "time": datetime.now(tz=UTC).isoformat(timespec="milliseconds"),
            "type": "access",
            "remote_addr": environ.get("REMOTE_ADDR", ""),
            "method": environ.get("REQUEST_METHOD", ""),
            "path": environ.get("PATH_INFO", ""),
            "query": environ.get("QUERY_STRING", ""),
            "status": int(str(resp.status).split(" ", 1)[0]),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 2),
            "user_agent": environ.get("HTTP_USER_AGENT", ""),
            "request_id": headers.get("X-Request-ID", environ.get("HTTP_X_REQUEST_ID", "")),
        }
        try:
            self.access_log.info(json.dumps(line, separators=(",", ":")))
        except Exception:  # a log line must never break a response
            self.exception("could not write the access log line")
