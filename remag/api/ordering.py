from typing import Any

from rest_framework import exceptions, filters


class StrictOrderingFilter(filters.OrderingFilter):
    """``ordering=`` with the view's ``ordering_fields``; an unknown field is a 400
    naming the parameter rather than being silently ignored. The cursor paginator
    applies the ordering, with ``id`` as the tie-break so pages never overlap."""

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> Any:
        params = request.query_params.get(self.ordering_param)
        if params:
            fields = [param.strip() for param in params.split(",") if param.strip()]
            valid = self.remove_invalid_fields(queryset, fields, view, request)
            if len(valid) != len(fields):
                allowed = ", ".join(
                    name for name, _ in self.get_valid_fields(queryset, view, {"request": request})
                )
                raise exceptions.ValidationError(
                    {self.ordering_param: [f"Order by one of: {allowed} (prefix - to reverse)."]}
                )
            return valid
        return self.get_default_ordering(view)

    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        # Ordering is applied by the cursor paginator (it must know it to build cursors).
        self.get_ordering(request, queryset, view)
        return queryset
