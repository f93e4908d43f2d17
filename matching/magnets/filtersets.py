import django_filters
from django.db.models import Q, QuerySet

from matching.magnets.choices import (
    Application,
    MatchStatus,
    Material,
    OfferStatus,
    PoolStatus,
    RequirementStatus,
    Shape,
)
from matching.magnets.demand import DEFAULT_GROUPS, GROUPS
from matching.magnets.models import MagnetMatch, MagnetOffer, MagnetPool, MagnetRequirement
from remag.filtersets import BooleanFilter, FilterSet
from suppliers.choices import TemperatureClass
from suppliers.states import STATE_CHOICES


def _words(queryset: QuerySet, value: str) -> QuerySet:
    for word in value.split()[:10]:
        queryset = queryset.filter(title__icontains=word)
    return queryset


class MagnetOfferFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=OfferStatus.choices)
    material = django_filters.ChoiceFilter(choices=Material.choices)
    owner = django_filters.UUIDFilter(field_name="owner_id")
    plant_state = django_filters.ChoiceFilter(choices=STATE_CHOICES)
    q = django_filters.CharFilter(
        method="filter_q", max_length=200, help_text="Words in the title."
    )

    class Meta:
        model = MagnetOffer
        fields = ("status", "material", "owner", "plant_state", "q")

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return _words(queryset, value)


class MagnetRequirementFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=RequirementStatus.choices)
    material = django_filters.ChoiceFilter(choices=Material.choices)
    application = django_filters.ChoiceFilter(choices=Application.choices)
    shape = django_filters.ChoiceFilter(choices=Shape.choices)
    delivery_state = django_filters.ChoiceFilter(choices=STATE_CHOICES)
    q = django_filters.CharFilter(
        method="filter_q", max_length=200, help_text="Words in the title."
    )

    class Meta:
        model = MagnetRequirement
        fields = ("status", "material", "application", "shape", "delivery_state", "q")

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return _words(queryset, value)


class MagnetMatchFilterSet(FilterSet):
    min_score = django_filters.NumberFilter(
        field_name="score", lookup_expr="gte", help_text="Only matches scoring at least this."
    )
    status = django_filters.MultipleChoiceFilter(
        choices=MatchStatus.choices, distinct=False, help_text="Repeat the parameter."
    )
    qualifies = BooleanFilter()

    class Meta:
        model = MagnetMatch
        fields = ("min_score", "status", "qualifies")


class MagnetLeadFilterSet(MagnetMatchFilterSet):
    """A maker's leads: ``min_score`` is on the public score, the one the maker reads."""

    min_score = django_filters.NumberFilter(
        field_name="public_score",
        lookup_expr="gte",
        help_text="Only leads whose (public) score is at least this.",
    )


class MagnetPoolFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=PoolStatus.choices)
    material = django_filters.ChoiceFilter(choices=Material.choices)
    shape = django_filters.ChoiceFilter(choices=Shape.choices)
    delivery_state = django_filters.ChoiceFilter(choices=STATE_CHOICES)

    class Meta:
        model = MagnetPool
        fields = ("status", "material", "shape", "delivery_state")


class GroupByFilter(django_filters.BaseCSVFilter, django_filters.ChoiceFilter):
    """Names the grouping; filters nothing (the view reads it from the form)."""


class DemandFilterSet(FilterSet):
    """Which open requirements to sum, and how to group them."""

    group_by = GroupByFilter(
        choices=[(g, g) for g in GROUPS],
        method="filter_nothing",
        help_text=f"Comma-separated, of {', '.join(GROUPS)}; default {','.join(DEFAULT_GROUPS)}.",
    )
    material = django_filters.ChoiceFilter(choices=Material.choices)
    grade = django_filters.CharFilter(max_length=20, method="filter_grade")
    temperature_class = django_filters.ChoiceFilter(choices=TemperatureClass.choices)
    application = django_filters.ChoiceFilter(choices=Application.choices)
    shape = django_filters.ChoiceFilter(choices=Shape.choices)
    delivery_state = django_filters.ChoiceFilter(choices=STATE_CHOICES)

    class Meta:
        model = MagnetRequirement
        fields = (
            "group_by",
            "material",
            "grade",
            "temperature_class",
            "application",
            "shape",
            "delivery_state",
        )

    def filter_nothing(self, queryset: QuerySet, name: str, value: object) -> QuerySet:
        return queryset

    def filter_grade(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(grade__iexact=value.strip().replace(" ", "")))
