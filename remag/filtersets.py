"""What every FilterSet of the API shares."""

import copy
from typing import Any

import django_filters
from django import forms
from django_filters.filters import FilterMethod


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet, made cheaper per request, with the same behaviour:

    - its form class is built once per FilterSet class rather than on every request
      (``get_form_class`` makes a new class, and a new form field per filter, each
      time: a fifth of a list page's time). Subclasses whose form depends on the
      request must override ``get_form_class`` back;
    - its filters are shallow copies of the class's (django-filter deep-copies every
      filter, with its choices and help texts, on every request). A copy gets its own
      ``parent`` and ``model``, and its own ``FilterMethod`` (which would otherwise still
      point at the class's filter, whose ``parent`` is whichever request set it last);
      what the copies share (lookups, choices, labels, a built form field) is read-only;
    - its form's fields are the form class's own, not deep copies (a Django form
      deep-copies every field, with its widget, choices and validators, per instance:
      another tenth of a list page). Validating a form reads its fields and never
      changes them. A form with a model choice field (whose queryset a form instance
      caches) keeps Django's deep copies.
    """

    def __init__(self, data: Any = None, queryset: Any = None, **kwargs: Any) -> None:
        base_filters = self.base_filters
        # django-filter's __init__ deep-copies base_filters: give it none to copy.
        self.base_filters = {}
        try:
            super().__init__(data, queryset, **kwargs)
        finally:
            del self.base_filters  # the class's again
        model = self.queryset.model
        self.filters = {}
        for name, base in base_filters.items():
            filter_ = copy.copy(base)
            if isinstance(base.__dict__.get("filter"), FilterMethod):
                filter_.filter = FilterMethod(filter_)
            filter_.model = model
            filter_.parent = self
            self.filters[name] = filter_

    def get_form_class(self) -> Any:
        cls = type(self)
        if any(callable(getattr(f, "queryset", None)) for f in self.base_filters.values()):
            # A filter whose choices depend on the request (django-filter's callable
            # queryset): its form is the request's own.
            return super().get_form_class()
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            fields = form_class.base_fields
            if not any(isinstance(f, forms.ModelChoiceField) for f in fields.values()):
                form_class.base_fields = _SharedFields(fields)
            cls._form_class = form_class
        return form_class


class _SharedFields(dict[str, Any]):
    """A form class's fields, which its forms use as they are: ``BaseForm.__init__``
    deep-copies them, and this copy is a shallow one."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return dict(self)


class StrictBooleanField(forms.NullBooleanField):
    """``true`` or ``false`` (``1``/``0``, any case); absent or empty, no filter. Anything
    else is an error naming the parameter: django-filter's own field reads an unknown
    word (``women_owned=perhaps``) as no filter at all, answering rows the caller did
    not ask for."""

    widget = forms.TextInput

    def to_python(self, value: Any) -> bool | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError("Must be true or false.", code="invalid")

    def validate(self, value: Any) -> None:
        pass


class BooleanFilter(django_filters.BooleanFilter):
    """django-filter's ``BooleanFilter`` with :class:`StrictBooleanField`."""

    field_class = StrictBooleanField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The parameter's own text reaches the field (django-filter's boolean widgets
        # turn any word they do not know into "no filter").
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)
