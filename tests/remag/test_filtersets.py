"""remag.filtersets.FilterSet: cheaper per request, the same behaviour as django-filter's."""

import django_filters
import pytest

from remag.accounts.models import Organization
from remag.filtersets import FilterSet
from suppliers.filtersets import SupplierFilterSet
from suppliers.models import Supplier
from tests.factories import OrganizationFactory


@pytest.mark.django_db
def test_forms_of_one_class_validate_independently() -> None:
    queryset = Supplier.objects.all()
    good = SupplierFilterSet({"state": "TN", "enterprise_size": "micro"}, queryset=queryset)
    bad = SupplierFilterSet({"state": "XX", "enterprise_size": "huge"}, queryset=queryset)
    assert bad.form.is_valid() is False
    assert good.form.is_valid() is True
    assert set(bad.form.errors) == {"state", "enterprise_size"}
    assert good.form.errors == {}
    assert good.form.cleaned_data["state"] != bad.form.data["state"]


@pytest.mark.django_db
def test_a_forms_field_dict_is_its_own() -> None:
    form_class = SupplierFilterSet(queryset=Supplier.objects.all()).get_form_class()
    first = SupplierFilterSet({}, queryset=Supplier.objects.all()).form
    first.fields.pop("state")
    second = SupplierFilterSet({"state": "TN"}, queryset=Supplier.objects.all()).form
    assert "state" in form_class.base_fields
    assert "state" in second.fields
    # The fields themselves are shared: built once per class, never changed by a form.
    assert second.fields["layer"] is form_class.base_fields["layer"]


class _OwnerFilterSet(FilterSet):
    owner = django_filters.ModelChoiceFilter(queryset=Organization.objects.all())

    class Meta:
        model = Supplier
        fields = ("owner",)


@pytest.mark.django_db
def test_a_model_choice_field_is_copied_per_form() -> None:
    """Its queryset caches the choices it has read: each form gets its own."""
    first = _OwnerFilterSet({}, queryset=Supplier.objects.all()).form
    second = _OwnerFilterSet({}, queryset=Supplier.objects.all()).form
    assert first.fields["owner"] is not second.fields["owner"]
    assert first.fields["owner"].queryset is not second.fields["owner"].queryset


def _own_organisations(request: object) -> object:
    return Organization.objects.filter(name=getattr(request, "organisation_name", ""))


class _RequestFilterSet(FilterSet):
    owner = django_filters.ModelChoiceFilter(queryset=_own_organisations)

    class Meta:
        model = Supplier
        fields = ("owner",)


@pytest.mark.django_db
def test_choices_that_depend_on_the_request_are_the_requests_own() -> None:
    """django-filter resolves a callable queryset with the request as it builds the form:
    such a form class is built per request, never kept from the first caller's."""
    first = OrganizationFactory(name="A")
    second = OrganizationFactory(name="B")

    class Caller:
        def __init__(self, name: str) -> None:
            self.organisation_name = name

    def choices(name: str) -> list[object]:
        filterset = _RequestFilterSet({}, queryset=Supplier.objects.all(), request=Caller(name))
        return list(filterset.form.fields["owner"].queryset)

    assert choices("A") == [first]
    assert choices("B") == [second]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("false", False),
        ("False", False),
        ("0", False),
        ("", None),
        (" true ", True),
    ],
)
def test_a_boolean_filter_reads_true_and_false(text: str, expected: bool | None) -> None:
    filterset = SupplierFilterSet({"women_owned": text}, queryset=Supplier.objects.all())
    assert filterset.form.is_valid(), filterset.form.errors
    assert filterset.form.cleaned_data["women_owned"] is expected


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["perhaps", "yes", "2", "none", "tru", "\x00"])
def test_a_boolean_filter_refuses_any_other_word(text: str) -> None:
    """django-filter's own boolean field reads an unknown word as no filter, answering
    every row; here it is an error naming the parameter."""
    filterset = SupplierFilterSet({"women_owned": text}, queryset=Supplier.objects.all())
    assert not filterset.form.is_valid()
    assert set(filterset.form.errors) == {"women_owned"}
