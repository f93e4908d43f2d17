"""A field asking for a number refuses JSON ``true`` and ``false``: DRF's ``FloatField``
takes them for 1 and 0, so every writable float field of remag's serializers is a
``NumberField`` (remag.numbers), whether declared or made by a ``ModelSerializer``."""

from typing import Any

import pytest
from django.urls import get_resolver
from rest_framework import serializers

from remag.numbers import NumberField

OURS = ("remag.", "suppliers.", "matching.", "stats.")


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found.add(sub)
        found |= _subclasses(sub)
    return found


def _plain_floats(field: Any, path: str, seen: set[int]) -> list[str]:
    if id(field) in seen:
        return []
    seen.add(id(field))
    if isinstance(field, serializers.ListSerializer | serializers.ListField):
        return _plain_floats(field.child, f"{path}[]", seen)
    if isinstance(field, serializers.DictField):
        return _plain_floats(field.child, f"{path}{{}}", seen)
    if isinstance(field, serializers.Serializer):
        found = []
        for name, child in field.fields.items():
            found += _plain_floats(child, f"{path}.{name}", seen)
        return found
    if (
        isinstance(field, serializers.FloatField)
        and not isinstance(field, NumberField)
        and not field.read_only
    ):
        return [path]
    return []


def test_every_writable_float_field_refuses_booleans() -> None:
    get_resolver().url_patterns  # noqa: B018 (imports every view, and so every serializer)
    checked, plain = 0, []
    for cls in _subclasses(serializers.Serializer):
        if not cls.__module__.startswith(OURS) or isinstance(cls, serializers.ListSerializer):
            continue
        try:
            instance = cls()
            instance.fields  # noqa: B018
        except Exception:  # noqa: BLE001, S112 (a serializer that needs its view's context)
            continue
        checked += 1
        plain += _plain_floats(instance, cls.__qualname__, set())
    assert checked > 50
    assert plain == []


@pytest.mark.parametrize("value", [True, False])
def test_a_number_field_refuses_a_boolean(value: bool) -> None:
    field = NumberField()
    with pytest.raises(serializers.ValidationError, match="A valid number is required"):
        field.run_validation(value)
    assert field.run_validation(2) == 2.0
    assert serializers.FloatField().run_validation(value) == float(value), "DRF's own takes it"
