"""Reads for organisations and credentials, already limited to what the caller may see."""

from collections.abc import Collection
from uuid import UUID

from django.db.models import QuerySet

from remag.accounts.caller import Caller
from remag.accounts.choices import OrganizationKind
from remag.accounts.models import (
    Delegation,
    Invitation,
    Membership,
    Organization,
    OrganizationAPIKey,
    User,
    UserToken,
)
from remag.errors import InvalidInput, NotAllowed

# Organisations that register suppliers on an SME's behalf.
ONBOARDERS = (OrganizationKind.PORTAL, OrganizationKind.OPERATOR)


def organization_list(*, caller: Caller) -> QuerySet[Organization]:
    queryset = Organization.objects.all()
    if caller.is_operator:
        return queryset
    return queryset.filter(id__in=caller.organization_ids)


def user_by_email(*, email: str) -> User | None:
    """The person with this email address (ignoring case), if any."""
    if not email:
        return None
    return User.objects.filter(email__iexact=email).first()


def membership_list_for_user(*, user_id: object) -> QuerySet[Membership]:
    return Membership.objects.filter(user_id=user_id).select_related("organization")


def organization_manage_check(*, caller: Caller, organization: Organization) -> None:
    """Its admins (people) and operators manage an organisation's people."""
    if not (caller.is_operator or caller.administers(organization.id)):
        raise NotAllowed(
            "Only administrators of the organisation (and operators) may do this.",
            code="not_organization_admin",
        )


def membership_list(*, organization_id: object) -> QuerySet[Membership]:
    """An organisation's people (the caller's right to see the organisation is checked
    by reading it through :func:`organization_list`)."""
    return (
        Membership.objects.filter(organization_id=organization_id)
        .select_related("user", "organization")
        .order_by("created_at", "id")
    )


def invitation_list(*, organization_id: object) -> QuerySet[Invitation]:
    return Invitation.objects.filter(organization_id=organization_id).select_related("organization")


def delegation_list(*, organization_id: object) -> QuerySet[Delegation]:
    """Delegations an organisation granted (revoked ones too, newest first)."""
    return Delegation.objects.filter(grantor_id=organization_id).select_related("grantee")


def api_key_list(*, organization_id: object) -> QuerySet[OrganizationAPIKey]:
    return OrganizationAPIKey.objects.filter(organization_id=organization_id).select_related(
        "organization"
    )


def user_token_list(*, user_id: object) -> QuerySet[UserToken]:
    return UserToken.objects.filter(user_id=user_id)


def organization_acting(
    *,
    caller: Caller,
    kinds: Collection[str] | None = None,
    requested: UUID | None = None,
    label: str = "",
    purpose: str = "acts",
    field: str = "owner",
    required: bool = False,
    first_of_several: bool = False,
    operators_act_for_any: bool = True,
) -> Organization | None:
    """The organisation acting in this request: the one that will own what is created.

    With ``requested`` (an id the client sent in ``field``), that organisation, if the
    caller acts for it (operators for any, unless ``operators_act_for_any`` is off), it is
    active and of one of ``kinds``. Without, the caller's one active organisation of
    ``kinds``: with several, the first by kind then name when ``first_of_several``, else
    the client must say which; with none, ``None`` (or an error when ``required``).

    Refusals are :class:`InvalidInput` on ``field``; ``label`` names the kind
    ("manufacturer") and ``purpose`` what the organisation does ("owns the request").
    """
    organizations = Organization.objects.filter(is_active=True)
    if kinds is not None:
        organizations = organizations.filter(kind__in=tuple(kinds))
    what = f"{label} organisation" if label else "organisation"
    if requested is not None:
        allowed = caller.acts_for(requested) or (operators_act_for_any and caller.is_operator)
        if not allowed:
            raise InvalidInput("You do not act for this organisation.", field=field)
        organization = organizations.filter(id=requested).first()
        if organization is None:
            article = "an" if what[0].lower() in "aeiou" or what.startswith("SME") else "a"
            raise InvalidInput(f"Not {article} {what}.", field=field)
        return organization
    own = organizations.filter(id__in=caller.organization_ids).order_by("kind", "name")
    if first_of_several:
        return own.first()
    candidates = list(own[:2])
    if len(candidates) > 1:
        raise InvalidInput(f"You belong to several {what}s; say which one {purpose}.", field=field)
    if candidates:
        return candidates[0]
    if required:
        raise InvalidInput(f"Say which {what} {purpose}.", field=field)
    return None


def operator_organization() -> Organization | None:
    """The operators' organisation (for a superuser acting without a membership)."""
    return Organization.objects.filter(kind=OrganizationKind.OPERATOR, is_active=True).first()
