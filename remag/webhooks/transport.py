"""A bounded HTTP POST to a checked address (see :mod:`remag.webhooks.ssrf`)."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any

from remag.webhooks.ssrf import Target

EXCERPT_BYTES = 1000


@dataclass(frozen=True)
class Answer:
    status: int | None
    excerpt: str
    duration_ms: int
    error: str


def _pin(connection: http.client.HTTPConnection, address: str) -> None:
    """Make ``connection`` connect to ``address`` whatever its host name resolves to now
    (TLS still verifies the certificate against the host name)."""

    def create_connection(
        target: tuple[str, int], timeout: Any = None, source_address: Any = None
    ) -> socket.socket:
        return socket.create_connection((address, target[1]), timeout, source_address)

    connection._create_connection = create_connection  # type: ignore[attr-defined]


def post(target: Target, body: bytes, headers: dict[str, str], *, timeout: float) -> Answer:
    started = time.monotonic()
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    _pin(connection, target.address)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        excerpt = response.read(EXCERPT_BYTES).decode("utf-8", errors="replace")
        return Answer(response.status, excerpt, _ms(started), "")
    except (OSError, http.client.HTTPException) as exc:
        return Answer(None, "", _ms(started), f"{type(exc).__name__}: {exc}"[:500])
    finally:
        connection.close()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
