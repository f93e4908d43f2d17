"""What every FilterSet of the API shares."""

from typing import Any

import django_filters


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet, with its form class built once per FilterSet class
    rather than on every request (``get_form_class`` makes a new class, and a new form
    field per filter, each time: a fifth of a list page's time). Subclasses whose form
    depends on the request must override ``get_form_class`` back."""

    def get_form_class(self) -> Any:
        cls = type(self)
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            cls._form_class = form_class
        return form_class
