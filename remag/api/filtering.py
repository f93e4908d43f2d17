from typing import Any

from django_filters.rest_framework import DjangoFilterBackend


class ListedModelFilterBackend(DjangoFilterBackend):
    """django-filter's backend for a detail action that lists another model than its
    viewset's (a request's matches, an offer's leads): the action declares the listed
    model as its ``queryset`` (``X.objects.none()``) and filters what it lists itself.
    The browsable API builds its filter form from ``view.get_queryset()``, the
    viewset's model, which django-filter refuses (a 500); the form is built over the
    listed model instead."""

    def to_html(self, request: Any, queryset: Any, view: Any) -> Any:
        listed = getattr(view, "queryset", None)
        if listed is not None and listed.model is not queryset.model:
            queryset = listed
        return super().to_html(request, queryset, view)
