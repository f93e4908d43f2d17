"""Base classes every API view derives from, so each one stays declarative."""

from typing import Any

from rest_framework import exceptions, viewsets
from rest_framework.views import APIView

from remag.accounts.permissions import IsVerifiedToWrite

UUID_REGEX = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


class ThrottleFirstMixin:
    """Throttle before checking permissions, and count failed authentication too.

    DRF checks permissions first, so a caller refused with 401/403 (guessing keys, say)
    would never be throttled. Here a failed authentication still spends the caller's
    (anonymous, per-address) budget before the 401 is raised.
    """

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        self.format_kwarg = self.get_format_suffix(**kwargs)  # type: ignore[attr-defined]
        neg = self.perform_content_negotiation(request)  # type: ignore[attr-defined]
        request.accepted_renderer, request.accepted_media_type = neg
        version, scheme = self.determine_version(request, *args, **kwargs)  # type: ignore[attr-defined]
        request.version, request.versioning_scheme = version, scheme

        try:
            self.perform_authentication(request)  # type: ignore[attr-defined]
        except exceptions.APIException:
            self.check_throttles(request)  # type: ignore[attr-defined]
            raise
        self.check_throttles(request)  # type: ignore[attr-defined]
        self.check_verified_to_write(request)
        self.check_permissions(request)  # type: ignore[attr-defined]
        self.parse_body(request)

    def parse_body(self, request: Any) -> None:
        """Parse a write's body before the handler runs: an action that takes no body
        (publish, cancel, ping, rotate, ...) never reads it, and would answer 200 to
        broken JSON or a media type it cannot read. Now every write with a body is parsed,
        so those are a ``400 malformed-request`` or a ``415`` whatever the endpoint, as
        for the endpoints that read theirs. An empty body is not parsed."""
        if request.method not in ("POST", "PUT", "PATCH"):
            return
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:  # refused before the view (RequestBodyLimitMiddleware)
            return
        if length > 0:
            request.data  # noqa: B018 (parsed for its errors; DRF keeps the result)

    def check_verified_to_write(self, request: Any) -> None:
        """The one place the unverified-reads-only rule is applied, before any view's own."""
        check = IsVerifiedToWrite()
        if not check.has_permission(request, self):
            self.permission_denied(request, message=check.message, code=check.code)  # type: ignore[attr-defined]


class RemagAPIView(ThrottleFirstMixin, APIView):
    """Base for plain API views (not model-backed)."""


class RemagGenericViewSet(ThrottleFirstMixin, viewsets.GenericViewSet):
    """UUID lookups, cursor pagination, problem documents: all from settings and here.

    Subclasses declare ``queryset``/``get_queryset``, ``serializer_class``,
    ``filterset_class``, ``permission_classes`` and, for object-level checks,
    ``owner_field`` (the dotted path to the owning Organization).
    """

    lookup_value_regex = UUID_REGEX
    owner_field = "owner"
