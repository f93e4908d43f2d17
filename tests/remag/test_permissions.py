"""The permission building blocks later apps reuse, checked against real callers."""

from typing import Any

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory, force_authenticate

from remag.accounts.authentication import APIKeyPrincipal
from remag.accounts.permissions import (
    IsOperator,
    IsOrganizationAdmin,
    IsOrganizationMember,
    organization_kind,
)
from tests.factories import APIKeyFactory, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


class View:
    owner_field = "owner"


class Owned:
    """Any object with an owning organisation, as later models will have."""

    def __init__(self, organization: Any) -> None:
        self.owner_id = organization.id


def request_as(user: Any) -> Request:
    raw = APIRequestFactory().get("/")
    force_authenticate(raw, user=user)
    return Request(raw, authenticators=[])


def test_organization_kind_admits_only_that_kind_and_operators() -> None:
    manufacturers_only = organization_kind("manufacturer")()
    buyer = MembershipFactory(organization=OrganizationFactory(kind="manufacturer")).user
    supplier = MembershipFactory(organization=OrganizationFactory(kind="sme")).user
    operator = MembershipFactory(organization=OrganizationFactory(kind="operator")).user

    assert manufacturers_only.has_permission(request_as(buyer), View())
    assert not manufacturers_only.has_permission(request_as(supplier), View())
    assert manufacturers_only.has_permission(request_as(operator), View())


def test_organization_kind_applies_to_api_keys() -> None:
    portal_key = APIKeyFactory(organization=OrganizationFactory(kind="portal"))
    request = request_as(APIKeyPrincipal(portal_key))

    assert organization_kind("portal", "sme")().has_permission(request, View())
    assert not organization_kind("manufacturer")().has_permission(request, View())


def test_member_of_owner_passes_object_check_others_do_not() -> None:
    membership = MembershipFactory()
    outsider = MembershipFactory().user
    obj = Owned(membership.organization)
    check = IsOrganizationMember()

    assert check.has_object_permission(request_as(membership.user), View(), obj)
    assert not check.has_object_permission(request_as(outsider), View(), obj)


def test_inactive_organisation_grants_nothing() -> None:
    membership = MembershipFactory()
    membership.organization.is_active = False
    membership.organization.save()

    assert not IsOrganizationMember().has_object_permission(
        request_as(membership.user), View(), Owned(membership.organization)
    )


def test_admin_check_needs_the_admin_role_in_that_organisation() -> None:
    admin = MembershipFactory(role="admin")
    member = MembershipFactory(role="member", organization=admin.organization)
    obj = Owned(admin.organization)
    check = IsOrganizationAdmin()

    assert check.has_object_permission(request_as(admin.user), View(), obj)
    assert not check.has_object_permission(request_as(member.user), View(), obj)
    assert not check.has_object_permission(
        request_as(admin.user), View(), Owned(OrganizationFactory())
    )


def test_operator_is_a_member_of_an_operator_organisation_or_a_superuser() -> None:
    operator = MembershipFactory(organization=OrganizationFactory(kind="operator")).user
    superuser = UserFactory(is_superuser=True)
    plain = MembershipFactory().user

    assert IsOperator().has_permission(request_as(operator), View())
    assert IsOperator().has_permission(request_as(superuser), View())
    assert not IsOperator().has_permission(request_as(plain), View())
    # Operators pass object checks on anyone's objects.
    assert IsOrganizationMember().has_object_permission(
        request_as(operator), View(), Owned(OrganizationFactory())
    )
