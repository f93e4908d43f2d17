"""API middleware: bodies over the size limit refused before anything reads them;
problem documents for every error under `/api/`, whatever DEBUG says; no body in a
response to ``HEAD``."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from remag.api.problems import problem_http_response


class RequestBodyLimitMiddleware:
    """Answer ``413`` with a problem document when ``Content-Length`` exceeds the limit.

    The limit is ``settings.REMAG_MAX_REQUEST_BODY_BYTES`` unless the DRF view class sets
    ``max_body_bytes`` (uploads, for instance). Django reads a body without a
    Content-Length as empty, so none slips past; but a write whose body comes in chunked
    transfer encoding (no Content-Length) would then be taken as an empty one (a PATCH
    changing nothing, answered 200), so it is refused with ``411`` instead.

    A body at most ``DRAIN_FACTOR`` times the limit is read (and dropped) before the 413
    is sent: a client still sending it would otherwise find the connection closed under
    it and report a broken pipe instead of the 413. A larger body is not read (a sync
    worker would be held for as long as the client takes to send it): that client may
    see the connection reset.
    """

    DRAIN_FACTOR = 4
    DRAIN_CHUNK = 64 * 1024
    WRITES = frozenset({"POST", "PUT", "PATCH"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if (
            request.method in self.WRITES
            and request.META.get("HTTP_TRANSFER_ENCODING")
            and not request.META.get("CONTENT_LENGTH")
        ):
            return problem_http_response(
                request,
                status_code=411,
                slug="length-required",
                detail="Send the body with a Content-Length header: a body in chunked "
                "transfer encoding is not read.",
            )
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw_length)
        except ValueError:
            length = -1
        if length < 0:
            return problem_http_response(
                request,
                status_code=400,
                slug="malformed-request",
                detail="The Content-Length header is not a non-negative integer.",
            )
        view_class = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)
        limit = getattr(view_class, "max_body_bytes", None)
        if callable(limit):  # read from settings per request, not once at import
            limit = limit()
        limit = limit or settings.REMAG_MAX_REQUEST_BODY_BYTES
        if length > limit:
            if length <= self.DRAIN_FACTOR * limit:
                while request.read(self.DRAIN_CHUNK):
                    pass
            return problem_http_response(
                request,
                status_code=413,
                slug="payload-too-large",
                detail=f"The body is {length} bytes; this endpoint accepts at most {limit}.",
                extra={"max_bytes": limit},
            )
        return None


# Problem types of the statuses a plain Django view may answer with.
_SLUGS = {400: "malformed-request", 403: "permission-denied", 405: "method-not-allowed"}


class APIProblemsMiddleware:
    """Every error under ``/api/`` is a problem document, whatever ``DEBUG`` says.

    With ``DEBUG`` on, Django answers an unknown URL (and an error outside DRF) with its
    HTML debug page instead of ``handler404``/``handler500``; here such a page becomes
    the problem document those handlers give (the error is still logged). Responses
    made by DRF are left alone (its browsable API may answer a browser in HTML).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith("/api/")
            and not hasattr(response, "data")  # not a DRF response
            and not response.get("Content-Type", "").startswith(
                ("application/problem+json", "application/json")
            )
        ):
            from remag.api import exceptions

            if response.status_code == 404:
                return exceptions.handler404(request)
            if response.status_code >= 500:
                return exceptions.handler500(request)
            return problem_http_response(
                request,
                status_code=response.status_code,
                slug=_SLUGS.get(response.status_code),
                detail=response.reason_phrase,
            )
        return response


class HeadWithoutBodyMiddleware:
    """A response to ``HEAD`` carries the headers of the ``GET`` and no body (RFC 9110,
    9.3.2). Django leaves that to the server, and gunicorn sends whatever the application
    gives it: behind a proxy that keeps connections open, the bytes of a body nobody
    asked for would be read as the start of the next response. First in ``MIDDLEWARE``,
    so it runs after ``CommonMiddleware`` has set ``Content-Length`` to the GET's: the
    header stays, the body goes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method != "HEAD":
            return response
        if response.streaming:
            response.streaming_content = []  # type: ignore[attr-defined]
        else:
            # A 1xx, 204 or 304 has no Content-Length to keep (RFC 9110, 8.6).
            bodiless = response.status_code < 200 or response.status_code in (204, 304)
            if not bodiless and not response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
            response.content = b""
        return response
