import django_filters
from django.db.models import Q, QuerySet

from matching.choices import MatchStatus, RequestStatus
from matching.models import Match, ProcurementRequest
from remag.filtersets import BooleanFilter, FilterSet
from suppliers.choices import Layer


class RequestFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=RequestStatus.choices)
    layer = django_filters.ChoiceFilter(choices=Layer.choices)
    owner = django_filters.UUIDFilter(field_name="owner_id")
    capability = django_filters.CharFilter(
        field_name="required_capabilities__code",
        max_length=60,
        help_text="Requests that require this capability (a code).",
    )
    q = django_filters.CharFilter(
        method="filter_q", max_length=200, help_text="Words in the title or description."
    )

    class Meta:
        model = ProcurementRequest
        fields = ("status", "layer", "owner", "capability", "q")

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        for word in value.split()[:10]:
            queryset = queryset.filter(Q(title__icontains=word) | Q(description__icontains=word))
        return queryset


class MatchFilterSet(FilterSet):
    min_score = django_filters.NumberFilter(
        field_name="score", lookup_expr="gte", help_text="Only matches scoring at least this."
    )
    # No DISTINCT (the default for multiple choices): it would sort every matching row.
    status = django_filters.MultipleChoiceFilter(
        choices=MatchStatus.choices,
        distinct=False,
        help_text="Only matches in these lifecycle statuses (repeat the parameter).",
    )
    qualifies = BooleanFilter(
        help_text="False lists matches the buyer acted on that no longer qualify."
    )

    class Meta:
        model = Match
        fields = ("min_score", "status", "qualifies")


class OpportunityFilterSet(MatchFilterSet):
    """A supplier's opportunities: ``min_score`` is on the public score, the one it reads."""

    min_score = django_filters.NumberFilter(
        field_name="public_score",
        lookup_expr="gte",
        help_text="Only opportunities whose (public) score is at least this.",
    )
