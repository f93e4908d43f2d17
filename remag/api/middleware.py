"""Refuses request bodies over the size limit before anything reads them."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from remag.api.problems import problem_http_response


class RequestBodyLimitMiddleware:
    """Answer ``413`` with a problem document when ``Content-Length`` exceeds the limit.

    The limit is ``settings.REMAG_MAX_REQUEST_BODY_BYTES`` unless the DRF view class sets
    ``max_body_bytes`` (uploads, for instance). Bodies without a Content-Length are read
    by Django as empty, so they cannot slip past.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
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
            return problem_http_response(
                request,
                status_code=413,
                slug="payload-too-large",
                detail=f"The body is {length} bytes; this endpoint accepts at most {limit}.",
                extra={"max_bytes": limit},
            )
        return None
