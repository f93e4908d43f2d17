from datetime import UTC, datetime, timedelta

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django_filters.fields import IsoDateTimeField
from rest_framework.exceptions import ValidationError

from remag.webhooks.choices import EventType
from remag.webhooks.models import Event

MAX_UTC_OFFSET = timedelta(hours=14)  # the widest offset in use; PostgreSQL refuses ±16h


class BoundedIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time whose UTC offset is a real one and that stays representable in
    UTC: ``0001-01-01T00:00+05:00`` or ``+20:38`` would otherwise fail in the database."""

    def to_python(self, value: object) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        offset = parsed.utcoffset()
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            raise forms.ValidationError("The UTC offset must be within ±14:00.")
        try:
            parsed.astimezone(UTC)
        except OverflowError as exc:
            raise forms.ValidationError("The time is out of range.") from exc
        return parsed


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class EventFilterSet(django_filters.FilterSet):
    type = django_filters.MultipleChoiceFilter(
        choices=EventType.choices,
        distinct=False,
        help_text="Only these types (repeat the parameter).",
    )
    since = BoundedIsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", help_text="Occurred at or after (ISO 8601)."
    )
    until = BoundedIsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", help_text="Occurred before (ISO 8601)."
    )
    after = django_filters.UUIDFilter(
        method="filter_after",
        help_text="Only events after this event (by time, then id): the catch-up point.",
    )

    class Meta:
        model = Event
        fields = ("type", "since", "until", "after")

    def filter_after(self, queryset: QuerySet, name: str, value: object) -> QuerySet:
        anchor = queryset.filter(id=value).values_list("occurred_at", "id").first()
        if anchor is None:
            raise ValidationError({"after": ["No such event among yours."]})
        occurred_at, event_id = anchor
        return queryset.filter(
            Q(occurred_at__gt=occurred_at) | Q(occurred_at=occurred_at, id__gt=event_id)
        )
