"""RFC 9457 problem documents: the one shape every error of the API takes.

A problem document is served as ``application/problem+json`` with ``type``, ``title``,
``status``, ``detail`` and ``instance``; validation problems add ``errors``, one entry
per invalid field with its ``field`` path (``capabilities[0].code``), its JSON
``pointer`` (``#/capabilities/0/code``), a ``message`` and a machine ``code``.

Services raise :class:`Problem` subclasses (or DRF/Django exceptions); the exception
handler in :mod:`remag.api.exceptions` turns them into documents. Views never build
error responses by hand.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions, status

PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    title: str
    description: str


# Every ``type`` the API emits besides ``about:blank``; each is documented at
# ``/api/problems/<slug>`` and in docs/api.md.
PROBLEM_TYPES: dict[str, ProblemType] = {
    p.slug: p
    for p in (
        ProblemType(
            "validation-error",
            "Your request has invalid fields",
            "One or more fields failed validation; `errors` lists each field's path and message.",
        ),
        ProblemType(
            "malformed-request",
            "The request could not be read",
            "The body is not valid for its Content-Type (for example broken JSON), or the "
            "request has more query string or form fields (1,000), or files (100), than "
            "the API reads.",
        ),
        ProblemType(
            "not-authenticated",
            "Authentication is required",
            "Send a session cookie, `Authorization: Bearer <token>` or "
            "`Authorization: Api-Key <key>` (or `X-API-Key`).",
        ),
        ProblemType(
            "authentication-failed",
            "The credentials were not accepted",
            "The token or API key is unknown, revoked or expired, or its owner is inactive.",
        ),
        ProblemType(
            "permission-denied",
            "You may not do this",
            "The caller is authenticated but its organisation, role or key scope does not "
            "allow the action.",
        ),
        ProblemType("not-found", "Not found", "No such resource is visible to the caller."),
        ProblemType(
            "method-not-allowed", "Method not allowed", "The resource does not accept this method."
        ),
        ProblemType(
            "not-acceptable",
            "Cannot produce the requested media type",
            "Ask for application/json (errors also come as application/problem+json).",
        ),
        ProblemType(
            "unsupported-media-type",
            "Unsupported media type",
            "Send the body as one of the media types the endpoint accepts (usually "
            "application/json).",
        ),
        ProblemType(
            "length-required",
            "The body has no Content-Length",
            "Send the body with a Content-Length header: a body in chunked transfer encoding "
            "is not read (it would be read as empty).",
        ),
        ProblemType(
            "header-fields-too-large",
            "The request's header fields are too large",
            "More header fields, or longer ones, than the server reads (refused by the web "
            "server before remag sees the request).",
        ),
        ProblemType(
            "payload-too-large",
            "The request body is too large",
            "The body exceeds the endpoint's size limit given in `max_bytes`.",
        ),
        ProblemType(
            "throttled",
            "Too many requests",
            "The caller's rate limit is used up; retry after the number of seconds in the "
            "Retry-After header.",
        ),
        ProblemType(
            "conflict",
            "The request conflicts with the current state",
            "For example a unique identifier already registered; `existing` may link to it.",
        ),
        ProblemType(
            "idempotency-key-reused",
            "Idempotency-Key reused with a different request",
            "The same Idempotency-Key was already used with a different method, path or body. "
            "Use a new key for a new request.",
        ),
        ProblemType(
            "idempotency-key-in-progress",
            "A request with this Idempotency-Key is still being processed",
            "Retry after the first request has finished.",
        ),
        ProblemType(
            "server-error",
            "Internal server error",
            "Something failed on our side; nothing the request carried was half-applied. "
            "Retrying later is safe for idempotent requests.",
        ),
    )
}


def problem_type_uri(slug: str | None) -> str:
    if not slug:
        return "about:blank"
    return f"{settings.REMAG_PROBLEM_TYPE_BASE_URL}{slug}"


def problem_document(
    *,
    status_code: int,
    slug: str | None,
    detail: str,
    instance: str | None = None,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    code: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    problem_type = PROBLEM_TYPES.get(slug or "")
    document: dict[str, Any] = {
        "type": problem_type_uri(slug if problem_type else None),
        "title": title or (problem_type.title if problem_type else _status_phrase(status_code)),
        "status": status_code,
        "detail": detail,
    }
    if instance:
        document["instance"] = instance
    if code:
        document["code"] = code
    if errors is not None:
        document["errors"] = errors
    if extra:
        document.update(extra)
    return document


def problem_http_response(
    request: HttpRequest, *, status_code: int, slug: str | None, detail: str, **kwargs: Any
) -> JsonResponse:
    """A problem document for plain Django views and middleware (outside DRF)."""
    return JsonResponse(
        problem_document(
            status_code=status_code, slug=slug, detail=detail, instance=request.path, **kwargs
        ),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def _status_phrase(status_code: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


class Problem(exceptions.APIException):
    """A domain error that becomes a problem document of type ``slug``.

    ``extra`` adds members to the document (RFC 9457 extension members), e.g. a link to
    the existing resource on a conflict.
    """

    status_code = status.HTTP_400_BAD_REQUEST
    slug: str = ""
    default_detail = "The request could not be processed."
    default_code = "problem"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail, code)
        self.extra = extra or {}
        self.errors = errors


class Conflict(Problem):
    status_code = status.HTTP_409_CONFLICT
    slug = "conflict"
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PayloadTooLarge(Problem):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    slug = "payload-too-large"
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class IdempotencyKeyReused(Problem):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    slug = "idempotency-key-reused"
    default_detail = (
        "This Idempotency-Key was already used with a different request; use a new key."
    )
    default_code = "idempotency_key_reused"


class IdempotencyKeyInProgress(Problem):
    status_code = status.HTTP_409_CONFLICT
    slug = "idempotency-key-in-progress"
    default_detail = "A request with this Idempotency-Key is still being processed."
    default_code = "idempotency_key_in_progress"
