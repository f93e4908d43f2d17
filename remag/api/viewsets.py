"""Base classes every API view set derives from, so each one stays declarative."""

from rest_framework import viewsets

UUID_REGEX = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


class RemagGenericViewSet(viewsets.GenericViewSet):
    """UUID lookups, cursor pagination, problem documents: all from settings and here.

    Subclasses declare ``queryset``/``get_queryset``, ``serializer_class``,
    ``filterset_class``, ``permission_classes`` and, for object-level checks,
    ``owner_field`` (the dotted path to the owning Organization).
    """

    lookup_value_regex = UUID_REGEX
    owner_field = "owner"


class RemagModelViewSet(viewsets.ModelViewSet, RemagGenericViewSet):
    lookup_value_regex = UUID_REGEX
