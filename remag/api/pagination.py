from typing import Any

from rest_framework import exceptions, pagination


class CursorPagination(pagination.CursorPagination):
    """Default pagination for every list: opaque cursors, stable under inserts.

    Lists are ordered newest first; a view may set its own ``ordering``, whose first
    field must be indexed. ``page_size`` may be asked for, up to ``max_page_size``.
    A malformed cursor is a 400 naming the ``cursor`` parameter, not a 404.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> Any:
        ordering: Any = None
        for backend in getattr(view, "filter_backends", ()):
            if hasattr(backend, "get_ordering"):
                ordering = backend().get_ordering(request, queryset, view)
        ordering = ordering or getattr(view, "ordering", None) or self.ordering
        ordering = (ordering,) if isinstance(ordering, str) else tuple(ordering)
        if not any(field.lstrip("-") in ("id", "pk") for field in ordering):
            ordering = (*ordering, "-id" if ordering[0].startswith("-") else "id")
        return ordering

    def decode_cursor(self, request: Any) -> Any:
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as exc:
            raise exceptions.ValidationError(
                {"cursor": ["This cursor is not valid; use the `next` or `previous` link."]}
            ) from exc
