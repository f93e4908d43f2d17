"""The one rule for "the organisation acting in this request" (the owner of a new
supplier, procurement request, webhook endpoint or import)."""

import uuid
from typing import Any

import pytest

from remag.accounts.caller import Caller
from remag.accounts.selectors import ONBOARDERS, organization_acting
from remag.errors import InvalidInput
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def caller(*organizations: Any, operator: bool = False) -> Caller:
    return Caller(
        is_authenticated=True,
        user_id=uuid.uuid4(),
        api_key_id=None,
        organization_ids=frozenset(o.id for o in organizations),
        admin_organization_ids=frozenset(),
        organization_kinds=frozenset(o.kind for o in organizations),
        is_operator=operator,
    )


def refusal(**kwargs: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        organization_acting(**kwargs)
    return info.value


def test_the_callers_one_organisation_of_the_kind() -> None:
    sme, portal = OrganizationFactory(kind="sme"), OrganizationFactory(kind="portal")

    assert organization_acting(caller=caller(sme, portal), kinds=("sme",)) == sme
    assert organization_acting(caller=caller(portal), kinds=("sme",)) is None


def test_several_must_be_named_unless_the_first_will_do() -> None:
    a = OrganizationFactory(kind="portal", name="A portal")
    b = OrganizationFactory(kind="operator", name="B operators")
    both = caller(a, b)

    error = refusal(caller=both, kinds=ONBOARDERS, purpose="owns the endpoint", field="org")
    assert (error.field, error.detail) == (
        "org",
        "You belong to several organisations; say which one owns the endpoint.",
    )
    # By kind, then name: operator before portal.
    assert organization_acting(caller=both, kinds=ONBOARDERS, first_of_several=True) == b


def test_none_is_an_error_only_when_required() -> None:
    error = refusal(
        caller=caller(OrganizationFactory(kind="sme")),
        kinds=("manufacturer",),
        label="manufacturer",
        purpose="owns the request",
        required=True,
    )
    assert error.detail == "Say which manufacturer organisation owns the request."


def test_a_named_organisation_must_be_the_callers_active_one_of_the_kind() -> None:
    mine, theirs = OrganizationFactory(kind="sme"), OrganizationFactory(kind="sme")
    portal = OrganizationFactory(kind="portal")
    inactive = OrganizationFactory(kind="sme", is_active=False)
    me = caller(mine, portal, inactive)

    assert organization_acting(caller=me, kinds=("sme",), requested=mine.id) == mine
    assert refusal(caller=me, kinds=("sme",), requested=theirs.id).detail == (
        "You do not act for this organisation."
    )
    assert refusal(caller=me, kinds=("sme",), label="SME", requested=portal.id).detail == (
        "Not an SME organisation."
    )
    assert refusal(caller=me, kinds=("sme",), requested=inactive.id).field == "owner"


def test_operators_act_for_any_organisation_unless_told_not_to() -> None:
    sme = OrganizationFactory(kind="sme")
    operator = caller(OrganizationFactory(kind="operator"), operator=True)

    assert organization_acting(caller=operator, kinds=("sme",), requested=sme.id) == sme
    error = refusal(caller=operator, requested=sme.id, operators_act_for_any=False)
    assert error.detail == "You do not act for this organisation."
