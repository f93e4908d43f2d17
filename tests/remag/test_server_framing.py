"""What only a real server shows (gunicorn, raw sockets; Django's test client drops a HEAD
body itself and always sends a Content-Length): a response to HEAD has the GET's headers
and no body, and a write whose body comes in chunked transfer encoding is refused with
411 rather than read as empty."""

import socket
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def _exchange(base: str, method: str, path: str) -> tuple[str, bytes]:
    """The head and body of one response, read until the server closes."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            "Accept: application/json\r\n\r\n".encode()
        )
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


def _header(head: str, name: str) -> str | None:
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/taxonomy/layers/",  # a list
        "/api/v1/suppliers/00000000-0000-0000-0000-000000000000/",  # a problem (404)
        "/healthz",
        "/api/schema/",
    ],
)
def test_head_has_the_gets_headers_and_no_body(gunicorn_server: Any, path: str) -> None:
    get_head, get_body = _exchange(gunicorn_server, "GET", path)
    head, body = _exchange(gunicorn_server, "HEAD", path)

    assert get_body, "the GET has a body"
    assert body == b""
    assert head.split("\r\n")[0] == get_head.split("\r\n")[0]  # the same status
    assert _header(head, "Content-Type") == _header(get_head, "Content-Type")
    if _header(get_head, "Content-Length") is not None:
        assert _header(head, "Content-Length") == _header(get_head, "Content-Length")


def test_a_chunked_write_is_refused_not_read_as_empty(gunicorn_server: Any) -> None:
    """Django reads a body without Content-Length as empty: a PATCH in chunked transfer
    encoding would change nothing and answer 200. It is refused with 411, naming why."""
    url = urlsplit(gunicorn_server)
    body = b'{"name": "renamed"}'
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(
            b"PATCH /api/v1/webhooks/endpoints/00000000-0000-0000-0000-000000000000/ HTTP/1.1\r\n"
            b"Host: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
            + f"{len(body):x}\r\n".encode()
            + body
            + b"\r\n0\r\n\r\n"
        )
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, answer = received.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 411 Length Required"
    assert b"application/problem+json" in head
    assert b"length-required" in answer


@pytest.mark.parametrize("status", [200, 204, 304])
def test_head_keeps_a_length_only_where_a_body_may_be(status: int) -> None:
    """RFC 9110, 8.6: a 204 or a 304 has no Content-Length; a 200 keeps the GET's."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from remag.api.middleware import HeadWithoutBodyMiddleware

    middleware = HeadWithoutBodyMiddleware(lambda request: HttpResponse(b"abc", status=status))
    response = middleware(RequestFactory().head("/"))
    assert response.content == b""
    assert response.get("Content-Length") == ("3" if status == 200 else None)
    get = middleware(RequestFactory().get("/"))
    assert get.content == b"abc"


@pytest.mark.parametrize(
    ("request_bytes", "status", "problem"),
    [
        (b"GET /api/v1/suppliers/?q=" + b"x" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 400,
         "malformed-request"),
        (b"GET /healthz HTTP/1.1\r\nHost: a\r\n" + b"X-A: b\r\n" * 120 + b"\r\n", 431,
         "header-fields-too-large"),
        (b"GET /healthz HTTP/1.1\r\nHost: a\r\nBad Header: <script>\r\n\r\n", 400,
         "malformed-request"),
        (b"G\x00T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "malformed-request"),
    ],
    ids=["request line too long", "too many headers", "malformed header", "malformed method"],
)  # fmt: skip
def test_what_gunicorn_refuses_itself_is_a_problem_document(
    gunicorn_server: Any, request_bytes: bytes, status: int, problem: str
) -> None:
    """gunicorn refuses these before remag sees them; its answer is still a problem
    document a generated client can parse, not an HTML page."""
    import json

    url = urlsplit(gunicorn_server)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(request_bytes)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0].startswith(f"HTTP/1.1 {status} ".encode())
    assert _header(head.decode("latin-1"), "Content-Type") == "application/problem+json"
    document = json.loads(body)
    assert document["status"] == status
    assert document["type"].endswith(f"/{problem}")
    assert int(_header(head.decode("latin-1"), "Content-Length") or -1) == len(body)
