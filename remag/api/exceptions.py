"""The one exception handler: every error of the API becomes a problem document."""

import logging
import math
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import set_rollback

from remag import errors as domain
from remag.api.problems import (
    PROBLEM_CONTENT_TYPE,
    Conflict,
    PayloadTooLarge,
    Problem,
    problem_document,
    problem_http_response,
)
from remag.fielderrors import flatten_errors

logger = logging.getLogger("remag.api")

# DRF's exception classes and the problem type each maps to.
_SLUGS: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.ValidationError, "validation-error"),
    (exceptions.ParseError, "malformed-request"),
    (exceptions.NotAuthenticated, "not-authenticated"),
    (exceptions.AuthenticationFailed, "authentication-failed"),
    (exceptions.PermissionDenied, "permission-denied"),
    (exceptions.NotFound, "not-found"),
    (exceptions.MethodNotAllowed, "method-not-allowed"),
    (exceptions.NotAcceptable, "not-acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported-media-type"),
    (exceptions.Throttled, "throttled"),
]


def api_exception_for(
    exc: domain.DomainError, request: HttpRequest | None = None
) -> exceptions.APIException:
    """The API's view of a domain error: its status, problem type and members.

    A :class:`remag.errors.Ref` member becomes a link (``{"id", "url"}``, the URL of the
    ``<kind>-detail`` route, absolute like every URL of the API when the request is
    known); an ``errors`` member becomes the document's field errors.
    """
    extra = {name: _member(value, request) for name, value in exc.extra.items()}
    errors = extra.pop("errors", None)
    if exc.kind == "conflict":
        return Conflict(exc.detail, code=exc.code, extra=extra, errors=errors)
    if exc.kind == "too-large":
        return PayloadTooLarge(exc.detail, code=exc.code, extra=extra, errors=errors)
    if exc.kind == "not-allowed":
        return exceptions.PermissionDenied(exc.detail, code=exc.code)
    if exc.kind == "not-found":
        return exceptions.NotFound(exc.detail, code=exc.code)
    if exc.field:
        return exceptions.ValidationError({exc.field: [exc.detail]}, code=exc.code)
    return exceptions.ValidationError(exc.detail, code=exc.code)


def _member(value: Any, request: HttpRequest | None) -> Any:
    if isinstance(value, domain.Ref):
        url = reverse(f"{value.kind}-detail", kwargs={"id": value.id})
        return {
            "id": str(value.id),
            "url": request.build_absolute_uri(url) if request is not None else url,
        }
    return value


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    request = context.get("request")
    path = request.path if request is not None else None

    if isinstance(exc, domain.DomainError):
        exc = api_exception_for(exc, request)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, SuspiciousOperation | BadRequest):
        exc = _refused_request(exc)

    set_rollback()
    if not isinstance(exc, exceptions.APIException):
        logger.exception("Unhandled error on %s", path, exc_info=exc)
        detail = "An unexpected error occurred; it has been logged."
        if settings.DEBUG:
            detail = f"{type(exc).__name__}: {exc}"
        body = problem_document(status_code=500, slug="server-error", detail=detail, instance=path)
        return _response(request, body, 500, {})

    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(max(1, math.ceil(exc.wait)))

    body = _document_for(exc, path)
    return _response(request, body, exc.status_code, headers)


def _refused_request(exc: SuspiciousOperation | BadRequest) -> exceptions.APIException:
    """What Django refuses as it reads a request (``SuspiciousOperation``, ``BadRequest``),
    as Django itself answers it outside the API: a client's error, not the server's. DRF
    meets it when it first reads the query string or the body, inside the view."""
    if isinstance(exc, TooManyFieldsSent):
        detail = (
            "Too many query string or form fields: at most "
            f"{settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}."
        )
    elif isinstance(exc, TooManyFilesSent):
        detail = f"Too many files: at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES}."
    elif isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge(
            f"The form fields' data is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
            code="too_large",
            extra={"max_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
        )
    else:
        logger.warning("refused request: %s: %s", type(exc).__name__, exc)
        detail = "The request was refused as malformed."
    return exceptions.ParseError(detail)


def _document_for(exc: exceptions.APIException, path: str | None) -> dict[str, Any]:
    if isinstance(exc, Problem):
        detail = str(exc.detail)
        return problem_document(
            status_code=exc.status_code,
            slug=exc.slug,
            detail=detail,
            instance=path,
            code=_code_of(exc.detail),
            errors=exc.errors,
            extra=exc.extra,
        )
    slug = next((s for cls, s in _SLUGS if isinstance(exc, cls)), None)
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        return problem_document(
            status_code=exc.status_code,
            slug=slug,
            detail=_validation_summary(errors),
            instance=path,
            errors=errors,
        )
    extra = {}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        extra["retry_after_seconds"] = max(1, math.ceil(exc.wait))
    return problem_document(
        status_code=exc.status_code,
        slug=slug,
        detail=str(exc.detail),
        instance=path,
        code=_code_of(exc.detail),
        extra=extra,
    )


def _response(
    request: Any, body: dict[str, Any], status_code: int, headers: dict[str, str]
) -> Response:
    # JSON clients get application/problem+json; a browser on the browsable API keeps HTML.
    renderer = getattr(request, "accepted_renderer", None)
    content_type = None
    if renderer is None and request is not None:
        # Refused before content negotiation (a query string Django would not read):
        # JSON, rather than the view's first renderer, which DRF would fall back to
        # (the schema's YAML).
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = PROBLEM_CONTENT_TYPE
    if renderer is None or getattr(renderer, "format", "json") == "json":
        content_type = PROBLEM_CONTENT_TYPE
    return Response(body, status=status_code, headers=headers, content_type=content_type)


def _code_of(detail: Any) -> str | None:
    return getattr(detail, "code", None)


def _validation_summary(errors: list[dict[str, Any]]) -> str:
    if not errors:
        return "The request is invalid."
    first = errors[0]
    where = f"{first['field']}: " if first["field"] else ""
    more = f" ({len(errors) - 1} more error(s) in `errors`)" if len(errors) > 1 else ""
    return f"{where}{first['message']}{more}"


# ------------------------------------------------------------------ Django-level handlers
# For URLs no DRF view answers (unknown paths, errors raised in middleware) the API
# still speaks problem documents; the admin keeps Django's HTML pages.


def _is_html_area(request: HttpRequest) -> bool:
    return request.path.startswith("/admin/")


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_html_area(request):
        from django.views.defaults import bad_request

        return bad_request(request, exception)
    return problem_http_response(
        request, status_code=400, slug="malformed-request", detail="The request was malformed."
    )


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_html_area(request):
        from django.views.defaults import permission_denied

        return permission_denied(request, exception)
    return problem_http_response(
        request, status_code=403, slug="permission-denied", detail="You may not do this."
    )


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_html_area(request):
        from django.views.defaults import page_not_found

        return page_not_found(request, exception)
    return problem_http_response(
        request, status_code=404, slug="not-found", detail=f"Nothing is served at {request.path}."
    )


def handler500(request: HttpRequest) -> HttpResponse:
    if _is_html_area(request):
        from django.views.defaults import server_error

        return server_error(request)
    return problem_http_response(
        request,
        status_code=500,
        slug="server-error",
        detail="An unexpected error occurred; it has been logged.",
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if _is_html_area(request):
        from django.views.csrf import csrf_failure as default_csrf_failure

        return default_csrf_failure(request, reason)
    return problem_http_response(
        request, status_code=403, slug="permission-denied", detail=f"CSRF check failed: {reason}"
    )
