"""A serializer field for JSON numbers, shared by the API's serializers and the input
serializers the imports validate rows with (which may not import the API layer)."""

from typing import Any

from rest_framework import serializers


class NumberField(serializers.FloatField):
    """A JSON number as a float. DRF's ``FloatField`` takes ``true`` and ``false`` for 1 and
    0 (Python's ``bool`` is an ``int``); a field asking for a number refuses them, as its
    integer and decimal fields do."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)
